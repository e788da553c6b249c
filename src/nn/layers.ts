/** The common layers. Each keeps PyTorch's parameter names and default initialization. */
import { DTypeError, ShapeError, ValueError, fmtShape, fmtValue } from '../../runtime/errors.js';
import { Tensor } from '../tensor.js';
import { iota, ones, zeros } from '../ops/creation.js';
import { eq, gelu, relu, sigmoid, silu, tanh, where } from '../ops/elementwise.js';
import { indexSelect, indexedAs } from '../ops/indexing.js';
import { flatten, reshape } from '../ops/shape.js';
import { dropout, layerNorm, linear } from './functional.js';
import { defaultBound, normal, uniform } from './init.js';
import { Module, parameter } from './module.js';

/** A module that maps one tensor to one tensor. */
export interface Layer extends Module {
  forward(x: Tensor): Tensor;
}

function checkSize(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new ValueError(`${op}: ${name} must be a positive integer (got ${v})`);
}

/** y = x Wᵀ + b, with W [outFeatures, inFeatures]. */
export class Linear extends Module implements Layer {
  weight: Tensor;
  bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, options: { bias?: boolean } = {}) {
    super();
    checkSize('Linear', 'inFeatures', inFeatures);
    checkSize('Linear', 'outFeatures', outFeatures);
    const bound = defaultBound(inFeatures);
    this.weight = parameter(uniform([outFeatures, inFeatures], bound));
    this.bias = options.bias === false ? null : parameter(uniform([outFeatures], bound));
  }
  forward(x: Tensor): Tensor {
    if (x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new ShapeError(`Linear: expects inputs with ${this.inFeatures} features in the last dim (got ${fmtShape(x.shape)})`);
    }
    return linear(x, this.weight, this.bias);
  }
}

/** Runs layers in order; children are named 0, 1, … as in PyTorch. */
export class Sequential extends Module implements Layer {
  readonly layers: Layer[];
  constructor(...layers: Layer[]) {
    super();
    this.layers = layers;
  }
  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const layer of this.layers) y = layer.forward(y);
    return y;
  }
}

/** Activation layers. */
export class ReLU extends Module implements Layer { forward(x: Tensor): Tensor { return relu(x); } }
export class GELU extends Module implements Layer {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') { super(); }
  forward(x: Tensor): Tensor { return gelu(x, this.approximate); }
}
export class SiLU extends Module implements Layer { forward(x: Tensor): Tensor { return silu(x); } }
export class Tanh extends Module implements Layer { forward(x: Tensor): Tensor { return tanh(x); } }
export class Sigmoid extends Module implements Layer { forward(x: Tensor): Tensor { return sigmoid(x); } }

/** Flattens dims startAxis..endAxis (by default all but the batch dim). */
export class Flatten extends Module implements Layer {
  constructor(readonly startAxis = 1, readonly endAxis = -1) { super(); }
  forward(x: Tensor): Tensor { return flatten(x, this.startAxis, this.endAxis); }
}

/** Dropout with probability p in training mode; identity in eval mode. Draws from the seeded generator. */
export class Dropout extends Module implements Layer {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ValueError(`Dropout: p must be in [0, 1] (got ${p})`);
  }
  forward(x: Tensor): Tensor { return dropout(x, this.p, this.training); }
}

/** Layer normalization over the trailing `normalizedShape` dims, with learnable scale and shift. */
export class LayerNorm extends Module implements Layer {
  readonly normalizedShape: number[];
  weight: Tensor | null;
  bias: Tensor | null;
  constructor(normalizedShape: number | number[], readonly eps = 1e-5, options: { elementwiseAffine?: boolean } = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape.slice();
    const affine = options.elementwiseAffine !== false;
    this.weight = affine ? parameter(ones(this.normalizedShape)) : null;
    this.bias = affine ? parameter(zeros(this.normalizedShape)) : null;
  }
  forward(x: Tensor): Tensor { return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps); }
}

/**
 * A lookup table of `numEmbeddings` vectors of size `embeddingDim`, initialized N(0, 1).
 * With `paddingIdx`, that row starts at zero and receives no gradient, as in PyTorch.
 */
export class Embedding extends Module implements Layer {
  weight: Tensor;
  readonly paddingIdx: number | null;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: { paddingIdx?: number | null } = {}) {
    super();
    checkSize('Embedding', 'numEmbeddings', numEmbeddings);
    checkSize('Embedding', 'embeddingDim', embeddingDim);
    const pad = options.paddingIdx ?? null;
    if (pad !== null && (!Number.isInteger(pad) || pad < -numEmbeddings || pad >= numEmbeddings)) {
      throw new ValueError(`Embedding: paddingIdx must be an integer in ${-numEmbeddings}..${numEmbeddings - 1} (got ${pad})`);
    }
    this.paddingIdx = pad === null ? null : pad < 0 ? pad + numEmbeddings : pad;
    const w = normal([numEmbeddings, embeddingDim]);
    if (this.paddingIdx !== null) w.narrow(0, this.paddingIdx, 1).zero_();
    this.weight = parameter(w);
  }
  /** int32 indices of any shape → [...indices.shape, embeddingDim]. */
  forward(indices: Tensor): Tensor {
    if (!(indices instanceof Tensor) || indices.dtype !== 'int32') {
      const got = indices instanceof Tensor ? `${indices.dtype}${fmtShape(indices.shape)}` : fmtValue(indices);
      throw new DTypeError(`Embedding: indices must be an int32 tensor (got ${got})`);
    }
    const flat = reshape(indices, [indices.size]);
    let table = this.weight;
    if (this.paddingIdx !== null) {
      // The padding row is read through detach(), so its gradient is zero.
      const isPad = eq(reshape(iota(this.numEmbeddings, table.device), [this.numEmbeddings, 1]), this.paddingIdx);
      table = where(isPad, table.detach(), table);
    }
    const rows = indexedAs('Embedding', () => indexSelect(table, 0, flat), (n) => `${n} embeddings`);
    return reshape(rows, [...indices.shape, this.embeddingDim]);
  }
}
