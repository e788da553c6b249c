/**
 * Elementwise ops against float64 references (the records of ./table/elementwise-ops.ts):
 * random inputs per dtype, broadcasting, strided views, zero-size shapes and hand-worked
 * special values (NaN, ±Inf, -0, int32 wrap-around).
 */
import { describe, expect, it } from 'vitest';
import * as k from '../../../src/index.js';
import type { DType, Tensor, TensorLike } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';
import { withSeed } from '../random-inputs.js';
import { broadcastShape, expandRef, mapBroadcast, permuteRef, sliceRef, type RefArray } from '../ref-arrays.js';
import {
  elementwiseOps, erfRef, expected, operand, outDtype, roundHalfEvenRef, scalarOperand, tolerance, type ElementwiseOp,
} from './table/elementwise-ops.js';

function check(op: ElementwiseOp, dt: DType, got: Tensor, operands: RefArray[]): void {
  const want = mapBroadcast(operands, (...xs) => expected(op, dt, xs));
  expectAllClose(got, want.values, { shape: want.shape, dtype: outDtype(op, dt), ...tolerance(op, dt) });
}

/** Broadcast cases per arity: operand shapes ('s' marks a JS scalar operand). */
const BROADCAST: Record<2 | 3, (number[] | 's')[][]> = {
  2: [[[3, 1], [1, 4]], [[2, 3, 4], [4]], [[4], [2, 3, 4]], [[], [2, 3]], [[2, 3], []], [[1], [5]], [[2, 3], 's'], ['s', [2, 3]], [[], 's']],
  3: [[[3, 1], [1, 4], [4]], [[2, 3, 4], [], [3, 1]], [[4], [2, 1, 4], 's'], [[3, 1], 's', [1, 2]]],
};

/**
 * Strided views of logical shape [4, 6], each with the reference transformed alongside:
 * transposed, sliced with step 2 on either axis, expanded along rows or columns.
 */
type ViewMaker = { name: string; base: number[]; view: (t: Tensor) => Tensor; ref: (r: RefArray) => RefArray };
const VIEWS: ViewMaker[] = [
  { name: 'transposed', base: [6, 4], view: (t) => t.transpose(0, 1), ref: (r) => permuteRef(r, [1, 0]) },
  { name: 'sliced cols step 2', base: [4, 12], view: (t) => t.slice(1, 1, 12, 2), ref: (r) => sliceRef(r, 1, 1, 12, 2) },
  { name: 'sliced rows step 2', base: [8, 6], view: (t) => t.slice(0, 0, 8, 2), ref: (r) => sliceRef(r, 0, 0, 8, 2) },
  { name: 'expanded rows', base: [1, 6], view: (t) => t.expand([4, 6]), ref: (r) => expandRef(r, [4, 6]) },
  { name: 'expanded cols', base: [4, 1], view: (t) => t.expand([4, 6]), ref: (r) => expandRef(r, [4, 6]) },
  {
    // Offset, strides [1, 8]: a permuted base, sliced, with its size-1 dim reshaped away.
    name: 'permuted 3-d, sliced',
    base: [6, 2, 4],
    view: (t) => t.permute([2, 0, 1]).slice(2, 1, 2).reshape([4, 6]),
    ref: (r) => ({ shape: [4, 6], values: sliceRef(permuteRef(r, [2, 0, 1]), 2, 1, 2, 1).values }),
  },
];

function viewOperand(op: ElementwiseOp, dt: DType, i: number, v: ViewMaker, next: () => number): { t: Tensor; ref: RefArray } {
  const base = operand(op, dt, i, v.base, next);
  const t = v.view(base.t);
  return { t, ref: v.ref(base.ref) };
}

function labelOfShape(s: number[] | 's'): string {
  return s === 's' ? 'scalar' : `[${s.join(',')}]`;
}

describe('reference functions', () => {
  it('erf matches tabulated values', () => {
    const table: [number, number][] = [
      [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527],
      [3, 0.9999779095030014], [4, 0.9999999845827421], [-1.5, -0.9661051464753108],
      [2.26, 0.9986071211165418], [2.3, 0.9988568234026434], [2.4435, 0.9994509933339552],
    ];
    // Within a few ulp; its worst case (sum rounding near x = 2) is ~12 ulp ≈ 1.4e-15.
    for (const [x, e] of table) expect(Math.abs(erfRef(x) - e), `erf(${x})`).toBeLessThanOrEqual(1.5e-15 * Math.abs(e));
  });
  it('round half to even keeps the sign of zero', () => {
    expect([0.5, 1.5, 2.5, -0.5, -2.5, -0.2].map(roundHalfEvenRef)).toEqual([0, 2, 2, -0, -2, -0]);
    expect(Object.is(roundHalfEvenRef(-0.5), -0)).toBe(true);
  });
});

describe.each(elementwiseOps)('$name', (op) => {
  for (const dt of op.dtypes) {
    it(`${dt}: random inputs match the reference`, () => {
      withSeed(`${op.name}/${dt}/random`, (next) => {
        const operands = Array.from({ length: op.arity }, (_, i) => operand(op, dt, i, [4, 50], next));
        check(op, dt, op.call(...operands.map((o) => o.t)), operands.map((o) => o.ref));
      });
    });

    if (op.arity > 1) {
      for (const shapes of BROADCAST[op.arity as 2 | 3]) {
        it(`${dt}: broadcasts ${shapes.map(labelOfShape).join(' × ')}`, () => {
          withSeed(`${op.name}/${dt}/broadcast/${shapes.map(labelOfShape).join('x')}`, (next) => {
            const args: TensorLike[] = [];
            const refs: RefArray[] = [];
            shapes.forEach((s, i) => {
              if (s === 's') {
                const o = scalarOperand(op, dt, i, next);
                args.push(o.s);
                refs.push(o.ref);
              } else {
                const o = operand(op, dt, i, s, next);
                args.push(o.t);
                refs.push(o.ref);
              }
            });
            check(op, dt, op.call(...args), refs);
          });
        });
      }
    }

    it(`${dt}: strided views give the same values as contiguous ones`, () => {
      withSeed(`${op.name}/${dt}/views`, (next) => {
        // Each view in turn for the first operand; the others take the following views.
        for (let j = 0; j < VIEWS.length; j++) {
          const operands = Array.from({ length: op.arity }, (_, i) => viewOperand(op, dt, i, VIEWS[(j + i) % VIEWS.length]!, next));
          try {
            check(op, dt, op.call(...operands.map((o) => o.t)), operands.map((o) => o.ref));
          } catch (e) {
            if (e instanceof Error) e.message = `views ${operands.map((_, i) => VIEWS[(j + i) % VIEWS.length]!.name).join(', ')}: ${e.message}`;
            throw e;
          }
        }
      });
    });

    if (op.arity > 1) {
      it(`${dt}: an operand aliasing another (x with its own transpose)`, () => {
        withSeed(`${op.name}/${dt}/alias`, (next) => {
          // Drawn from the last operand's domain, which suits every position (divisors stay non-zero).
          const x = operand(op, dt, op.arity - 1, [5, 5], next);
          const args = Array.from({ length: op.arity }, (_, i) => (i % 2 === 0 ? x.t : x.t.transpose(0, 1)));
          const refs = Array.from({ length: op.arity }, (_, i) => (i % 2 === 0 ? x.ref : permuteRef(x.ref, [1, 0])));
          check(op, dt, op.call(...args), refs);
        });
      });
    }

    it(`${dt}: zero-size shapes`, () => {
      const cases: number[][][] = op.arity === 1
        ? [[[0]], [[2, 0, 3]], [[0, 1]]]
        : [[[2, 0, 3], [3]], [[0], [1]], [[2, 0, 3], [2, 1, 3]], [[0], []]].map((c) => [...c, ...Array<number[]>(op.arity - 2).fill([1])]);
      for (const shapes of cases) {
        const got = op.call(...shapes.map((s) => k.zeros(s, { dtype: dt })));
        expect(got.shape, `shapes ${JSON.stringify(shapes)}`).toEqual(broadcastShape(shapes));
        expect(got.dtype).toBe(outDtype(op, dt));
        expect(got.data().length).toBe(0);
      }
    });
  }

  const rows = [
    ...(op.special ? op.dtypes.filter((d) => d === 'float32' || d === 'float64').map((dt) => ({ dt, rows: op.special! })) : []),
    ...(op.int32Special ? [{ dt: 'int32' as DType, rows: op.int32Special }] : []),
  ];
  for (const { dt, rows: table } of rows) {
    it(`${dt}: special values`, () => {
      const cols = Array.from({ length: op.arity }, (_, i) => table.map((r) => Number(r[i])));
      const got = op.call(...cols.map((c) => k.tensor(c, { dtype: dt })));
      const want = table.map((r) => Number(r[op.arity]));
      const stored = outDtype(op, dt) === 'float32' ? Math.fround : (v: number) => v;
      expectAllClose(got, want.map(stored), { shape: [table.length], dtype: outDtype(op, dt), rtol: 0, atol: 0, signedZero: true });
    });
  }
});

describe('scalar operands', () => {
  it('a JS number on either side of a binary op', () => {
    const x = k.tensor([1, 2, 3]);
    expectAllClose(k.sub(10, x), [9, 8, 7], { dtype: 'float32', rtol: 0, atol: 0 });
    expectAllClose(k.sub(x, 10), [-9, -8, -7], { dtype: 'float32', rtol: 0, atol: 0 });
    expectAllClose(k.div(1, x), [1, 0.5, Math.fround(1 / 3)], { dtype: 'float32', rtol: 0, atol: 0 });
    expectAllClose(k.pow(2, x), [2, 4, 8], { dtype: 'float32', rtol: 0, atol: 0 });
  });
  it('two JS scalars give a 0-d tensor of the default dtype of their kind', () => {
    expectAllClose(k.add(1, 2), 3, { dtype: 'int32', shape: [] });
    expectAllClose(k.add(1, 0.5), 1.5, { dtype: 'float32', shape: [] });
    expectAllClose(k.logicalAnd(true, false), false, { dtype: 'bool', shape: [] });
  });
  it('a weak float scalar is rounded to float32 before a float32 op', () => {
    // 0.1 is not representable: the tensor op sees fround(0.1), as PyTorch does.
    expectAllClose(k.tensor([0]).add(0.1), [Math.fround(0.1)], { dtype: 'float32', rtol: 0, atol: 0 });
    expectAllClose(k.tensor([0], { dtype: 'float64' }).add(0.1), [0.1], { dtype: 'float64', rtol: 0, atol: 0 });
  });
});

describe('float32 range', () => {
  // The same inputs stay finite in float64: float32 results are rounded to float32's range.
  it('overflows to ±Inf and underflows to 0 where float64 would not', () => {
    const big = k.tensor([3e38, -3e38]);
    expectAllClose(big.add(big), [Infinity, -Infinity], { dtype: 'float32' });
    expectAllClose(big.cast('float64').add(big.cast('float64')), [2 * Math.fround(3e38), -2 * Math.fround(3e38)], { dtype: 'float64', rtol: 1e-15 });
    expectAllClose(k.tensor([2e19]).square(), [Infinity], { dtype: 'float32' });
    expectAllClose(k.tensor([89, -104]).exp(), [Infinity, 0], { dtype: 'float32', rtol: 0, atol: 0 });
    expectAllClose(k.tensor([1e-30]).mul(1e-30), [0], { dtype: 'float32', rtol: 0, atol: 0 });
    expectAllClose(k.tensor([1e-30], { dtype: 'float64' }).mul(1e-30), [1e-60], { dtype: 'float64', rtol: 1e-15, atol: 0 });
  });
  it('keeps float32 subnormals', () => {
    const tiny = Math.fround(1e-40);
    expectAllClose(k.tensor([tiny]).mul(2), [Math.fround(2 * tiny)], { dtype: 'float32', rtol: 0, atol: 0 });
    expectAllClose(k.tensor([tiny]).neg(), [-tiny], { dtype: 'float32', rtol: 0, atol: 0 });
  });
});

describe('inputs are not modified', () => {
  it('by any op in the table', () => {
    withSeed('inputs-unchanged', (next) => {
      for (const op of elementwiseOps) {
        for (const dt of op.dtypes) {
          const operands = Array.from({ length: op.arity }, (_, i) => operand(op, dt, i, [3, 4], next));
          const before = operands.map((o) => Array.from(o.t.data(), Number));
          const versions = operands.map((o) => o.t.storage.version);
          op.call(...operands.map((o) => o.t));
          operands.forEach((o, i) => {
            expect(Array.from(o.t.data(), Number), `${op.name} ${dt} operand ${i}`).toEqual(before[i]);
            expect(o.t.storage.version).toBe(versions[i]);
          });
        }
      }
    });
  });
});
