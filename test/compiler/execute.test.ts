/**
 * executePrim against the reference evaluator, for every primitive of the table on random
 * shapes, dtypes, strided inputs and strided outputs. Each case is drawn from a seed that
 * its failure message names, so `runCase(prim, dtype, seed)` replays it.
 */
import { floatToHalf, halfToFloat } from '../../runtime/half.js';
import { describe, expect, it } from 'vitest';
import { executePrim, type Operand } from '../../compiler/execute.js';
import { cpu } from '../../compiler/backends.js';
import { inferMeta, viewLayout } from '../../compiler/ir/infer.js';
import { isElementwise, primitiveRules, type Params, type Prim } from '../../compiler/ir/primitives.js';
import { evaluatePrim, evaluateView, materialize } from '../../compiler/ref/evaluate.js';
import { ARRAY_OF, type DType, type TypedArray } from '../../runtime/dtype.js';
import { ValueError } from '../../runtime/errors.js';
import { rng, uniform } from '../helpers.js';

const ALL: readonly DType[] = ['float32', 'float64', 'int32', 'uint8', 'bool'];
const NUM: readonly DType[] = ['float32', 'float64', 'int32'];
const TRIALS = 30;

/** float32 functions that are not correctly rounded: compared within 2 ulp. */
const APPROX = new Set<Prim>(['exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tan', 'tanh', 'erf', 'sigmoid', 'pow']);

/** A seeded source of test choices. */
class Gen {
  readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = rng(seed);
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const out = xs.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

const F32_SPECIAL = [
  NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3, -7,
  3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, -1.401298464324817e-45,
  1.1754943508222875e-38, 1e-30, -1e30, 16777217, 88.72, -103.9, 17.9, -9.2, 1e-8, Math.PI, 1048577,
];
const F64_SPECIAL = [
  ...F32_SPECIAL, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 2.2250738585072014e-308,
  1e300, -1e-300, 2 ** 53 + 2, 709.9, -745.2, -720, 4503599627370495.5, 0.49999999999999994,
];
const F16_SPECIAL = [65504, -65504, 2 ** -24, 2 ** -14, 0.1, 1 / 3, 2049, 70000, 1e-9, 11.5];
const I32_SPECIAL = [0, 1, -1, 2, -2, 3, -7, 2147483647, -2147483648, 2147483646, -2147483647, 46341, -46341, 65536, 1 << 30];

/** One element value for `dtype`: ordinary values of several scales, and special ones. */
function value(g: Gen, dtype: DType): number {
  switch (dtype) {
    case 'bool': return g.int(0, 1);
    case 'uint8': return g.chance(0.25) ? g.pick([0, 1, 2, 127, 128, 254, 255]) : g.int(0, 255);
    case 'int32':
      if (g.chance(0.25)) return g.pick(I32_SPECIAL);
      return g.chance(0.6) ? g.int(-9, 9) : (g.next() * 2 ** 32) | 0;
    // Half bits: the specials are the largest finite, the smallest subnormal and normal, and
    // values that overflow or underflow when rounded to half.
    case 'float16': {
      if (g.chance(0.08)) return floatToHalf(g.pick([NaN, Infinity, -Infinity, 0, -0]));
      if (g.chance(0.2)) return floatToHalf(g.pick(F16_SPECIAL));
      if (g.chance(0.2)) return floatToHalf(g.int(-6, 6) / 2);
      return floatToHalf(uniform(g.next, 1, -1, 1)[0]! * g.pick([1, 4, 30, 1e-3, 1e3]));
    }
    case 'float32':
    case 'float64': {
      if (g.chance(0.08)) return g.pick([NaN, Infinity, -Infinity, 0, -0]);
      if (g.chance(0.2)) return g.pick(dtype === 'float32' ? F32_SPECIAL : F64_SPECIAL);
      if (g.chance(0.2)) return g.int(-6, 6) / 2;
      return uniform(g.next, 1, -1, 1)[0]! * g.pick([1, 4, 30, 1e-3, 1e6]);
    }
  }
}

/** A random shape of rank in [lo, hi] with size-0 and size-1 dims, kept small. */
function shapeOf(g: Gen, lo = 0, hi = 4): number[] {
  const rank = g.int(lo, hi);
  const shape = Array.from({ length: rank }, () => (g.chance(0.06) ? 0 : g.pick([1, 1, 2, 3, 4, 5])));
  while (shape.reduce((p, d) => p * d, 1) > 200) shape[shape.indexOf(Math.max(...shape))]! -= 1;
  return shape;
}

/**
 * `shape` laid out somewhere inside a larger buffer: dims stored in a random order, read
 * with steps, starting past other elements, and (for inputs) some dims broadcast with
 * stride 0. Every other element of the buffer holds a value too.
 */
function place(g: Gen, shape: readonly number[], dtype: DType, options: { broadcast: boolean }, fill: (g: Gen) => number = (h) => value(h, dtype)): Operand {
  const rank = shape.length;
  const plain = g.chance(0.25);
  const steps = shape.map(() => (!plain && g.chance(0.3) ? g.int(2, 3) : 1));
  const starts = shape.map(() => (!plain && g.chance(0.3) ? g.int(1, 2) : 0));
  const tails = shape.map(() => (!plain && g.chance(0.3) ? 1 : 0));
  const broadcast = shape.map(() => !plain && options.broadcast && g.chance(0.25));
  const extents = shape.map((n, d) => starts[d]! + (broadcast[d] || n === 0 ? 1 : (n - 1) * steps[d]! + 1) + tails[d]!);
  const order = plain || g.chance(0.5) ? shape.map((_, d) => d) : g.shuffle(shape.map((_, d) => d));
  const physical = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    physical[order[i]!] = s;
    s *= extents[order[i]!]!;
  }
  const lead = plain ? 0 : g.int(0, 4);
  const data = new ARRAY_OF[dtype](lead + s + (plain ? 0 : g.int(0, 3)));
  for (let i = 0; i < data.length; i++) data[i] = fill(g);
  let offset = lead;
  shape.forEach((_, d) => (offset += starts[d]! * physical[d]!));
  const strides = shape.map((_, d) => (broadcast[d] ? 0 : physical[d]! * steps[d]!));
  return { data, dtype, shape: shape.slice(), strides, offset };
}

/** An input operand with random values. */
const input = (g: Gen, shape: readonly number[], dtype: DType): Operand => place(g, shape, dtype, { broadcast: true });

interface Case {
  params: object;
  inputs: Operand[];
}

interface CaseRule {
  /** Operand dtypes to test; every one the primitive accepts. */
  dtypes: readonly DType[];
  make: (g: Gen, dtype: DType, trial: number) => Case;
}

function elementwiseCase(prim: Prim): CaseRule {
  const rule = primitiveRules[prim];
  if (!isElementwise(rule)) throw new Error(`${prim} is not elementwise`);
  const arity = rule.kind === 'unary' ? 1 : rule.kind === 'binary' ? 2 : 3;
  return {
    dtypes: rule.accepts,
    make: (g, dtype) => {
      const shape = shapeOf(g);
      const dtypes = Array.from({ length: arity }, (_, i) => (prim === 'where' && i === 0 ? 'bool' : dtype));
      return { params: {}, inputs: dtypes.map((dt) => input(g, shape, dt)) };
    },
  };
}

function reduceCase(prim: Prim): CaseRule {
  const rule = primitiveRules[prim];
  if (rule.kind !== 'reduce') throw new Error(`${prim} is not a reduction`);
  const single = prim === 'argmax' || prim === 'argmin';
  return {
    dtypes: rule.accepts,
    make: (g, dtype) => {
      const shape = shapeOf(g, single ? 1 : 0);
      const axes = single ? [g.int(0, shape.length - 1)] : shape.map((_, d) => d).filter(() => g.chance(0.5));
      if (rule.needsElements) for (const a of axes) if (shape[a] === 0) shape[a] = g.int(1, 3);
      // Long runs of a few values make ties, so the first-index rule of argmax is exercised.
      const few = g.chance(0.4) ? [value(g, dtype), value(g, dtype), g.chance(0.5) && dtype.startsWith('float') ? NaN : value(g, dtype)] : undefined;
      const x = place(g, shape, dtype, { broadcast: true }, few ? (h) => h.pick(few) : undefined);
      return { params: single ? { axis: axes[0] } : { axes }, inputs: [x] };
    },
  };
}

/** Indices into a dim of `size`, in range. */
const indexFill = (size: number) => (g: Gen) => (size === 0 ? 0 : g.int(0, size - 1));

const cases: { [P in Prim]: CaseRule | 'view' } = {
  copy: elementwiseCase('copy'), neg: elementwiseCase('neg'), abs: elementwiseCase('abs'), sign: elementwiseCase('sign'),
  recip: elementwiseCase('recip'), exp: elementwiseCase('exp'), log: elementwiseCase('log'), log1p: elementwiseCase('log1p'),
  expm1: elementwiseCase('expm1'), sqrt: elementwiseCase('sqrt'), rsqrt: elementwiseCase('rsqrt'), sin: elementwiseCase('sin'),
  cos: elementwiseCase('cos'), tan: elementwiseCase('tan'), tanh: elementwiseCase('tanh'), erf: elementwiseCase('erf'),
  erfc: elementwiseCase('erfc'), sigmoid: elementwiseCase('sigmoid'), floor: elementwiseCase('floor'), ceil: elementwiseCase('ceil'), round: elementwiseCase('round'),
  not: elementwiseCase('not'), isnan: elementwiseCase('isnan'),
  add: elementwiseCase('add'), sub: elementwiseCase('sub'), mul: elementwiseCase('mul'), div: elementwiseCase('div'),
  pow: elementwiseCase('pow'), maximum: elementwiseCase('maximum'), minimum: elementwiseCase('minimum'), mod: elementwiseCase('mod'),
  lt: elementwiseCase('lt'), le: elementwiseCase('le'), eq: elementwiseCase('eq'), ne: elementwiseCase('ne'),
  and: elementwiseCase('and'), or: elementwiseCase('or'),
  where: elementwiseCase('where'),
  cast: {
    dtypes: ALL,
    make: (g, dtype, trial) => ({ params: { dtype: ALL[trial % ALL.length] }, inputs: [input(g, shapeOf(g), dtype)] }),
  },
  sum: reduceCase('sum'), prod: reduceCase('prod'), max: reduceCase('max'), min: reduceCase('min'),
  argmax: reduceCase('argmax'), argmin: reduceCase('argmin'),
  reshape: 'view', permute: 'view', expand: 'view', slice: 'view',
  pad: {
    dtypes: ALL,
    make: (g, dtype) => {
      const shape = shapeOf(g);
      const before = shape.map(() => g.int(0, 2));
      const after = shape.map(() => g.int(0, 2));
      return { params: { before, after, value: value(g, 'float64') }, inputs: [input(g, shape, dtype)] };
    },
  },
  concat: {
    dtypes: ALL,
    make: (g, dtype) => {
      const shape = shapeOf(g, 1);
      const axis = g.int(0, shape.length - 1);
      const inputs = Array.from({ length: g.int(1, 4) }, () => input(g, shape.map((d, i) => (i === axis ? g.pick([0, 1, 2, 3]) : d)), dtype));
      return { params: { axis }, inputs };
    },
  },
  matmul: {
    dtypes: NUM,
    make: (g, dtype) => {
      // Now and then wider than one 256-column tile of the kernel.
      const wide = g.chance(0.15);
      const batch = shapeOf(g, 0, wide ? 1 : 2).map((d) => Math.min(d, wide ? 2 : 3));
      const m = g.int(wide ? 1 : 0, 6), n = wide ? g.int(250, 300) : g.int(0, 6), k = wide ? g.int(1, 4) : g.pick([0, 1, 2, 3, 5, 9, 17]);
      // Small integers keep int32 products exact in float64; large ones test wrapping.
      const fill = dtype === 'int32' && g.chance(0.5) ? (h: Gen) => h.int(-50, 50) : undefined;
      return { params: {}, inputs: [place(g, [...batch, m, k], dtype, { broadcast: true }, fill), place(g, [...batch, k, n], dtype, { broadcast: true }, fill)] };
    },
  },
  gather: {
    dtypes: ALL,
    make: (g, dtype) => {
      const shape = shapeOf(g, 1);
      const axis = g.int(0, shape.length - 1);
      if (shape[axis] === 0) shape[axis] = 1;
      const indexShape = shape.map((d, i) => (i === axis ? g.int(0, 5) : g.int(0, d)));
      return { params: { axis }, inputs: [input(g, shape, dtype), place(g, indexShape, 'int32', { broadcast: true }, indexFill(shape[axis]!))] };
    },
  },
  scatterAdd: {
    dtypes: NUM,
    make: (g, dtype) => {
      const shape = shapeOf(g, 1);
      const axis = g.int(0, shape.length - 1);
      if (shape[axis] === 0) shape[axis] = 1;
      const indexShape = shape.map((d, i) => (i === axis ? g.int(0, 6) : g.int(0, d)));
      const index = place(g, indexShape, 'int32', { broadcast: true }, indexFill(shape[axis]!));
      return { params: { axis }, inputs: [input(g, shape, dtype), index, input(g, indexShape, dtype)] };
    },
  },
  random: {
    dtypes: ['float32'],
    make: (g) => ({
      params: { shape: shapeOf(g), seed: g.pick([0, 1, 42, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER]), offset: g.pick([0, 1, 2, 3, 4, 4095, 2 ** 32 - 2]) },
      inputs: [],
    }),
  },
  iota: { dtypes: ['int32'], make: (g) => ({ params: { n: g.int(0, 40) }, inputs: [] }) },
};

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/** float32 bits on a line where neighbouring floats differ by 1 (-0 sits just below +0). */
function ordinal(x: number): number {
  f32[0] = x;
  const b = i32[0]!;
  return b < 0 ? -1 - (b & 0x7fffffff) : b;
}

/** Half bits on a line where neighbouring halves differ by 1, as `ordinal` for float32. */
function halfOrdinal(h: number): number {
  return h & 0x8000 ? -1 - (h & 0x7fff) : h;
}

/**
 * Equal half bits (any NaN matching any NaN), or within 1 half ulp for approximated math:
 * kiln rounds its float32 kernels' results to half, the reference its float64 values.
 */
function matchesHalf(got: number, want: number, approx: boolean): boolean {
  const g = halfToFloat(got), w = halfToFloat(want);
  if (Number.isNaN(w) || Number.isNaN(g)) return Number.isNaN(w) && Number.isNaN(g);
  if (got === want) return true;
  return approx && Number.isFinite(g) && Number.isFinite(w) && Math.abs(halfOrdinal(got) - halfOrdinal(want)) <= 1;
}

/** Equal bits (any NaN matching any NaN), or within 2 ulp for approximated float32 math. */
function matches(got: number, want: number, approx: boolean): boolean {
  if (Number.isNaN(want) || Number.isNaN(got)) return Number.isNaN(want) && Number.isNaN(got);
  if (Object.is(got, want)) return true;
  return approx && Number.isFinite(got) && Number.isFinite(want) && Math.abs(ordinal(got) - ordinal(want)) <= 2;
}

const show = (x: number): string => (Object.is(x, -0) ? '-0' : String(x));
const describeOperand = (x: Operand): string => `${x.dtype}[${x.shape}] strides [${x.strides}] offset ${x.offset} of ${x.data.length}`;

/** Every buffer position that a layout reads or writes. */
function positions(x: Operand): Set<number> {
  const out = new Set<number>();
  const walk = (d: number, p: number): void => {
    if (d === x.shape.length) {
      out.add(p);
      return;
    }
    for (let i = 0; i < x.shape[d]!; i++) walk(d + 1, p + i * x.strides[d]!);
  };
  walk(0, x.offset);
  return out;
}

/** Runs one case: executePrim into a strided output against evaluatePrim; throws describing any difference. */
function runCase(prim: Prim, dtype: DType, seed: number, trial = 0): void {
  const c = cases[prim];
  if (c === 'view') throw new Error(`${prim} is a view`);
  const g = new Gen(seed);
  const { params, inputs } = c.make(g, dtype, trial);
  const p = params as Params<Prim>;
  const where = `${prim} ${dtype} (seed ${seed}, trial ${trial}) params ${JSON.stringify(params)} inputs ${inputs.map(describeOperand).join('; ')}`;
  const want = evaluatePrim(prim, p, inputs);
  const meta = inferMeta(prim, inputs, p);
  expect(want.shape, where).toEqual(meta.shape);
  expect(want.dtype, where).toBe(meta.dtype);
  const out = place(g, meta.shape, meta.dtype, { broadcast: false });
  const before = out.data.slice();
  executePrim(cpu, prim, p, inputs, out);
  const got = materialize(out).data;
  const approx = APPROX.has(prim) && (meta.dtype === 'float32' || meta.dtype === 'float16');
  const same = meta.dtype === 'float16' ? matchesHalf : matches;
  for (let i = 0; i < want.data.length; i++) {
    if (!same(got[i]!, want.data[i]!, approx)) {
      throw new Error(`${where}: output ${describeOperand(out)}: element ${i} is ${show(got[i]!)}, the reference is ${show(want.data[i]!)}`);
    }
  }
  const written = positions(out);
  for (let i = 0; i < out.data.length; i++) {
    if (!written.has(i) && !matches(out.data[i]!, before[i]!, false)) {
      throw new Error(`${where}: output ${describeOperand(out)}: buffer position ${i} outside the output changed from ${show(before[i]!)} to ${show(out.data[i]!)}`);
    }
  }
}

/** A seed per (primitive, dtype, trial), stable when other primitives are added. */
function seedOf(prim: string, dtype: string, trial: number): number {
  let h = 2166136261;
  for (const ch of `${prim}/${dtype}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return ((h >>> 0) + trial * 7919) >>> 0;
}

const prims = Object.keys(primitiveRules) as Prim[];

describe('executePrim equals the reference evaluator', () => {
  it('has a case for every primitive of the table, and tests every dtype it accepts', () => {
    for (const prim of prims) {
      const c = cases[prim];
      expect(c, `no test case for primitive ${prim}`).toBeDefined();
      const rule = primitiveRules[prim];
      if (isElementwise(rule) || rule.kind === 'reduce') expect(c !== 'view' && c.dtypes, prim).toEqual(rule.accepts);
      expect(c === 'view', prim).toBe(rule.kind === 'view');
    }
  });

  const computed = prims.filter((p) => cases[p] !== 'view');
  const pairs = computed.flatMap((prim) => {
    const c = cases[prim];
    return c === undefined || c === 'view' ? [] : c.dtypes.map((dtype) => [prim, dtype] as const);
  });
  it.each(pairs)('%s on %s', (prim, dtype) => {
    for (let trial = 0; trial < TRIALS; trial++) runCase(prim, dtype, seedOf(prim, dtype, trial), trial);
  });
});

describe('views read what their definition says', () => {
  /** A random view of `x`'s shape for each view primitive. */
  const viewParams: Record<'reshape' | 'permute' | 'expand' | 'slice', (g: Gen, shape: number[]) => object> = {
    reshape: (g, shape) => ({ shape: factor(g, shape.reduce((p, d) => p * d, 1)) }),
    permute: (g, shape) => ({ perm: g.shuffle(shape.map((_, d) => d)) }),
    expand: (g, shape) => ({ shape: [...Array.from({ length: g.int(0, 2) }, () => g.int(0, 3)), ...shape.map((d) => (d === 1 ? g.int(0, 3) : d))] }),
    slice: (g, shape) => {
      const steps = shape.map(() => g.int(1, 3));
      const starts = shape.map((d) => (d === 0 ? 0 : g.int(0, d - 1)));
      const sizes = shape.map((d, i) => (d === 0 ? 0 : g.int(0, Math.ceil((d - starts[i]!) / steps[i]!))));
      return { starts, steps, sizes };
    },
  };
  it.each(Object.keys(viewParams) as (keyof typeof viewParams)[])('%s through viewLayout', (prim) => {
    for (let trial = 0; trial < 200; trial++) {
      const seed = seedOf(prim, 'view', trial);
      const g = new Gen(seed);
      const dtype = g.pick(ALL);
      const x = input(g, shapeOf(g), dtype);
      const params = viewParams[prim](g, [...x.shape]);
      const layout = viewLayout(prim, { shape: [...x.shape], strides: [...x.strides], offset: x.offset }, params as Params<typeof prim>);
      const where = `${prim} (seed ${seed}) params ${JSON.stringify(params)} of ${describeOperand(x)}`;
      if (layout === null) {
        expect(prim, `${where}: only reshape may need a copy`).toBe('reshape');
        continue;
      }
      const got = materialize({ ...x, ...layout }).data;
      const want = evaluateView(prim, params as Params<typeof prim>, x).data;
      expect(Array.from(got).map(show), where).toEqual(Array.from(want).map(show));
    }
  });
});

/** A random shape with `n` elements. */
function factor(g: Gen, n: number): number[] {
  const dims: number[] = [];
  let rest = n;
  if (n === 0) return g.shuffle([0, ...Array.from({ length: g.int(0, 2) }, () => g.int(0, 3))]);
  for (let f = 2; f <= rest; f++) {
    while (rest % f === 0) {
      rest /= f;
      if (dims.length > 0 && g.chance(0.5)) dims[g.int(0, dims.length - 1)]! *= f;
      else dims.push(f);
    }
  }
  for (let i = g.int(0, 2); i > 0; i--) dims.push(1);
  return g.shuffle(dims);
}

/** `values` in a fresh typed array of `dtype`. */
function stored(values: readonly number[], dtype: DType): TypedArray {
  const data = new ARRAY_OF[dtype](values.length);
  values.forEach((v, i) => (data[i] = v));
  return data;
}

describe('errors', () => {
  const vec = (values: number[], dtype: DType): Operand => ({ data: stored(values, dtype), dtype, shape: [values.length], strides: [1], offset: 0 });
  const outFor = (prim: Prim, params: object, inputs: Operand[]): Operand => {
    const meta = inferMeta(prim, inputs, params as Params<Prim>);
    return { data: new ARRAY_OF[meta.dtype](meta.shape.reduce((p, d) => p * d, 1)), dtype: meta.dtype, shape: meta.shape.slice(), strides: [1], offset: 0 };
  };
  it.each([[-1], [3], [2147483647]])('gather and scatterAdd reject index %d for a dim of size 3', (bad) => {
    const x = vec([1, 2, 3], 'float32');
    const index = vec([0, bad, 1], 'int32');
    expect(() => evaluatePrim('gather', { axis: 0 }, [x, index])).toThrow(ValueError);
    expect(() => executePrim(cpu, 'gather', { axis: 0 }, [x, index], outFor('gather', { axis: 0 }, [x, index]))).toThrow(ValueError);
    expect(() => executePrim(cpu, 'gather', { axis: 0 }, [x, index], outFor('gather', { axis: 0 }, [x, index]))).toThrow(`index ${bad} is out of range for a dimension of size 3`);
    const src = vec([1, 1, 1], 'float32');
    expect(() => evaluatePrim('scatterAdd', { axis: 0 }, [x, index, src])).toThrow(ValueError);
    expect(() => executePrim(cpu, 'scatterAdd', { axis: 0 }, [x, index, src], outFor('scatterAdd', { axis: 0 }, [x, index, src]))).toThrow(ValueError);
  });
});

describe('the reference evaluator', () => {
  const t = (values: number[], dtype: DType, shape = [values.length]): Operand => {
    let s = 1;
    const strides = shape.map(() => 0);
    for (let d = shape.length - 1; d >= 0; d--) {
      strides[d] = s;
      s *= shape[d]!;
    }
    return { data: stored(values, dtype), dtype, shape, strides, offset: 0 };
  };
  const values = (r: { data: ArrayLike<number> }): string[] => Array.from(r.data, show);

  it('wraps int32 arithmetic and rounds float32 once per primitive', () => {
    expect(values(evaluatePrim('add', {}, [t([2147483647, -2147483648], 'int32'), t([1, -1], 'int32')]))).toEqual(['-2147483648', '2147483647']);
    expect(values(evaluatePrim('mul', {}, [t([65536, 46341], 'int32'), t([65536, 46341], 'int32')]))).toEqual(['0', '-2147479015']);
    expect(values(evaluatePrim('neg', {}, [t([-2147483648], 'int32')]))).toEqual(['-2147483648']);
    expect(values(evaluatePrim('add', {}, [t([16777216], 'float32'), t([1], 'float32')]))).toEqual(['16777216']);
  });

  it('follows PyTorch for mod, round and cast', () => {
    expect(values(evaluatePrim('mod', {}, [t([-7, 7, -7, 6], 'int32'), t([3, -3, -3, 0], 'int32')]))).toEqual(['2', '-2', '-1', '0']);
    expect(values(evaluatePrim('round', {}, [t([0.5, 1.5, 2.5, -0.5, -2.5], 'float64')]))).toEqual(['0', '2', '2', '-0', '-2']);
    expect(values(evaluatePrim('cast', { dtype: 'int32' }, [t([-1.9, NaN, Infinity, 3e9], 'float64')]))).toEqual(['-1', '0', '0', '-1294967296']);
    expect(values(evaluatePrim('cast', { dtype: 'bool' }, [t([NaN, -0, 0.1], 'float32')]))).toEqual(['1', '0', '1']);
  });

  it('reduces NaN-first and ties-first', () => {
    const x = t([1, NaN, 3, NaN, 3, -Infinity], 'float32', [1, 6]);
    expect(values(evaluatePrim('max', { axes: [1] }, [x]))).toEqual(['NaN']);
    expect(values(evaluatePrim('argmax', { axis: 1 }, [x]))).toEqual(['1']);
    expect(values(evaluatePrim('argmin', { axis: 1 }, [x]))).toEqual(['1']);
    const y = t([2, 5, 5, -1, -1], 'int32', [5]);
    expect(values(evaluatePrim('argmax', { axis: 0 }, [y]))).toEqual(['1']);
    expect(values(evaluatePrim('argmin', { axis: 0 }, [y]))).toEqual(['3']);
    expect(values(evaluatePrim('argmax', { axis: 0 }, [t([-Infinity, -Infinity], 'float64')]))).toEqual(['0']);
  });

  it('sums in float64 and rounds once, and multiplies int32 with wrapping', () => {
    // 2^24 + 1 + 1 in float32 steps would stay at 2^24; rounding once gives 2^24 + 2.
    expect(values(evaluatePrim('sum', { axes: [0] }, [t([16777216, 1, 1], 'float32')]))).toEqual(['16777218']);
    expect(values(evaluatePrim('sum', { axes: [0] }, [t([2147483647, 1], 'int32')]))).toEqual(['-2147483648']);
    expect(values(evaluatePrim('sum', { axes: [0] }, [t([1, 1, 0], 'bool')]))).toEqual(['2']);
    expect(values(evaluatePrim('prod', { axes: [0] }, [t([65537, 65537, 65537, 65537], 'int32')]))).toEqual([String(Math.imul(Math.imul(65537, 65537), Math.imul(65537, 65537)))]);
    expect(values(evaluatePrim('sum', { axes: [0] }, [t([], 'float32')]))).toEqual(['0']);
  });

  it('keeps float64 sigmoid of large negative inputs as a subnormal instead of flushing to 0', () => {
    expect(values(evaluatePrim('sigmoid', {}, [t([-720, 0, 800], 'float64')]))).toEqual([String(Math.exp(-720)), '0.5', '1']);
  });

  it('pads, concatenates, gathers and scatters', () => {
    expect(values(evaluatePrim('pad', { before: [1], after: [2], value: 2.7 }, [t([5, 6], 'int32')]))).toEqual(['2', '5', '6', '2', '2']);
    expect(values(evaluatePrim('concat', { axis: 1 }, [t([1, 2], 'float64', [2, 1]), t([3, 4, 5, 6], 'float64', [2, 2])]))).toEqual(['1', '3', '4', '2', '5', '6']);
    expect(values(evaluatePrim('gather', { axis: 1 }, [t([1, 2, 3, 4], 'float32', [2, 2]), t([1, 1, 0], 'int32', [1, 3])]))).toEqual(['2', '2', '1']);
    expect(values(evaluatePrim('scatterAdd', { axis: 0 }, [t([0, 0], 'float32'), t([1, 1, 0], 'int32'), t([1e8, 1, 3], 'float32')]))).toEqual(['3', '100000000']);
    expect(values(evaluatePrim('matmul', {}, [t([1, 2, 3, 4], 'int32', [2, 2]), t([5, 6, 7, 8], 'int32', [2, 2])]))).toEqual(['19', '22', '43', '50']);
    expect(values(evaluatePrim('iota', { n: 3 }, []))).toEqual(['0', '1', '2']);
  });
});
