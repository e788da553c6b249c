/**
 * Every primitive's VJP rule against central finite differences in float64. The case table is
 * typed over every primitive and the suite walks the keys of `vjpRules`, so a primitive added
 * later without a gradient case fails here; each case must also record the primitive it is
 * named for, so a case cannot silently test something else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cat, gradcheck, pad, scatterAdd, tensor, where, type GradcheckOptions, type Tensor } from '../../../src/index.js';
import { vjpRules } from '../../../src/autograd/vjp.js';
import { observeApply } from '../../../src/dispatch.js';
import type { Prim } from '../../../compiler/ir/primitives.js';
import { rng, uniform } from '../../helpers.js';
import { f64, f64AwayFromZero, f64Distinct, i32 } from './inputs.js';

interface GradCase {
  name: string;
  inputs: Tensor[];
  fn: (...xs: Tensor[]) => Tensor;
  options?: GradcheckOptions;
}

/** The primitives with no gradient at all (boolean or integer results, random bits). */
const NO_GRADIENT = 'no gradient';

/** Values n + f with f in [fLo, fHi): clear of the jumps of floor, ceil and round. */
function offGrid(shape: number[], seed: number, fLo: number, fHi: number): Tensor {
  const next = rng(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  const values = Array.from({ length: n }, () => Math.floor(-3 + 6 * next()) + fLo + (fHi - fLo) * next());
  return tensor(Float64Array.from(values), { shape });
}

/** a = b·(k + f) with f in [0.2, 0.8): a/b stays clear of integers, where remainder jumps. */
function remainderOperands(seed: number): [Tensor, Tensor] {
  const next = rng(seed);
  const b = Array.from({ length: 12 }, () => (next() < 0.5 ? -1 : 1) * (0.5 + next()));
  const a = b.map((d) => d * (Math.floor(-3 + 6 * next()) + 0.2 + 0.6 * next()));
  return [tensor(Float64Array.from(a), { shape: [3, 4] }), tensor(Float64Array.from(b), { shape: [3, 4] })];
}

/** Two tensors whose elements are pairwise distinct, so maximum/minimum never tie. */
function distinctPair(seed: number): [Tensor, Tensor] {
  const both = f64Distinct([2, 3, 4], seed);
  return [both.slice(0, 0, 1).reshape([3, 4]).clone(), both.slice(0, 1, 2).reshape([3, 4]).clone()];
}

const mask = tensor([[true, false, true, true], [false, false, true, false], [true, true, false, true]]);
// Index 0 repeats along each row, so scatterAdd accumulates and gather reads twice.
const index = i32([[0, 2, 0, 1, 3], [3, 3, 0, 1, 2], [1, 0, 0, 2, 2]]);

const cases: { [P in Prim]: GradCase[] | typeof NO_GRADIENT } = {
  copy: [
    { name: 'clone', inputs: [f64([3, 4], 1)], fn: (x) => x.clone() },
    { name: 'contiguous copy of a transposed view', inputs: [f64([3, 4], 2)], fn: (x) => x.transpose(0, 1).contiguous() },
  ],
  neg: [{ name: 'neg', inputs: [f64([3, 4], 3)], fn: (x) => x.neg() }],
  abs: [{ name: 'abs away from 0', inputs: [f64AwayFromZero([3, 4], 4)], fn: (x) => x.abs() }],
  // sign is flat away from 0: the product rule must see a zero derivative for it.
  sign: [{ name: 'sign(x)·exp(x) away from 0', inputs: [f64AwayFromZero([3, 4], 5)], fn: (x) => x.sign().mul(x.exp()) }],
  recip: [{ name: 'reciprocal away from 0', inputs: [f64AwayFromZero([3, 4], 6)], fn: (x) => x.reciprocal() }],
  exp: [{ name: 'exp', inputs: [f64([3, 4], 7, -2, 2)], fn: (x) => x.exp() }],
  log: [{ name: 'log on (0.2, 3)', inputs: [f64([3, 4], 8, 0.2, 3)], fn: (x) => x.log() }],
  log1p: [{ name: 'log1p on (-0.8, 3)', inputs: [f64([3, 4], 9, -0.8, 3)], fn: (x) => x.log1p() }],
  expm1: [{ name: 'expm1', inputs: [f64([3, 4], 10, -2, 2)], fn: (x) => x.expm1() }],
  sqrt: [{ name: 'sqrt on (0.2, 3)', inputs: [f64([3, 4], 11, 0.2, 3)], fn: (x) => x.sqrt() }],
  rsqrt: [{ name: 'rsqrt on (0.2, 3)', inputs: [f64([3, 4], 12, 0.2, 3)], fn: (x) => x.rsqrt() }],
  sin: [{ name: 'sin', inputs: [f64([3, 4], 13, -3, 3)], fn: (x) => x.sin() }],
  cos: [{ name: 'cos', inputs: [f64([3, 4], 14, -3, 3)], fn: (x) => x.cos() }],
  tan: [{ name: 'tan on (-1.2, 1.2)', inputs: [f64([3, 4], 15, -1.2, 1.2)], fn: (x) => x.tan() }],
  tanh: [{ name: 'tanh', inputs: [f64([3, 4], 16, -3, 3)], fn: (x) => x.tanh() }],
  erf: [{ name: 'erf', inputs: [f64([3, 4], 17, -2, 2)], fn: (x) => x.erf() }],
  erfc: [{ name: 'erfc', inputs: [f64([3, 4], 17, -2, 2)], fn: (x) => x.erfc() }],
  sigmoid: [{ name: 'sigmoid', inputs: [f64([3, 4], 18, -4, 4)], fn: (x) => x.sigmoid() }],
  floor: [{ name: 'floor(x)·x between integers', inputs: [offGrid([3, 4], 19, 0.2, 0.8)], fn: (x) => x.floor().mul(x) }],
  ceil: [{ name: 'ceil(x)·x between integers', inputs: [offGrid([3, 4], 20, 0.2, 0.8)], fn: (x) => x.ceil().mul(x) }],
  round: [{ name: 'round(x)·x away from halves', inputs: [offGrid([3, 4], 21, -0.3, 0.3)], fn: (x) => x.round().mul(x) }],
  not: NO_GRADIENT,
  isnan: NO_GRADIENT,

  add: [{ name: 'add', inputs: [f64([3, 4], 22), f64([3, 4], 23)], fn: (a, b) => a.add(b) }],
  sub: [{ name: 'sub', inputs: [f64([3, 4], 24), f64([3, 4], 25)], fn: (a, b) => a.sub(b) }],
  mul: [{ name: 'mul', inputs: [f64([3, 4], 26), f64([3, 4], 27)], fn: (a, b) => a.mul(b) }],
  div: [{ name: 'div, divisor away from 0', inputs: [f64([3, 4], 28), f64AwayFromZero([3, 4], 29)], fn: (a, b) => a.div(b) }],
  pow: [{ name: 'pow, positive base, both operands', inputs: [f64([3, 4], 30, 0.5, 2), f64([3, 4], 31, -2, 2)], fn: (a, b) => a.pow(b) }],
  maximum: [{ name: 'maximum without ties', inputs: distinctPair(32), fn: (a, b) => a.maximum(b) }],
  minimum: [{ name: 'minimum without ties', inputs: distinctPair(33), fn: (a, b) => a.minimum(b) }],
  mod: [{ name: 'remainder away from its jumps, both operands', inputs: remainderOperands(34), fn: (a, b) => a.remainder(b) }],
  lt: NO_GRADIENT, le: NO_GRADIENT, eq: NO_GRADIENT, ne: NO_GRADIENT, and: NO_GRADIENT, or: NO_GRADIENT,

  where: [{ name: 'where, both branches', inputs: [f64([3, 4], 35), f64([3, 4], 36)], fn: (a, b) => where(mask, a, b) }],
  cast: [{
    name: 'float64 → float32 → float64',
    inputs: [f64([3, 4], 37)],
    fn: (x) => x.cast('float32').cast('float64'),
    // float32 rounding (~6e-8) swamps a 1e-6 step; the function is linear, so a wide step is exact.
    options: { eps: 1e-2, atol: 1e-4 },
  }],

  sum: [{ name: 'sum over axes 0 and 2', inputs: [f64([2, 3, 4], 38)], fn: (x) => x.sum([0, 2]) }],
  prod: [{ name: 'prod over axis 1, no zeros', inputs: [f64AwayFromZero([3, 4], 39, 0.5, 1.5)], fn: (x) => x.prod(1) }],
  max: [{ name: 'max over axes [1] without ties', inputs: [f64Distinct([3, 4], 40)], fn: (x) => x.max([1]) }],
  min: [{ name: 'min over axes [0] without ties', inputs: [f64Distinct([3, 4], 41)], fn: (x) => x.min([0]) }],
  argmax: NO_GRADIENT,
  argmin: NO_GRADIENT,

  reshape: [{ name: 'reshape', inputs: [f64([3, 4], 42)], fn: (x) => x.reshape([2, 6]) }],
  permute: [{ name: 'permute', inputs: [f64([2, 3, 4], 43)], fn: (x) => x.permute([2, 0, 1]) }],
  expand: [{ name: 'expand a size-1 dim and a new leading dim', inputs: [f64([3, 1], 44)], fn: (x) => x.expand([2, 3, 4]) }],
  slice: [{ name: 'slice with step 2 and an offset', inputs: [f64([3, 8], 45)], fn: (x) => x.slice(1, 1, 7, 2) }],
  pad: [{ name: 'pad two dims', inputs: [f64([3, 4], 46)], fn: (x) => pad(x, [1, 2, 2, 0]) }],
  concat: [{ name: 'cat along axis 1', inputs: [f64([3, 2], 47), f64([3, 4], 48)], fn: (a, b) => cat([a, b], 1) }],
  matmul: [{ name: 'matmul 2-D', inputs: [f64([3, 4], 49), f64([4, 2], 50)], fn: (a, b) => a.matmul(b) }],
  gather: [{ name: 'gather with repeated indices', inputs: [f64([3, 4], 51)], fn: (x) => x.gather(1, index) }],
  scatterAdd: [{
    name: 'scatterAdd into base and from source, repeated indices',
    inputs: [f64([3, 4], 52), f64([3, 5], 53)],
    fn: (base, src) => scatterAdd(base, 1, index, src),
  }],
  random: NO_GRADIENT,
  iota: NO_GRADIENT,
};

const prims = Object.keys(vjpRules) as Prim[];
const seen = new Set<Prim>();
let stopObserving: (() => void) | undefined;

beforeAll(() => {
  // Autograd's own observer runs first, so a recorded application already has its node here.
  stopObserving = observeApply({
    onApply(prim, _inputs, _params, out) {
      if (out.gradFn?.prim === prim) seen.add(prim);
    },
  });
});
afterAll(() => stopObserving?.());

describe('VJP rules of the primitives', () => {
  it('the case table and the rule table name the same primitives', () => {
    expect(Object.keys(cases).sort()).toEqual(prims.slice().sort());
  });

  it.each(prims)('%s: a gradient case exists exactly when the rule has a VJP', (prim) => {
    const entry = cases[prim];
    if (vjpRules[prim].vjp === null) expect(entry, `${prim} has no VJP, so it needs no case`).toBe(NO_GRADIENT);
    else expect(Array.isArray(entry) && entry.length > 0, `${prim} has a VJP rule but no gradient case`).toBe(true);
  });

  const checked = prims.flatMap((prim) => {
    const entry = cases[prim];
    return entry === NO_GRADIENT ? [] : entry.map((c) => [`${prim}: ${c.name}`, prim, c] as const);
  });

  it.each(checked)('%s', (_label, prim, c) => {
    seen.delete(prim);
    const result = gradcheck(c.fn, c.inputs, { ...c.options, raise: false });
    expect(result.ok, result.report).toBe(true);
    expect(seen.has(prim), `the case never recorded ${prim} on the tape`).toBe(true);
  });

  it('non-differentiable primitives record nothing, even on inputs that require grad', () => {
    const x = f64([3, 4], 54).requiresGrad_();
    for (const out of [x.lt(0), x.eq(x), x.isnan(), x.argmax(1), x.gt(0).logicalNot()]) {
      expect(out.requiresGrad).toBe(false);
      expect(out.gradFn).toBeNull();
    }
  });
});

// Inputs drawn once and reused by the random-direction check below.
const wide = Float64Array.from(uniform(rng(55), 600, -1, 1));

describe('gradcheck itself', () => {
  it('checks inputs larger than maxElementwise along random directions', () => {
    const x = tensor(wide, { shape: [20, 30] });
    const result = gradcheck((a) => a.sin().mul(a), [x]);
    expect(result.ok).toBe(true);
    expect(result.worst?.element).toBe('direction');
  });

  it('reports a wrong gradient, naming the input and element', () => {
    // floor's gradient is zero, but across a jump the finite difference is huge.
    const x = tensor(Float64Array.from([0.5, 2.0000000001]), { shape: [2] });
    const result = gradcheck((a) => a.floor(), [x], { raise: false });
    expect(result.ok).toBe(false);
    expect(result.worst).toMatchObject({ input: 0, element: [1] });
    expect(() => gradcheck((a) => a.floor(), [x])).toThrow(/gradcheck FAILED: worst at input 0 \[2\], element \[1\]/);
  });

  it('rejects float32 inputs', () => {
    expect(() => gradcheck((a) => a.exp(), [tensor([1, 2])])).toThrow(/input 0 must be a float64 tensor \(got float32\)/);
  });
});
