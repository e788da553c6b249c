/** Elementwise fuzz ops: unary math, binary arithmetic with broadcasting and scalars, comparisons, where, casts. */
import { where, type Tensor } from '../../src/index.js';
import { mapBroadcast } from '../src/ref-arrays.js';
import { floatOf, promote, promoteScalar, store } from './dtypes.js';
import type { Check, OpRecord, ProposeContext, Proposal, RefValue } from './op-record.js';
import { isFloatType, type FuzzDType, type Params } from './program.js';
import { broadcast, broadcastable, lit, partnerShape } from './shapes.js';

type Method =
  | 'neg' | 'abs' | 'exp' | 'log' | 'sqrt' | 'tanh' | 'sigmoid' | 'sin' | 'relu' | 'floor' | 'round' | 'reciprocal' | 'square'
  | 'sign';

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function refMap(args: RefValue[], dtype: FuzzDType, f: (...x: number[]) => number): RefValue {
  const r = mapBroadcast(args, f);
  return { shape: r.shape, dtype, values: r.values };
}

/** Operands as kiln computes with them: converted to the op's dtype first (an int32 or a JS number into float32). */
export function asCompute(args: readonly RefValue[], dtype: FuzzDType): RefValue[] {
  return args.map((a) => ({ ...a, dtype, values: a.values.map((v) => store(v, dtype)) }));
}

/** A unary op; `int` is its int32 meaning when it keeps int32 (else int inputs are not proposed). */
function unary(name: Method, f: (x: number) => number, check: Check, smooth: boolean, int?: (x: number) => number): OpRecord {
  return {
    name, family: 'elementwise', smooth, check,
    propose(c) {
      const a = c.pick((m) => isFloatType(m.dtype) || (int !== undefined && m.dtype === 'int32'));
      if (a === undefined) return undefined;
      const m = c.meta(a);
      return { args: [a], params: {}, meta: { shape: m.shape, dtype: m.dtype } };
    },
    run: ([a]) => (a![name] as () => Tensor)(),
    ref: ([a]) => refMap([a!], a!.dtype, a!.dtype === 'int32' ? int! : f),
    print: ([a]) => `${a}.${name}()`,
  };
}

type BinaryName = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'remainder' | 'pow';

const SCALARS = [2, 0.5, -1, 3, -0, 0, 1e-3, Infinity, -Infinity, NaN];
const GRAD_SCALARS = [2, 0.5, -1, 3, 1.5];

/** Picks or makes a second operand for `a`: a broadcastable tensor, or a JS number in `params.c`. */
function partner(
  c: ProposeContext, a: number, dtypeOk: (d: FuzzDType) => boolean, scalars: readonly number[] | undefined,
): { b?: number; scalar?: number } {
  const m = c.meta(a);
  if (scalars !== undefined && c.rng.chance(0.3)) return { scalar: c.rng.pick(c.mode === 'grad' ? GRAD_SCALARS : scalars) };
  const found = c.rng.chance(0.6) ? c.pick((o, v) => v !== a && broadcastable(o.shape, m.shape) && dtypeOk(o.dtype)) : undefined;
  if (found !== undefined) return { b: found };
  const dtype = dtypeOk(m.dtype) ? m.dtype : 'float32';
  return { b: c.input({ shape: partnerShape(c.rng, m.shape), dtype }) };
}

function binary(name: BinaryName, f: (x: number, y: number) => number, check: Check, smooth: boolean, options: {
  int?: (x: number, y: number) => number; result?: (d: FuzzDType) => FuzzDType; scalars?: readonly number[];
  /** The second operand is always a JS number (pow: the constant exponents kiln special-cases). */
  scalarOnly?: boolean;
} = {}): OpRecord {
  const takes = (d: FuzzDType) => isFloatType(d) || (options.int !== undefined && d === 'int32');
  return {
    name, family: 'elementwise', smooth, check,
    propose(c): Proposal | undefined {
      const a = c.pick((m) => takes(m.dtype));
      if (a === undefined) return undefined;
      const ma = c.meta(a);
      const { b, scalar } = options.scalarOnly ? { b: undefined, scalar: c.rng.pick(options.scalars!) } : partner(c, a, takes, SCALARS);
      const compute = b !== undefined ? promote(ma.dtype, c.meta(b).dtype) : promoteScalar(ma.dtype, scalar!);
      if (!takes(compute)) return undefined;
      const shape = b !== undefined ? broadcast(ma.shape, c.meta(b).shape) : ma.shape;
      const dtype = (options.result ?? ((d) => d))(compute);
      return { args: b !== undefined ? [a, b] : [a], params: { c: scalar ?? null }, meta: { shape, dtype } };
    },
    run: ([a, b], p) => (a![name] as (o: Tensor | number) => Tensor)(b ?? (p.c as number)),
    ref(args, p) {
      const operands = args.length === 2 ? args : [args[0]!, { shape: [], dtype: args[0]!.dtype, values: [p.c as number] }];
      const compute = args.length === 2 ? promote(args[0]!.dtype, args[1]!.dtype) : promoteScalar(args[0]!.dtype, p.c as number);
      const dtype = (options.result ?? ((d) => d))(compute);
      return refMap(asCompute(operands, compute), dtype, compute === 'int32' && options.int ? options.int : f);
    },
    print: ([a, b], p) => `${a}.${name}(${b ?? lit(p.c as number)})`,
  };
}

type CompareName = 'lt' | 'gt' | 'le' | 'eq' | 'ne';

function compare(name: CompareName, f: (x: number, y: number) => boolean): OpRecord {
  return {
    name, family: 'elementwise', smooth: false, check: 'exact',
    propose(c) {
      const a = c.pick((m) => m.dtype !== 'bool');
      if (a === undefined) return undefined;
      const { b, scalar } = partner(c, a, (d) => d !== 'bool', SCALARS);
      const shape = b !== undefined ? broadcast(c.meta(a).shape, c.meta(b).shape) : c.meta(a).shape;
      return { args: b !== undefined ? [a, b] : [a], params: { c: scalar ?? null }, meta: { shape, dtype: 'bool' } };
    },
    run: ([a, b], p) => (a![name] as (o: Tensor | number) => Tensor)(b ?? (p.c as number)),
    ref(args, p) {
      const compute = args.length === 2 ? promote(args[0]!.dtype, args[1]!.dtype) : promoteScalar(args[0]!.dtype, p.c as number);
      const operands = args.length === 2 ? args : [args[0]!, { shape: [], dtype: compute, values: [p.c as number] }];
      return refMap(asCompute(operands, compute), 'bool', (x, y) => (f(x, y) ? 1 : 0));
    },
    print: ([a, b], p) => `${a}.${name}(${b ?? lit(p.c as number)})`,
  };
}

const whereOp: OpRecord = {
  name: 'where', family: 'elementwise', smooth: true, check: 'exact',
  propose(c) {
    const cond = c.pick((m) => m.dtype === 'bool');
    const a = c.pick((m) => m.dtype !== 'bool');
    if (cond === undefined || a === undefined) return undefined;
    const mc = c.meta(cond), ma = c.meta(a);
    if (!broadcastable(mc.shape, ma.shape)) return undefined;
    const s = broadcast(mc.shape, ma.shape);
    const b = c.pick((m, v) => v !== a && m.dtype !== 'bool' && broadcastable(m.shape, s))
      ?? c.input({ shape: partnerShape(c.rng, s), dtype: ma.dtype });
    const mb = c.meta(b);
    return { args: [cond, a, b], params: {}, meta: { shape: broadcast(s, mb.shape), dtype: promote(ma.dtype, mb.dtype) } };
  },
  run: ([cond, a, b]) => where(cond!, a!, b!),
  ref([cond, a, b]) {
    const dtype = promote(a!.dtype, b!.dtype);
    return refMap([cond!, ...asCompute([a!, b!], dtype)], dtype, (t, x, y) => (t ? x : y));
  },
  print: ([cond, a, b]) => `where(${cond}, ${a}, ${b})`,
};

const castOp: OpRecord = {
  name: 'cast', family: 'cast', smooth: false, check: 'exact',
  propose(c) {
    const a = c.pick(() => true);
    if (a === undefined) return undefined;
    const targets: FuzzDType[] = c.mode === 'webgpu' ? ['float32', 'int32', 'bool'] : ['float32', 'float64', 'int32', 'bool'];
    const dtype = c.rng.pick(targets);
    return { args: [a], params: { dtype: CAST_TARGETS.indexOf(dtype) }, meta: { shape: c.meta(a).shape, dtype } };
  },
  run: ([a], p) => a!.cast(castTarget(p)),
  ref: ([a], p) => refMap([a!], castTarget(p), (x) => x),
  print: ([a], p) => `${a}.cast('${castTarget(p)}')`,
};

const CAST_TARGETS: readonly FuzzDType[] = ['float32', 'float64', 'int32', 'bool'];
function castTarget(p: Params): FuzzDType {
  return CAST_TARGETS[p.dtype as number]!;
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const pyMod = (a: number, b: number) => {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
};

export const elementwiseOps: OpRecord[] = [
  unary('neg', (x) => -x, 'exact', true, (x) => -x | 0),
  unary('abs', Math.abs, 'exact', false, (x) => Math.abs(x) | 0),
  unary('exp', Math.exp, 'math', true),
  unary('log', Math.log, 'math', true),
  unary('sqrt', Math.sqrt, 'exact', true),
  unary('tanh', Math.tanh, 'math', true),
  unary('sigmoid', sigmoid, 'math', true),
  unary('sin', Math.sin, 'math', true),
  unary('relu', (x) => (x <= 0 ? 0 : x), 'exact', false),
  unary('floor', Math.floor, 'exact', false),
  unary('round', roundHalfEven, 'exact', false),
  unary('reciprocal', (x) => 1 / x, 'exact', true),
  unary('square', (x) => x * x, 'exact', true, (x) => Math.imul(x, x)),
  unary('sign', (x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : x), 'exact', false),
  binary('add', (x, y) => x + y, 'exact', true, { int: (x, y) => (x + y) | 0 }),
  binary('sub', (x, y) => x - y, 'exact', true, { int: (x, y) => (x - y) | 0 }),
  binary('mul', (x, y) => x * y, 'exact', true, { int: Math.imul }),
  binary('div', (x, y) => x / y, 'exact', true, { result: floatOf }),
  binary('maximum', (x, y) => (x !== x || y !== y ? NaN : Math.max(x, y)), 'select', false, { int: Math.max }),
  binary('minimum', (x, y) => (x !== x || y !== y ? NaN : Math.min(x, y)), 'select', false, { int: Math.min }),
  binary('remainder', pyMod, 'math', false),
  binary('pow', Math.pow, 'math', true, { scalars: [2, 3, 0.5, -1, -0.5], scalarOnly: true }),
  compare('lt', (x, y) => x < y),
  compare('gt', (x, y) => x > y),
  compare('le', (x, y) => x <= y),
  compare('eq', (x, y) => x === y),
  compare('ne', (x, y) => x !== y),
  whereOp,
  castOp,
];
