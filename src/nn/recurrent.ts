/**
 * LSTM and GRU cells and layers with PyTorch's gate order, parameter names (camelCase) and
 * initialization U(-1/√H, 1/√H). A layer steps its cell over time in JavaScript, so under
 * jit the whole unrolled sequence becomes one graph.
 */
import { ShapeError, ValueError, fmtShape } from '../../runtime/errors.js';
import type { Tensor } from '../tensor.js';
import { zeros } from '../ops/creation.js';
import { add, mul, sigmoid, sub, tanh } from '../ops/elementwise.js';
import { chunk, stack, transpose } from '../ops/shape.js';
import { linear } from './functional.js';
import { uniform } from './init.js';
import { Module, parameter } from './module.js';

function checkSizes(op: string, inputSize: number, hiddenSize: number): void {
  for (const [name, v] of [['inputSize', inputSize], ['hiddenSize', hiddenSize]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new ValueError(`${op}: ${name} must be a positive integer (got ${v})`);
  }
}

/** The shared weights of a recurrent cell with `gates` gates. */
abstract class CellBase extends Module {
  weightIh: Tensor;
  weightHh: Tensor;
  biasIh: Tensor | null;
  biasHh: Tensor | null;
  constructor(op: string, readonly inputSize: number, readonly hiddenSize: number, gates: number, bias: boolean) {
    super();
    checkSizes(op, inputSize, hiddenSize);
    const bound = 1 / Math.sqrt(hiddenSize);
    this.weightIh = parameter(uniform([gates * hiddenSize, inputSize], bound));
    this.weightHh = parameter(uniform([gates * hiddenSize, hiddenSize], bound));
    this.biasIh = bias ? parameter(uniform([gates * hiddenSize], bound)) : null;
    this.biasHh = bias ? parameter(uniform([gates * hiddenSize], bound)) : null;
  }
  protected checkInput(op: string, x: Tensor): void {
    if (x.ndim !== 2 || x.shape[1] !== this.inputSize) {
      throw new ShapeError(`${op}: input must be [N, ${this.inputSize}] (got ${fmtShape(x.shape)})`);
    }
  }
}

/** One LSTM step: gates i, f, g, o; returns the new [h, c]. */
export class LSTMCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, options: { bias?: boolean } = {}) {
    super('LSTMCell', inputSize, hiddenSize, 4, options.bias !== false);
  }
  forward(x: Tensor, state?: [Tensor, Tensor] | null): [Tensor, Tensor] {
    this.checkInput('LSTMCell', x);
    const zero = () => zeros([x.shape[0]!, this.hiddenSize], { dtype: x.dtype, device: x.device });
    const [h, c] = state ?? [zero(), zero()];
    const z = add(linear(x, this.weightIh, this.biasIh), linear(h, this.weightHh, this.biasHh));
    const [i, f, g, o] = chunk(z, 4, 1) as [Tensor, Tensor, Tensor, Tensor];
    const c2 = add(mul(sigmoid(f), c), mul(sigmoid(i), tanh(g)));
    return [mul(sigmoid(o), tanh(c2)), c2];
  }
}

/** One GRU step: gates r, z, n; returns the new h. */
export class GRUCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, options: { bias?: boolean } = {}) {
    super('GRUCell', inputSize, hiddenSize, 3, options.bias !== false);
  }
  forward(x: Tensor, h?: Tensor | null): Tensor {
    this.checkInput('GRUCell', x);
    const hPrev = h ?? zeros([x.shape[0]!, this.hiddenSize], { dtype: x.dtype, device: x.device });
    const [xr, xz, xn] = chunk(linear(x, this.weightIh, this.biasIh), 3, 1) as [Tensor, Tensor, Tensor];
    const [hr, hz, hn] = chunk(linear(hPrev, this.weightHh, this.biasHh), 3, 1) as [Tensor, Tensor, Tensor];
    const r = sigmoid(add(xr, hr));
    const z = sigmoid(add(xz, hz));
    const n = tanh(add(xn, mul(r, hn)));
    // h' = (1 - z)·n + z·h
    return add(mul(sub(1, z), n), mul(z, hPrev));
  }
}

/** Options of the LSTM and GRU layers. */
export interface RecurrentOptions {
  numLayers?: number;
  bias?: boolean;
  /** Inputs and outputs as [N, L, features] instead of PyTorch's default [L, N, features]. */
  batchFirst?: boolean;
}

/** A multi-layer RNN's stacked cells: the first reads the input, the rest the layer below. */
abstract class Stacked<C extends Module> extends Module {
  readonly cells: C[];
  readonly batchFirst: boolean;
  constructor(
    op: string, readonly inputSize: number, readonly hiddenSize: number, options: RecurrentOptions,
    make: (inputSize: number, hiddenSize: number, options: { bias: boolean }) => C,
  ) {
    super();
    this.batchFirst = options.batchFirst ?? false;
    const n = options.numLayers ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new ValueError(`${op}: numLayers must be a positive integer (got ${n})`);
    const bias = options.bias !== false;
    this.cells = Array.from({ length: n }, (_, i) => make(i === 0 ? inputSize : hiddenSize, hiddenSize, { bias }));
  }
}

/** Time steps of x as [N, features] tensors, checking the layout. */
function steps(op: string, x: Tensor, inputSize: number, batchFirst: boolean): Tensor[] {
  if (x.ndim !== 3 || x.shape[2] !== inputSize) {
    throw new ShapeError(`${op}: input must be ${batchFirst ? '[N, L' : '[L, N'}, ${inputSize}] (got ${fmtShape(x.shape)})`);
  }
  const seq = batchFirst ? transpose(x, 0, 1) : x;
  return Array.from({ length: seq.shape[0]! }, (_, t) => seq.select(0, t));
}

function output(hs: Tensor[], batchFirst: boolean): Tensor {
  const out = stack(hs, 0);
  return batchFirst ? transpose(out, 0, 1) : out;
}

/** A multi-layer LSTM: forward(x, [h0, c0]?) → [output, [hN, cN]] with states [numLayers, N, H]. */
export class LSTM extends Stacked<LSTMCell> {
  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions = {}) {
    super('LSTM', inputSize, hiddenSize, options, (i, h, o) => new LSTMCell(i, h, o));
  }
  forward(x: Tensor, state?: [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]] {
    let xs = steps('LSTM', x, this.inputSize, this.batchFirst);
    const hs: Tensor[] = [], cs: Tensor[] = [];
    this.cells.forEach((cell, l) => {
      let s: [Tensor, Tensor] | null = state ? [state[0].select(0, l), state[1].select(0, l)] : null;
      xs = xs.map((xt) => (s = cell.forward(xt, s))[0]);
      hs.push(s![0]);
      cs.push(s![1]);
    });
    return [output(xs, this.batchFirst), [stack(hs, 0), stack(cs, 0)]];
  }
}

/** A multi-layer GRU: forward(x, h0?) → [output, hN] with hN [numLayers, N, H]. */
export class GRU extends Stacked<GRUCell> {
  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions = {}) {
    super('GRU', inputSize, hiddenSize, options, (i, h, o) => new GRUCell(i, h, o));
  }
  forward(x: Tensor, h0?: Tensor | null): [Tensor, Tensor] {
    let xs = steps('GRU', x, this.inputSize, this.batchFirst);
    const hs: Tensor[] = [];
    this.cells.forEach((cell, l) => {
      let h: Tensor | null = h0 ? h0.select(0, l) : null;
      xs = xs.map((xt) => (h = cell.forward(xt, h)));
      hs.push(h!);
    });
    return [output(xs, this.batchFirst), stack(hs, 0)];
  }
}
