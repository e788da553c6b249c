/**
 * The Wasm kernels' folds, in eager reductions and in row kernels alike: a float32 sum in its
 * fixed order (two groups of float64 lane accumulators, then whole vectors, then the tail,
 * merged in a set order), on values where every other order gives other bits; a max and a
 * min that do not depend on order at all (a NaN gives the canonical NaN, a zero max or min
 * is +0), checked over permutations of one row against the JavaScript engine.
 */
import { describe, expect, it } from 'vitest';
import type { KernelSpec, RowSpec } from '../../../../compiler/kernel.js';
import { lowerReduce } from '../../../../compiler/lower.js';
import type { Backend } from '../../../../runtime/backend.js';
import { wasmFeatures } from '../../../../runtime/wasm/features.js';
import { rendererPair } from './renderer-pair.js';

const { js, wasm, kinds } = rendererPair();

type Fold = 'sum' | 'max' | 'min';

/** The eager reduction of a [rows, cols] float32 tensor over its rows. */
function reduceSpec(op: Fold, rows: number, cols: number): { key: string; build: () => KernelSpec } {
  const input = { dtype: 'float32' as const, shape: [rows, cols], strides: [cols, 1], offset: 0 };
  return lowerReduce(op, input, [1], { dtype: 'float32', shape: [rows], strides: [1], offset: 0 });
}

/** A row kernel whose one pass folds each row and stores the row value, as softmax's max pass does. */
function rowSpec(op: Fold, rows: number, cols: number): { key: string; build: () => KernelSpec } {
  const spec: RowSpec = {
    kind: 'row', outer: [rows], inner: [cols], dtypes: ['float32', 'float32'],
    outerStrides: [[1], [cols]], innerStrides: [[0], [1]], rows: 1, scratch: 0,
    passes: [{
      kind: 'reduce', op, dtype: 'float32', outDtype: 'float32', body: [{ op: 'load', arg: 1 }], value: 0, row: 0,
      store: 0, saves: [],
    }],
  };
  return { key: `fold-row|${op}|${rows}|${cols}`, build: () => spec };
}

/** Runs a fold over `x` ([rows, cols]) on `backend`: the row results. */
function run(
  backend: Backend<any, any, KernelSpec>, lowered: { key: string; build: () => KernelSpec }, x: Float32Array,
  rows: number,
): Float32Array {
  const out = backend.alloc('float32', rows);
  const input = backend.alloc('float32', x.length);
  try {
    backend.write(input, 'float32', x);
    const args = [{ data: out, offset: 0 }, { data: input, offset: 0 }];
    backend.run([{ kernel: backend.compile(lowered.key, lowered.build), args, scalars: [] }]);
    return backend.readSync!(out, 'float32', 0, rows) as Float32Array;
  } finally {
    backend.free(out);
    backend.free(input);
  }
}

/** Both Wasm forms of a fold (eager reduction, row kernel), each checked to run as a Wasm module. */
function onWasm(op: Fold, x: Float32Array, rows: number, cols: number): Float32Array[] {
  return [reduceSpec(op, rows, cols), rowSpec(op, rows, cols)].map((lowered) => {
    kinds.length = 0;
    const got = run(wasm, lowered, x, rows);
    // A kernel renders on its first run only.
    expect(kinds.filter((k) => k !== 'wasm'), `${lowered.key} renders as`).toEqual([]);
    return got;
  });
}

const bitsOf = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

/** A deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The Wasm sum of one row, modelled: positions in the unrolled loop (whole runs of 8) go to
 * group (i >> 2) & 1, lane i & 3; the whole groups of four after them to group 0; the rest
 * to a scalar accumulator in order. Groups merge lane by lane (g0 + g1), lanes as
 * ((0 + 1) + (2 + 3)), and the scalar accumulator last.
 */
function modelSum(row: ArrayLike<number>, groups = 2): number {
  const n = row.length;
  const acc = [[0, 0, 0, 0], [0, 0, 0, 0]];
  const unrolled = n >= 4 * groups ? n - (n % (4 * groups)) : 0;
  const vectors = n >= 4 ? n - (n % 4) : 0;
  let tail = 0;
  for (let i = 0; i < n; i++) {
    if (i < unrolled) acc[(i >> 2) % groups]![i & 3] += row[i]!;
    else if (i < vectors) acc[0]![i & 3] += row[i]!;
    else tail += row[i]!;
  }
  const lane = (j: number) => acc[0]![j]! + acc[1]![j]!;
  return Math.fround(((lane(0) + lane(1)) + (lane(2) + lane(3))) + tail);
}

describe.skipIf(!wasmFeatures().simd)('Wasm folds', () => {
  it('sum float32 rows in their fixed order, which float64 rounding makes visible', () => {
    const rows = 32;
    // Rows whose bits would differ summed in order, or with one group of accumulators.
    let inOrder = 0, oneGroup = 0;
    for (const cols of [3, 4, 7, 8, 13, 16, 29, 64, 67]) {
      const next = random(cols);
      // Values near 1 among ±2^60 that cancel out: a partial sum holding 2^60 drops them, so order shows.
      const huge = () => (next() < 0.5 ? -1 : 1) * 2 ** 60;
      const x = Float32Array.from({ length: rows * cols }, () => (next() < 0.4 ? huge() : 1 + next()));
      for (let r = 0; r < rows; r++) {
        // An even count of huge values per row, half of each sign: the true sum is that of the rest.
        const at = [];
        for (let i = r * cols; i < (r + 1) * cols; i++) if (Math.abs(x[i]!) === 2 ** 60) at.push(i);
        if (at.length % 2 === 1) x[at.pop()!] = 1;
        at.forEach((i, j) => (x[i] = j % 2 === 0 ? 2 ** 60 : -(2 ** 60)));
      }
      const want = Float32Array.from({ length: rows }, (_, r) => modelSum(x.subarray(r * cols, (r + 1) * cols)));
      for (const got of onWasm('sum', x, rows, cols)) {
        expect(bitsOf(got), `sum of ${cols} columns`).toEqual(bitsOf(want));
      }
      for (let r = 0; r < rows; r++) {
        const row = x.subarray(r * cols, (r + 1) * cols);
        if (!Object.is(Math.fround(row.reduce((a, v) => a + v, 0)), want[r])) inOrder++;
        if (!Object.is(modelSum(row, 1), want[r])) oneGroup++;
      }
    }
    expect(inOrder).toBeGreaterThan(50);
    expect(oneGroup).toBeGreaterThan(4);
  });

  /** `rows` permutations of `values` (one per row), as a [rows, values.length] tensor. */
  function permutations(values: readonly number[], rows: number, seed: number): Float32Array {
    const next = random(seed);
    const out = new Float32Array(rows * values.length);
    for (let r = 0; r < rows; r++) {
      const row = [...values];
      for (let i = row.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [row[i], row[j]] = [row[j]!, row[i]!];
      }
      out.set(row, r * values.length);
    }
    return out;
  }

  /** Float32 bit patterns as numbers (NaNs with payloads and signs of their own). */
  const fromBits = (...bits: number[]) => Array.from(new Float32Array(new Uint32Array(bits).buffer));
  const NAN_BITS = 0x7fc00000;

  it.each(['max', 'min'] as const)('%s does not depend on order: canonical NaN, a zero result +0', (op) => {
    const rows = 16;
    const zero = 0;
    const cases: [string, number[], number][] = [];
    for (const cols of [1, 3, 4, 5, 8, 16, 17, 33, 67]) {
      const next = random(cols);
      const spread = Array.from({ length: cols }, () => (next() - 0.5) * 100);
      const extreme = op === 'max' ? Math.max(...spread) : Math.min(...spread);
      // Zeros of both signs tied for the extreme: every other value beyond them.
      const away = spread.map((v) => (op === 'max' ? -1 - Math.abs(v) : 1 + Math.abs(v)));
      const zeros = away.map((v, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? -0 : v));
      cases.push([`${cols} values`, spread, Math.fround(extreme)]);
      cases.push([`${cols} with tied zeros`, zeros, zero]);
      cases.push([`${cols} of -0`, new Array<number>(cols).fill(-0), zero]);
      cases.push([`${cols} of +0`, new Array<number>(cols).fill(0), zero]);
      const nans = fromBits(0x7fc00001, 0xffc00000, 0x7f800001, 0xffffffff);
      const withNaN = spread.map((v, i) => (i % 5 === 2 ? nans[i % 4]! : v));
      withNaN[cols - 1] = nans[cols % 4]!;
      cases.push([`${cols} with NaNs`, withNaN, NaN]);
      const infinities = spread.map((v, i) => (i % 4 === 1 ? (i % 8 === 1 ? Infinity : -Infinity) : v));
      const infinite = op === 'max' ? Math.max(...infinities) : Math.min(...infinities);
      cases.push([`${cols} with ±Infinity`, infinities, Math.fround(infinite)]);
    }
    for (const [what, values, want] of cases) {
      const x = permutations(values, rows, values.length);
      const expected = new Float32Array(rows).fill(want);
      if (Number.isNaN(want)) new Uint32Array(expected.buffer).fill(NAN_BITS);
      for (const got of onWasm(op, x, rows, values.length)) {
        expect(bitsOf(got), `${op} of ${what}`).toEqual(bitsOf(expected));
      }
      const onJs = run(js, reduceSpec(op, rows, values.length), x, rows);
      for (let r = 0; r < rows; r++) {
        const same = Object.is(onJs[r], want) || (Number.isNaN(want) && Number.isNaN(onJs[r]!));
        expect(same, `${op} of ${what} on the JavaScript engine, row ${r}: ${onJs[r]}`).toBe(true);
      }
    }
  });
});
