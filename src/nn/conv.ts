/**
 * 2-D convolution and pooling, composed from views, pad, concat, reductions and one batched
 * matmul (im2col), so autograd and the JIT see through them and no kernel is written by hand.
 */
import { DTypeError, ShapeError, ValueError, fmtShape } from '../../runtime/errors.js';
import { isFloat } from '../../runtime/dtype.js';
import { Tensor } from '../tensor.js';
import { ones } from '../ops/creation.js';
import { add, div } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { max, mean, sum } from '../ops/reduce.js';
import { cat, narrow, pad, permute, reshape, slice, squeeze, unsqueeze } from '../ops/shape.js';
import { isGradEnabled } from '../autograd/mode.js';
import { defaultBound, uniform } from './init.js';
import { Module, parameter } from './module.js';
import type { Layer } from './layers.js';

/** A size that applies to both spatial dims, or [height, width]. */
export type Size2 = number | [number, number];

/** Options of conv2d and Conv2d. */
export interface Conv2dOptions {
  stride?: Size2;
  padding?: Size2;
  dilation?: Size2;
  groups?: number;
}

/** Options of the pooling ops. */
export interface Pool2dOptions {
  /** Step between windows; defaults to the kernel size. */
  stride?: Size2 | null;
  padding?: Size2;
}

function pair(op: string, name: string, v: Size2 | undefined, dflt: number, min: number): [number, number] {
  const p: unknown[] = v === undefined ? [dflt, dflt] : Array.isArray(v) ? v : [v, v];
  if (p.length !== 2 || p.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < min)) {
    throw new ValueError(`${op}: ${name} must be an integer ≥ ${min} or a pair of them (got ${Array.isArray(v) ? fmtShape(v) : String(v)})`);
  }
  return p as [number, number];
}

/** Output length of a window sweep, as PyTorch computes it (floor mode). */
function outSize(n: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/** [N,C,H,W] as is, an unbatched [C,H,W] with a batch dim of 1; other ranks are an error. */
function batched(op: string, x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new DTypeError(`${op}: input must be a tensor (got ${typeof x})`);
  if (x.ndim === 4) return x;
  if (x.ndim === 3) return unsqueeze(x, 0);
  throw new ShapeError(`${op}: expects input [N,C,H,W] or [C,H,W] (got ${fmtShape(x.shape)})`);
}

function checkOutput(op: string, x: Tensor, ho: number, wo: number, detail: string): void {
  if (ho <= 0 || wo <= 0) {
    throw new ShapeError(`${op}: input ${fmtShape(x.shape)} is too small for ${detail}: the output would be ${ho}×${wo}`);
  }
}

/**
 * The kh·kw shifted, strided views of the padded input, one per kernel position, joined as
 * [N, C, kh·kw, Ho, Wo]. Each view costs nothing; the concat is the one copy (im2col).
 */
function windows(xp: Tensor, k: [number, number], s: [number, number], d: [number, number], out: [number, number]): Tensor {
  const views: Tensor[] = [];
  for (let i = 0; i < k[0]; i++) {
    const rows = slice(xp, 2, i * d[0], i * d[0] + (out[0] - 1) * s[0] + 1, s[0]);
    for (let j = 0; j < k[1]; j++) views.push(unsqueeze(slice(rows, 3, j * d[1], j * d[1] + (out[1] - 1) * s[1] + 1, s[1]), 2));
  }
  return views.length === 1 ? views[0]! : cat(views, 2);
}

function padSpatial(x: Tensor, p: [number, number], value: number): Tensor {
  return p[0] === 0 && p[1] === 0 ? x : pad(x, [p[1], p[1], p[0], p[0]], value);
}

/**
 * 2-D cross-correlation of x [N, C, H, W] (or [C, H, W]) with weight [O, C/groups, kh, kw],
 * plus bias [O]; zero padding, as PyTorch's conv2d.
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  const xb = batched(op, x);
  if (!(weight instanceof Tensor) || weight.ndim !== 4) {
    throw new ShapeError(`${op}: weight must be [outChannels, inChannels/groups, kh, kw] (got ${weight instanceof Tensor ? fmtShape(weight.shape) : typeof weight})`);
  }
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ValueError(`${op}: groups must be a positive integer (got ${groups})`);
  const s = pair(op, 'stride', options.stride, 1, 1);
  const p = pair(op, 'padding', options.padding, 0, 0);
  const d = pair(op, 'dilation', options.dilation, 1, 1);
  const [n, c, h, w] = xb.shape as [number, number, number, number];
  const [o, cg, kh, kw] = weight.shape as [number, number, number, number];
  if (!isFloat(xb.dtype) || xb.dtype !== weight.dtype || (bias && bias.dtype !== weight.dtype)) {
    throw new DTypeError(`${op}: input, weight and bias must share one float dtype (got ${xb.dtype}, ${weight.dtype}${bias ? `, ${bias.dtype}` : ''})`);
  }
  if (c % groups !== 0 || o % groups !== 0) {
    throw new ShapeError(`${op}: input channels ${c} and output channels ${o} must both be divisible by groups ${groups}`);
  }
  if (cg * groups !== c) {
    throw new ShapeError(`${op}: input ${fmtShape(x.shape)} has ${c} channels but weight ${fmtShape(weight.shape)} expects ${cg * groups} (${cg} per group × ${groups} groups)`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== o)) {
    throw new ShapeError(`${op}: bias must be [${o}] for weight ${fmtShape(weight.shape)} (got ${fmtShape(bias.shape)})`);
  }
  const ho = outSize(h, kh, s[0], p[0], d[0]);
  const wo = outSize(w, kw, s[1], p[1], d[1]);
  checkOutput(op, x, ho, wo, `kernel ${kh}×${kw} with stride ${fmtShape(s)}, padding ${fmtShape(p)}, dilation ${fmtShape(d)}`);
  const cols = windows(padSpatial(xb, p, 0), [kh, kw], s, d, [ho, wo]);
  const k = cg * kh * kw;
  // One batched matmul: [groups, O/g, k] @ [N, groups, k, Ho·Wo] gives the output already in
  // [N, O, Ho, Wo] order, so no permute copy follows it.
  const y = matmul(reshape(weight, [groups, o / groups, k]), reshape(cols, [n, groups, k, ho * wo]));
  let out = reshape(y, [n, o, ho, wo]);
  if (bias) out = add(out, reshape(bias, [o, 1, 1]));
  return x.ndim === 3 ? squeeze(out, 0) : out;
}

/** Kernel, stride, padding and output size of a pooling op, checked. */
function poolGeometry(op: string, x: Tensor, kernelSize: Size2, options: Pool2dOptions, dilation: Size2 = 1) {
  const k = pair(op, 'kernelSize', kernelSize, 1, 1);
  const s = options.stride === undefined || options.stride === null ? k : pair(op, 'stride', options.stride, 1, 1);
  const p = pair(op, 'padding', options.padding, 0, 0);
  const d = pair(op, 'dilation', dilation, 1, 1);
  for (let i = 0; i < 2; i++) {
    // A window must always see some real input, as PyTorch requires.
    if (2 * p[i]! > d[i]! * (k[i]! - 1) + 1) {
      throw new ValueError(`${op}: padding ${fmtShape(p)} must be at most half of the kernel size ${fmtShape(k)}${d[i] !== 1 ? ` (dilated to ${d[i]! * (k[i]! - 1) + 1})` : ''}`);
    }
  }
  const out: [number, number] = [outSize(x.shape[2]!, k[0], s[0], p[0], d[0]), outSize(x.shape[3]!, k[1], s[1], p[1], d[1])];
  checkOutput(op, x, out[0], out[1], `kernel ${fmtShape(k)} with stride ${fmtShape(s)}, padding ${fmtShape(p)}`);
  return { k, s, p, d, out };
}

/**
 * Windows of the padded input for a reduction: with stride = kernel and no dilation the
 * windows tile the input, so a reshape to [N, C, Ho, kh, Wo, kw] (a view) replaces the copy.
 */
function poolWindows(xp: Tensor, g: ReturnType<typeof poolGeometry>): { windows: Tensor; axes: number[] } {
  const { k, s, d, out } = g;
  if (s[0] === k[0] && s[1] === k[1] && d[0] === 1 && d[1] === 1) {
    const cropped = narrow(narrow(xp, 2, 0, out[0] * k[0]), 3, 0, out[1] * k[1]);
    return { windows: reshape(cropped, [xp.shape[0]!, xp.shape[1]!, out[0], k[0], out[1], k[1]]), axes: [3, 5] };
  }
  return { windows: windows(xp, k, s, d, out), axes: [2] };
}

/** Largest value in each window of x [N, C, H, W] (or [C, H, W]); padding is -Infinity. */
export function maxPool2d(x: Tensor, kernelSize: Size2, options: Pool2dOptions & { dilation?: Size2 } = {}): Tensor {
  const xb = batched('maxPool2d', x);
  if (!isFloat(xb.dtype)) throw new DTypeError(`maxPool2d: input must be float32 or float64 (got ${xb.dtype})`);
  const g = poolGeometry('maxPool2d', xb, kernelSize, options, options.dilation);
  const { windows: win, axes } = poolWindows(padSpatial(xb, g.p, -Infinity), g);
  const out = axes.length === 1 ? max(win, axes[0]!) : windowMax(win);
  return x.ndim === 3 ? squeeze(out, 0) : out;
}

/**
 * The max of each [kh, kw] window of [N, C, Ho, kh, Wo, kw]. When gradients are recorded the
 * window is first made one axis, so, as in PyTorch, the gradient goes to the first largest
 * element in row-major window order instead of being shared among ties.
 */
function windowMax(win: Tensor): Tensor {
  if (!(win.requiresGrad && isGradEnabled())) return max(win, [3, 5]);
  const [n, c, ho, kh, wo, kw] = win.shape as [number, number, number, number, number, number];
  return max(reshape(permute(win, [0, 1, 2, 4, 3, 5]), [n, c, ho, wo, kh * kw]), 4);
}

/**
 * Mean of each window of x [N, C, H, W] (or [C, H, W]). Zero padding counts in the divisor
 * unless `countIncludePad` is false, as in PyTorch.
 */
export function avgPool2d(x: Tensor, kernelSize: Size2, options: Pool2dOptions & { countIncludePad?: boolean } = {}): Tensor {
  const xb = batched('avgPool2d', x);
  if (!isFloat(xb.dtype)) throw new DTypeError(`avgPool2d: input must be float32 or float64 (got ${xb.dtype})`);
  const g = poolGeometry('avgPool2d', xb, kernelSize, options);
  const { windows: win, axes } = poolWindows(padSpatial(xb, g.p, 0), g);
  let out: Tensor;
  if (options.countIncludePad === false && (g.p[0] > 0 || g.p[1] > 0)) {
    // The number of real (unpadded) elements under each window, a constant of the geometry.
    const real = poolWindows(padSpatial(ones([1, 1, xb.shape[2]!, xb.shape[3]!], { dtype: xb.dtype, device: xb.device }), g.p, 0), g);
    out = div(sum(win, axes), sum(real.windows, real.axes));
  } else {
    out = mean(win, axes);
  }
  return x.ndim === 3 ? squeeze(out, 0) : out;
}

/** 2-D convolution layer with PyTorch's default init U(-1/√fanIn, 1/√fanIn), fanIn = C/groups·kh·kw. */
export class Conv2d extends Module implements Layer {
  weight: Tensor;
  bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Size2, options: Conv2dOptions & { bias?: boolean } = {}) {
    super();
    for (const [name, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new ValueError(`Conv2d: ${name} must be a positive integer (got ${v})`);
    }
    this.kernelSize = pair('Conv2d', 'kernelSize', kernelSize, 1, 1);
    this.stride = pair('Conv2d', 'stride', options.stride, 1, 1);
    this.padding = pair('Conv2d', 'padding', options.padding, 0, 0);
    this.dilation = pair('Conv2d', 'dilation', options.dilation, 1, 1);
    this.groups = options.groups ?? 1;
    if (!Number.isInteger(this.groups) || this.groups < 1 || inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new ValueError(`Conv2d: groups must be a positive integer dividing inChannels ${inChannels} and outChannels ${outChannels} (got ${this.groups})`);
    }
    const cg = inChannels / this.groups;
    const bound = defaultBound(cg * this.kernelSize[0] * this.kernelSize[1]);
    this.weight = parameter(uniform([outChannels, cg, ...this.kernelSize], bound));
    this.bias = options.bias === false ? null : parameter(uniform([outChannels], bound));
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
}

/** Max pooling layer; stride defaults to the kernel size. */
export class MaxPool2d extends Module implements Layer {
  constructor(readonly kernelSize: Size2, readonly options: Pool2dOptions & { dilation?: Size2 } = {}) {
    super();
    pair('MaxPool2d', 'kernelSize', kernelSize, 1, 1);
  }
  forward(x: Tensor): Tensor { return maxPool2d(x, this.kernelSize, this.options); }
}

/** Average pooling layer; stride defaults to the kernel size; padding counts in the divisor by default. */
export class AvgPool2d extends Module implements Layer {
  constructor(readonly kernelSize: Size2, readonly options: Pool2dOptions & { countIncludePad?: boolean } = {}) {
    super();
    pair('AvgPool2d', 'kernelSize', kernelSize, 1, 1);
  }
  forward(x: Tensor): Tensor { return avgPool2d(x, this.kernelSize, this.options); }
}
