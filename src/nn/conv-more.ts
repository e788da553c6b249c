/**
 * 1-D convolution and 2-D transposed convolution, both lowered onto conv2d (so they share
 * its im2col matmul), and group normalization.
 */
import { DTypeError, ShapeError, ValueError, fmtShape } from '../../runtime/errors.js';
import { Tensor } from '../tensor.js';
import { ones, zeros } from '../ops/creation.js';
import { add, div, mul, sqrt, sub } from '../ops/elementwise.js';
import { mean, variance } from '../ops/reduce.js';
import { pad, permute, reshape, squeeze, unsqueeze } from '../ops/shape.js';
import { flip } from '../ops/rearrange.js';
import { conv2d, type Size2 } from './conv.js';
import { defaultBound, uniform } from './init.js';
import { Module, parameter } from './module.js';
import type { Layer } from './layers.js';

function int(op: string, name: string, v: number | undefined, dflt: number, min: number): number {
  const r = v ?? dflt;
  if (!Number.isInteger(r) || r < min) throw new ValueError(`${op}: ${name} must be an integer ≥ ${min} (got ${r})`);
  return r;
}

function pair2(op: string, name: string, v: Size2 | undefined, dflt: number, min: number): [number, number] {
  const p = v === undefined ? [dflt, dflt] : Array.isArray(v) ? v : [v, v];
  if (p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < min)) {
    throw new ValueError(`${op}: ${name} must be an integer ≥ ${min} or a pair of them (got ${String(v)})`);
  }
  return p as [number, number];
}

/** Options of conv1d. */
export interface Conv1dOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
}

/** 1-D cross-correlation of x [N, C, L] (or [C, L]) with weight [O, C/groups, k], plus bias [O]. */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv1dOptions = {}): Tensor {
  if (!(x instanceof Tensor) || (x.ndim !== 2 && x.ndim !== 3)) {
    throw new ShapeError(`conv1d: expects input [N,C,L] or [C,L] (got ${x instanceof Tensor ? fmtShape(x.shape) : typeof x})`);
  }
  if (!(weight instanceof Tensor) || weight.ndim !== 3) {
    throw new ShapeError(`conv1d: weight must be [outChannels, inChannels/groups, k] (got ${weight instanceof Tensor ? fmtShape(weight.shape) : typeof weight})`);
  }
  const s = int('conv1d', 'stride', options.stride, 1, 1), p = int('conv1d', 'padding', options.padding, 0, 0);
  const d = int('conv1d', 'dilation', options.dilation, 1, 1);
  // A height of 1: the 2-D kernel slides along the width only.
  const options2 = { stride: [1, s] as Size2, padding: [0, p] as Size2, dilation: [1, d] as Size2, groups: options.groups ?? 1 };
  const y = conv2d(unsqueeze(x, -2), unsqueeze(weight, 2), bias, options2);
  return squeeze(y, -2);
}

/** Options of convTranspose2d. */
export interface ConvTranspose2dOptions {
  stride?: Size2;
  padding?: Size2;
  outputPadding?: Size2;
  dilation?: Size2;
  groups?: number;
}

/** Puts s-1 zeros between neighbours along `axis` (the input of a strided transposed conv). */
function spread(x: Tensor, axis: number, s: number): Tensor {
  if (s === 1) return x;
  const n = x.shape[axis]!;
  const pads = new Array<number>(2 * (x.ndim + 1 - axis - 1)).fill(0);
  pads[pads.length - 1] = s - 1;
  const widened = reshape(pad(unsqueeze(x, axis + 1), pads), x.shape.map((v, i) => (i === axis ? v * s : v)));
  return widened.narrow(axis, 0, (n - 1) * s + 1);
}

/**
 * The gradient of conv2d with respect to its input, used as a layer (PyTorch's
 * conv_transpose2d): x [N, Cin, H, W], weight [Cin, Cout/groups, kh, kw]. Computed as a
 * stride-1 conv2d of the zero-spread, padded input with the flipped, transposed kernel.
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTranspose2dOptions = {}): Tensor {
  const op = 'convTranspose2d';
  if (!(x instanceof Tensor) || (x.ndim !== 3 && x.ndim !== 4)) {
    throw new ShapeError(`${op}: expects input [N,C,H,W] or [C,H,W] (got ${x instanceof Tensor ? fmtShape(x.shape) : typeof x})`);
  }
  if (!(weight instanceof Tensor) || weight.ndim !== 4) {
    throw new ShapeError(`${op}: weight must be [inChannels, outChannels/groups, kh, kw] (got ${weight instanceof Tensor ? fmtShape(weight.shape) : typeof weight})`);
  }
  if (x.dtype !== weight.dtype) {
    throw new DTypeError(`${op}: input and weight must share one float dtype (got ${x.dtype}, ${weight.dtype})`);
  }
  const xb = x.ndim === 3 ? unsqueeze(x, 0) : x;
  const g = int(op, 'groups', options.groups, 1, 1);
  const s = pair2(op, 'stride', options.stride, 1, 1), p = pair2(op, 'padding', options.padding, 0, 0);
  const op2 = pair2(op, 'outputPadding', options.outputPadding, 0, 0), d = pair2(op, 'dilation', options.dilation, 1, 1);
  const [cin, coutG, kh, kw] = weight.shape as [number, number, number, number];
  if (xb.shape[1] !== cin || cin % g !== 0) {
    throw new ShapeError(`${op}: input ${fmtShape(x.shape)} needs ${cin} channels divisible by groups ${g} for weight ${fmtShape(weight.shape)}`);
  }
  for (let i = 0; i < 2; i++) {
    if (op2[i]! >= Math.max(s[i]!, d[i]!)) {
      throw new ValueError(`${op}: outputPadding ${fmtShape(op2)} must be smaller than stride ${fmtShape(s)} or dilation ${fmtShape(d)}`);
    }
  }
  // [Cin, Cout/g, kh, kw] → [Cout, Cin/g, kh, kw], flipped in space.
  const w5 = reshape(weight, [g, cin / g, coutG, kh, kw]);
  const wt = flip(reshape(permute(w5, [0, 2, 1, 3, 4]), [g * coutG, cin / g, kh, kw]), [2, 3]);
  const spreadX = spread(spread(xb, 2, s[0]), 3, s[1]);
  const edge = (i: number, k: number) => d[i]! * (k - 1) - p[i]!;
  const padded = pad(spreadX, [edge(1, kw), edge(1, kw) + op2[1], edge(0, kh), edge(0, kh) + op2[0]]);
  const y = conv2d(padded, wt, bias, { dilation: d, groups: g });
  return x.ndim === 3 ? squeeze(y, 0) : y;
}

/**
 * Normalizes x [N, C, ...] over groups of C/numGroups channels (and all spatial positions),
 * then scales and shifts per channel.
 */
export function groupNorm(x: Tensor, numGroups: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  if (x.ndim < 2) throw new ShapeError(`groupNorm: expects input [N, C, ...] (got ${fmtShape(x.shape)})`);
  const [n, c] = x.shape as [number, number];
  if (!Number.isInteger(numGroups) || numGroups <= 0 || c % numGroups !== 0) {
    throw new ValueError(`groupNorm: numGroups must be a positive integer dividing the ${c} channels (got ${numGroups})`);
  }
  const grouped = reshape(x, [n, numGroups, n * numGroups === 0 ? 0 : x.size / (n * numGroups)]);
  const centered = sub(grouped, mean(grouped, 2, true));
  const normed = reshape(div(centered, sqrt(add(variance(grouped, 2, true, 0), eps))), x.shape);
  const perChannel = [c, ...x.shape.slice(2).map(() => 1)];
  let y = normed;
  if (weight) y = mul(y, reshape(weight, perChannel));
  if (bias) y = add(y, reshape(bias, perChannel));
  return y;
}

/** 1-D convolution layer: weight [outChannels, inChannels/groups, kernelSize]. */
export class Conv1d extends Module implements Layer {
  weight: Tensor;
  bias: Tensor | null;
  readonly options: Required<Conv1dOptions>;
  constructor(
    readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number,
    options: Conv1dOptions & { bias?: boolean } = {},
  ) {
    super();
    const groups = int('Conv1d', 'groups', options.groups, 1, 1);
    int('Conv1d', 'kernelSize', kernelSize, 1, 1);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new ValueError(`Conv1d: groups ${groups} must divide inChannels ${inChannels} and outChannels ${outChannels}`);
    }
    this.options = { stride: options.stride ?? 1, padding: options.padding ?? 0, dilation: options.dilation ?? 1, groups };
    const bound = defaultBound((inChannels / groups) * kernelSize);
    this.weight = parameter(uniform([outChannels, inChannels / groups, kernelSize], bound));
    this.bias = options.bias === false ? null : parameter(uniform([outChannels], bound));
  }
  forward(x: Tensor): Tensor { return conv1d(x, this.weight, this.bias, this.options); }
}

/** Transposed 2-D convolution layer: weight [inChannels, outChannels/groups, kh, kw]. */
export class ConvTranspose2d extends Module implements Layer {
  weight: Tensor;
  bias: Tensor | null;
  readonly options: ConvTranspose2dOptions;
  constructor(
    readonly inChannels: number, readonly outChannels: number, kernelSize: Size2,
    options: ConvTranspose2dOptions & { bias?: boolean } = {},
  ) {
    super();
    const k = pair2('ConvTranspose2d', 'kernelSize', kernelSize, 1, 1);
    const groups = int('ConvTranspose2d', 'groups', options.groups, 1, 1);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new ValueError(`ConvTranspose2d: groups ${groups} must divide inChannels ${inChannels} and outChannels ${outChannels}`);
    }
    this.options = {
      stride: options.stride ?? 1, padding: options.padding ?? 0, outputPadding: options.outputPadding ?? 0,
      dilation: options.dilation ?? 1, groups,
    };
    // PyTorch computes the fan-in from weight dim 1: outChannels/groups · kh · kw.
    const bound = defaultBound((outChannels / groups) * k[0] * k[1]);
    this.weight = parameter(uniform([inChannels, outChannels / groups, ...k], bound));
    this.bias = options.bias === false ? null : parameter(uniform([outChannels], bound));
  }
  forward(x: Tensor): Tensor { return convTranspose2d(x, this.weight, this.bias, this.options); }
}

/** Group normalization layer with per-channel affine weight and bias. */
export class GroupNorm extends Module implements Layer {
  weight: Tensor | null;
  bias: Tensor | null;
  constructor(readonly numGroups: number, readonly numChannels: number, readonly eps = 1e-5, options: { affine?: boolean } = {}) {
    super();
    if (!Number.isInteger(numGroups) || numGroups <= 0 || numChannels % numGroups !== 0) {
      throw new ValueError(`GroupNorm: numGroups must be a positive integer dividing numChannels ${numChannels} (got ${numGroups})`);
    }
    const affine = options.affine !== false;
    this.weight = affine ? parameter(ones([numChannels])) : null;
    this.bias = affine ? parameter(zeros([numChannels])) : null;
  }
  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new ShapeError(`GroupNorm: expects [N, ${this.numChannels}, ...] (got ${fmtShape(x.shape)})`);
    }
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }
}
