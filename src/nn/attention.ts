/** Scaled dot-product attention and multi-head attention, composed from matmul, softmax and where. */
import { DTypeError, ShapeError, ValueError, fmtShape } from '../../runtime/errors.js';
import { Tensor } from '../tensor.js';
import { ones, zeros } from '../ops/creation.js';
import { add, cast, logicalNot, mul, where } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { mean, softmax } from '../ops/reduce.js';
import { reshape, transpose } from '../ops/shape.js';
import { tril } from '../ops/rearrange.js';
import { dropout, linear } from './functional.js';
import { defaultBound, uniform } from './init.js';
import { Module, parameter } from './module.js';

/** Options of scaledDotProductAttention (PyTorch's names in camelCase). */
export interface AttentionOptions {
  /** bool (true = may attend) or float (added to the scores), broadcasting to [..., L, S]. */
  attnMask?: Tensor | null;
  /** Each query attends only to keys at or before its position (a lower-triangular mask). */
  isCausal?: boolean;
  /** Multiplies the scores; 1/√E by default. */
  scale?: number;
  /** Dropout on the attention weights (only when > 0). */
  dropoutP?: number;
}

/** A mask as values added to the scores: bool true (may attend) → 0, false → -Infinity. */
function additive(op: string, mask: Tensor, dtype: Tensor['dtype']): Tensor {
  if (!(mask instanceof Tensor)) throw new DTypeError(`${op}: masks must be tensors (got ${typeof mask})`);
  return mask.dtype === 'bool' ? cast(where(mask, 0, -Infinity), dtype) : mask;
}

/** softmax(q kᵀ · scale + masks) over the keys: the attention weights [..., L, S]. */
function attentionWeights(op: string, q: Tensor, k: Tensor, masks: Tensor[], scale: number): Tensor {
  let scores = mul(matmul(q, transpose(k, -2, -1)), scale);
  for (const m of masks) scores = add(scores, additive(op, m, scores.dtype));
  return softmax(scores, -1);
}

/** The causal mask: query i may attend to keys 0..i. */
function causal(l: number, s: number, device: Tensor['device']): Tensor {
  return tril(ones([l, s], { dtype: 'bool', device }));
}

/** softmax(q kᵀ · scale + mask) v for q [..., L, E], k [..., S, E], v [..., S, Ev]. */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  const op = 'scaledDotProductAttention';
  const last = (t: Tensor, i: number) => t.shape[t.ndim - i];
  if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2 || last(q, 1) !== last(k, 1) || last(k, 2) !== last(v, 2)) {
    throw new ShapeError(`${op}: needs q [..., L, E], k [..., S, E], v [..., S, Ev] (got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)})`);
  }
  const { attnMask = null, isCausal = false, dropoutP = 0 } = options;
  if (attnMask !== null && isCausal) throw new ValueError(`${op}: give attnMask or isCausal, not both`);
  const scale = options.scale ?? 1 / Math.sqrt(q.shape[q.ndim - 1]!);
  const mask = isCausal ? causal(q.shape[q.ndim - 2]!, k.shape[k.ndim - 2]!, q.device) : attnMask;
  let weights = attentionWeights(op, q, k, mask === null ? [] : [mask], scale);
  if (dropoutP > 0) weights = dropout(weights, dropoutP);
  return matmul(weights, v);
}

/** The result of MultiheadAttention: the output and, when asked, the attention weights. */
export interface MultiheadOutput {
  output: Tensor;
  /** [N, L, S] averaged over heads (or [N, heads, L, S]), null unless `needWeights`. */
  weights: Tensor | null;
}

/** Options of MultiheadAttention.forward. */
export interface MultiheadForwardOptions {
  attnMask?: Tensor | null;
  isCausal?: boolean;
  /** bool [N, S], true at keys to ignore (padding). */
  keyPaddingMask?: Tensor | null;
  needWeights?: boolean;
  averageAttnWeights?: boolean;
}

/**
 * PyTorch's nn.MultiheadAttention with batchFirst inputs [N, L, E]: packed input projection
 * `inProjWeight` [3E, E] and `outProj`, heads of E / numHeads.
 */
export class MultiheadAttention extends Module {
  inProjWeight: Tensor;
  inProjBias: Tensor | null;
  outProjWeight: Tensor;
  outProjBias: Tensor | null;
  readonly headDim: number;
  readonly dropout: number;
  constructor(readonly embedDim: number, readonly numHeads: number, options: { bias?: boolean; dropout?: number } = {}) {
    super();
    const valid = Number.isInteger(embedDim) && Number.isInteger(numHeads) && embedDim > 0 && numHeads > 0;
    if (!valid || embedDim % numHeads !== 0) {
      throw new ValueError(`MultiheadAttention: embedDim ${embedDim} must be a positive multiple of numHeads ${numHeads}`);
    }
    this.headDim = embedDim / numHeads;
    this.dropout = options.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1)) {
      throw new ValueError(`MultiheadAttention: dropout must be in [0, 1] (got ${this.dropout})`);
    }
    const bias = options.bias !== false;
    // Xavier-uniform for the packed projection, as PyTorch initializes it.
    this.inProjWeight = parameter(uniform([3 * embedDim, embedDim], Math.sqrt(6 / (4 * embedDim))));
    this.inProjBias = bias ? parameter(zeros([3 * embedDim])) : null;
    this.outProjWeight = parameter(uniform([embedDim, embedDim], defaultBound(embedDim)));
    this.outProjBias = bias ? parameter(zeros([embedDim])) : null;
  }

  /** Splits [N, L, E] into heads [N, H, L, D]. */
  #heads(x: Tensor): Tensor {
    const [n, l] = x.shape as [number, number];
    return transpose(reshape(x, [n, l, this.numHeads, this.headDim]), 1, 2);
  }

  forward(query: Tensor, key: Tensor = query, value: Tensor = key, options: MultiheadForwardOptions = {}): MultiheadOutput {
    const e = this.embedDim;
    for (const [name, t] of [['query', query], ['key', key], ['value', value]] as const) {
      if (t.ndim !== 3 || t.shape[2] !== e) {
        throw new ShapeError(`MultiheadAttention: ${name} must be [N, L, ${e}] (got ${fmtShape(t.shape)})`);
      }
    }
    const w = this.inProjWeight, b = this.inProjBias;
    const part = (i: number) => [w.narrow(0, i * e, e), b === null ? null : b.narrow(0, i * e, e)] as const;
    const q = this.#heads(linear(query, ...part(0)));
    const k = this.#heads(linear(key, ...part(1)));
    const v = this.#heads(linear(value, ...part(2)));
    const [n, l] = query.shape as [number, number];
    const s = key.shape[1]!;
    const masks: Tensor[] = [];
    if (options.isCausal) masks.push(causal(l, s, query.device));
    else if (options.attnMask) masks.push(options.attnMask);
    if (options.keyPaddingMask) masks.push(logicalNot(reshape(options.keyPaddingMask, [n, 1, 1, s])));
    let weights = attentionWeights('MultiheadAttention', q, k, masks, 1 / Math.sqrt(this.headDim));
    if (this.training && this.dropout > 0) weights = dropout(weights, this.dropout);
    const heads = matmul(weights, v); // [N, H, L, D]
    const merged = reshape(transpose(heads, 1, 2), [n, l, e]);
    const output = linear(merged, this.outProjWeight, this.outProjBias);
    if (options.needWeights === false) return { output, weights: null };
    return { output, weights: options.averageAttnWeights === false ? weights : mean(weights, 1) };
  }
}
