/**
 * Elementwise rows: unary math, binary arithmetic with broadcasting and JS-number operands,
 * comparisons, logical ops, where and casts, over float, int32 and bool inputs, including
 * NaN, ±Inf, -0 and zero-size shapes.
 */
import * as k from '../../../../src/index.js';
import { mapBroadcast, sizeOfShape, type RefArray } from '../../ref-arrays.js';
import { elementwiseOps, erfRef as erf, type ElementwiseOp } from './elementwise-ops.js';
import { fromFuzz } from './from-fuzz.js';
import { bools, floats, gridFloats, ints, type TableInput, type TableRecord } from './record.js';

const SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1, -1, 0.5, 2.5, -3.5, 1e-3];
/** Values drawn from NaN, ±Inf, ±0 and a few ordinary numbers (ties of .5 included). */
const specials = (next: () => number, shape: number[]): TableInput => {
  const values = Array.from({ length: sizeOfShape(shape) }, () => SPECIAL[Math.floor(next() * SPECIAL.length)]!);
  return { ref: { shape, values }, kind: 'float' };
};
/** Floats of either sign kept away from zero (division, reciprocal). */
const awayFromZero = (next: () => number, shape: number[]): TableInput => {
  const x = floats(next, shape, 0.5, 2);
  return { ...x, ref: { shape, values: x.ref.values.map((v) => (next() < 0.5 ? -v : v)) } };
};

/** int32 values of either sign in 1..5 (divisors). */
const nonzeroInts = (next: () => number, shape: number[]): TableInput => {
  const x = ints(next, shape, 1, 6);
  return { ...x, ref: { shape, values: x.ref.values.map((v) => (next() < 0.5 ? -v : v)) } };
};

/** Operand shapes that broadcast both ways: [3, 1, 4] with [2, 1]. */
const A = [3, 1, 4], B = [2, 1];

const map = (a: RefArray, f: (v: number) => number): RefArray => ({ shape: a.shape, values: a.values.map(f) });
const map2 = (a: RefArray, b: RefArray, f: (x: number, y: number) => number): RefArray => mapBroadcast([a, b], f);

const unaryFloat: [string, (next: () => number) => TableInput[], boolean][] = [
  ['neg', (n) => [floats(n, [3, 4])], true],
  ['abs', (n) => [floats(n, [3, 4])], false],
  ['exp', (n) => [floats(n, [3, 4])], true],
  ['log', (n) => [floats(n, [3, 4], 0.1, 3)], true],
  ['sqrt', (n) => [floats(n, [3, 4], 0.1, 3)], true],
  ['tanh', (n) => [floats(n, [3, 4])], true],
  ['sigmoid', (n) => [floats(n, [3, 4], -6, 6)], true],
  ['sin', (n) => [floats(n, [3, 4], -4, 4)], true],
  ['relu', (n) => [floats(n, [3, 4])], false],
  ['floor', (n) => [floats(n, [3, 4], -3, 3)], false],
  // Halves of a grid: ties round to even.
  ['round', (n) => [gridFloats(n, [3, 4])].map((x) => ({ ...x, ref: map(x.ref, (v) => v / 2 + 0.5) })), false],
  ['reciprocal', (n) => [awayFromZero(n, [3, 4])], true],
  ['square', (n) => [floats(n, [3, 4])], true],
  ['sign', (n) => [gridFloats(n, [3, 4])], false],
];

// Targets index the fuzzer's list: float32, float64, int32, bool.
const CASTS = [
  [2, 'float', 'int32'], [3, 'float', 'bool'], [0, 'int32', 'float32'], [1, 'int32', 'float64'], [0, 'bool', 'float32'],
  [1, 'bool', 'float64'], [2, 'bool', 'int32'], [3, 'int32', 'bool'],
] as const;
/** Floats that truncate to int32, a grid with zeros for bool, or ints and bools as they are. */
function castInput(n: () => number, from: 'float' | 'int32' | 'bool', to: string): TableInput {
  if (from === 'float') return to === 'int32' ? floats(n, [3, 4], -3, 3) : gridFloats(n, [3, 4]);
  return from === 'int32' ? ints(n, [3, 4], -9, 9) : bools(n, [3, 4]);
}

const fuzzRows: TableRecord[] = [
  ...unaryFloat.map(([op, inputs, grad]) => fromFuzz({ op, inputs, grad })),
  ...['neg', 'abs', 'square'].map((op) => fromFuzz({
    op, name: `${op} (int32)`, inputs: (n) => [ints(n, [3, 4], -50, 50)],
  })),
  ...['add', 'sub', 'mul', 'maximum', 'minimum'].flatMap((op) => [
    fromFuzz({
      op, name: `${op} with broadcasting`, inputs: (n) => [floats(n, A), floats(n, B)],
      grad: op !== 'maximum' && op !== 'minimum',
    }),
    fromFuzz({ op, name: `${op} (int32, broadcasting)`, inputs: (n) => [ints(n, A, -20, 20), ints(n, B, -20, 20)] }),
    fromFuzz({
      op, name: `${op} with a JS number`, inputs: (n) => [floats(n, [2, 3])], params: { c: 0.75 },
      grad: op !== 'maximum' && op !== 'minimum',
    }),
    fromFuzz({
      op, name: `${op} on NaN, ±Inf and ±0`, inputs: (n) => [specials(n, [4, 6]), specials(n, [6])], grad: false,
    }),
  ]),
  fromFuzz({ op: 'div', name: 'div with broadcasting', inputs: (n) => [floats(n, A), awayFromZero(n, B)] }),
  fromFuzz({ op: 'div', name: 'div (int32 to float)', inputs: (n) => [ints(n, [3, 4], -20, 20), ints(n, [4], 1, 6)] }),
  fromFuzz({
    op: 'div', name: 'div on NaN, ±Inf and ±0', inputs: (n) => [specials(n, [4, 6]), specials(n, [6])], grad: false,
  }),
  fromFuzz({
    op: 'remainder', name: 'remainder (signs of both operands)',
    inputs: (n) => [floats(n, A, -5, 5), awayFromZero(n, B)],
  }),
  fromFuzz({
    op: 'pow', name: 'pow by a tensor, broadcasting', inputs: (n) => [floats(n, A, 0.2, 2), floats(n, B, -2, 2)],
  }),
  fromFuzz({
    op: 'remainder', name: 'remainder (int32, signs of both operands)',
    inputs: (n) => [ints(n, A, -20, 20), nonzeroInts(n, B)],
  }),
  ...[2, 3, 0.5, -1, -0.5].map((c) => fromFuzz({
    op: 'pow', name: `pow by ${c}`, inputs: (n) => [floats(n, [3, 4], 0.2, 2)], params: { c },
  })),
  ...['lt', 'gt', 'le', 'eq', 'ne'].flatMap((op) => [
    fromFuzz({ op, name: `${op} with ties and broadcasting`, inputs: (n) => [gridFloats(n, A), gridFloats(n, B)] }),
    fromFuzz({ op, name: `${op} (int32 with float)`, inputs: (n) => [ints(n, [3, 4], -2, 3), gridFloats(n, [4])] }),
    fromFuzz({ op, name: `${op} on NaN, ±Inf and ±0`, inputs: (n) => [specials(n, [4, 6]), specials(n, [6])] }),
  ]),
  fromFuzz({
    op: 'where', name: 'where with broadcasting',
    inputs: (n) => [bools(n, [3, 1]), floats(n, [3, 4]), floats(n, [4])],
  }),
  fromFuzz({
    op: 'where', name: 'where (int32 with float)',
    inputs: (n) => [bools(n, [2, 3]), ints(n, [2, 3], -5, 5), floats(n, [3])], grad: false,
  }),
  ...CASTS.map(([target, from, to]) => fromFuzz({
    op: 'cast', name: `cast ${from} to ${to}`, params: { dtype: target },
    inputs: (n) => [castInput(n, from, to)],
    extra: to === 'float64' ? { needs: ['float64'] } : {},
  })),
  fromFuzz({ op: 'add', name: 'add on zero-size shapes', inputs: (n) => [floats(n, [0, 3]), floats(n, [3])] }),
  fromFuzz({ op: 'exp', name: 'exp on a zero-size shape', inputs: (n) => [floats(n, [2, 0])] }),
];

/** Elementwise ops the fuzzer does not generate, with their float64 meaning here. */
const moreRows: TableRecord[] = [
  {
    name: 'log1p, expm1, rsqrt, cos, tan, ceil',
    inputs: (n) => [floats(n, [3, 5], 0.1, 1.4)],
    call: (x) => [x.log1p(), x.expm1(), x.rsqrt(), x.cos(), k.tan(x), x.ceil()],
    ref: (x) => [
      map(x, Math.log1p), map(x, Math.expm1), map(x, (v) => 1 / Math.sqrt(v)), map(x, Math.cos), map(x, Math.tan),
      map(x, Math.ceil),
    ],
    grad: true,
  },
  {
    name: 'erf, gelu (exact and tanh), silu',
    inputs: (n) => [floats(n, [3, 5], -2.5, 2.5)],
    call: (x) => [x.erf(), k.gelu(x), k.gelu(x, 'tanh'), k.silu(x)],
    ref: (x) => [
      map(x, erf),
      map(x, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))),
      map(x, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))),
      map(x, (v) => v / (1 + Math.exp(-v))),
    ],
    grad: true,
    refTol: { rtol: 1e-7, atol: 1e-9 },
  },
  {
    name: 'clamp with either or both bounds',
    inputs: (n) => [floats(n, [4, 5], -3, 3)],
    call: (x) => [x.clamp(-1, 1.5), k.clamp(x, 0.5), k.clamp(x, null, -0.5)],
    ref: (x) => [
      map(x, (v) => Math.min(Math.max(v, -1), 1.5)), map(x, (v) => Math.max(v, 0.5)),
      map(x, (v) => Math.min(v, -0.5)),
    ],
    grad: true,
  },
  {
    name: 'ge, isnan and the logical ops',
    inputs: (n) => [specials(n, [3, 4]), bools(n, [3, 4]), bools(n, [4])],
    call: (x, p, q) => [x.ge(0.5), x.isnan(), p.logicalAnd(q), k.logicalOr(p, q), p.logicalNot(), k.logicalAnd(x, p)],
    ref: (x, p, q) => [
      map(x, (v) => (v >= 0.5 ? 1 : 0)),
      map(x, (v) => (Number.isNaN(v) ? 1 : 0)),
      map2(p, q, (a, b) => (a && b ? 1 : 0)),
      map2(p, q, (a, b) => (a || b ? 1 : 0)),
      map(p, (v) => (v ? 0 : 1)),
      map2(x, p, (a, b) => (a !== 0 && b ? 1 : 0)),
    ],
    grad: false,
  },
];

/** Operand shapes by arity: broadcasting both ways, and a third operand broadcast along rows. */
const SHAPES: Record<1 | 2 | 3, number[][]> = { 1: [[3, 4]], 2: [[3, 1], [1, 4]], 3: [[3, 1], [1, 4], [4]] };

/** Rows from a record of elementwise.test.ts: random draws from its domains, and its special values. */
function fromElementwise(op: ElementwiseOp): TableRecord[] {
  const special = op.special ?? [];
  const rows: TableRecord[] = [{
    name: `${op.name} over its domain, broadcasting`,
    inputs: (next) => SHAPES[op.arity].map((shape, i) =>
      ({ ref: { shape, values: op.domain[i]!(next, sizeOfShape(shape)) }, kind: 'float' as const })),
    call: (...xs) => op.call(...xs),
    ref: (...xs) => [mapBroadcast(xs, op.ref)],
    grad: false,
    ...(op.tol?.float64 ? { refTol: op.tol.float64 } : {}),
  }];
  if (special.length > 0) {
    rows.push({
      name: `${op.name} on its special values`,
      inputs: () => Array.from({ length: op.arity }, (_, i) =>
        ({ ref: { shape: [special.length], values: special.map((r) => Number(r[i])) }, kind: 'float' as const })),
      call: (...xs) => op.call(...xs),
      ref: () => [{ shape: [special.length], values: special.map((r) => Number(r[op.arity])) }],
      grad: false,
    });
  }
  return rows;
}

export const elementwiseRows: TableRecord[] = [...fuzzRows, ...moreRows, ...elementwiseOps.flatMap(fromElementwise)];
