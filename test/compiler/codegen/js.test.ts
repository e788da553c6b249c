/**
 * The JavaScript renderer's interleaved loops: several elements (map kernels) or rows (row
 * kernels) per iteration must compute bit for bit what the same kernel computes one element
 * and one row at a time (`renderJs(spec, false)`), for every layout: remainders, broadcast
 * (stride 0) and reversed (negative stride) operands, offsets, NaN, infinities and -0.
 */
import { describe, expect, it } from 'vitest';
import { renderJs } from '../../../compiler/codegen/js.js';
import { jsHelpers } from '../../../compiler/codegen/js-helpers.js';
import type { Expr, KernelSpec, MapSpec, RowSpec } from '../../../compiler/kernel.js';
import { rng } from '../../helpers.js';

type Kernel = (...args: unknown[]) => void;

function compile(source: string): Kernel {
  return new Function('M', source)(jsHelpers) as Kernel;
}

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1.401298464324817e-45, -3.4028234663852886e38, 3.9, -4.5, 0.5];

/** `n` float32 values: normals, with a special value at every 7th position. */
function values(next: () => number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(next(), 1e-12);
    out[i] = i % 7 === 3 ? SPECIAL[i % SPECIAL.length]! : 2 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  }
  return out;
}

/**
 * Runs `spec` rendered both ways on copies of the same buffers (arg 0 and `outputs` are
 * written) and expects the same bits everywhere. Returns the interleaved source.
 */
function expectSameBits(spec: KernelSpec, buffers: Float32Array[], offsets: number[], outputs: number[] = [0]): string {
  const source = renderJs(spec);
  const runs = [source, renderJs(spec, false)].map((src) => {
    const bufs = buffers.map((b) => b.slice());
    compile(src)(...bufs, ...offsets);
    return bufs;
  });
  for (const a of outputs) {
    const [got, want] = [runs[0]![a]!, runs[1]![a]!];
    for (let i = 0; i < want.length; i++) {
      if (!Object.is(got[i], want[i])) expect.fail(`arg ${a}[${i}]: interleaved ${got[i]}, one at a time ${want[i]}`);
    }
  }
  return source;
}

const f32 = (n: number) => Array.from({ length: n }, () => 'float32' as const);
const load = (arg: number): Expr => ({ op: 'load', arg });
const prim = (p: Extract<Expr, { op: 'prim' }>['prim'], ...args: number[]): Expr => ({ op: 'prim', prim: p, args, dtype: 'float32' });
const literal = (value: number): Expr => ({ op: 'literal', value: Math.fround(value), dtype: 'float32' });

/** gelu(x * a + b) as the jit fuses it; `calls` erf calls (1 to 3) added together. */
function geluBody(calls: number): Expr[] {
  const body: Expr[] = [load(1), load(2), prim('mul', 0, 1), load(3), prim('add', 2, 3), literal(0.5), prim('mul', 4, 5), literal(Math.SQRT1_2), prim('mul', 4, 7)];
  body.push(prim('erf', 8));
  for (let c = 1; c < calls; c++) body.push(prim('erf', body.length - 1), prim('add', body.length, 9));
  body.push(literal(1), prim('add', body.length - 1, body.length), prim('mul', 6, body.length + 1));
  return body;
}

function geluMap(shape: number[], strides: number[][], calls = 1): MapSpec {
  const body = geluBody(calls);
  return { kind: 'map', shape, dtypes: f32(4), strides, body, stores: [{ arg: 0, node: body.length - 1 }] };
}

describe('interleaved map kernels', () => {
  it('compute what one element at a time computes, remainders and every stride kind included', () => {
    const next = rng(7);
    // [shape, strides of out, x, a, b, offsets]: flat runs of every remainder mod 4, a 2-D
    // nest with a broadcast row, a reversed operand, a transposed one.
    const cases: [number[], number[][], number[]][] = [
      [[32], [[1], [1], [1], [1]], [0, 0, 0, 0]],
      [[33], [[1], [1], [1], [1]], [0, 0, 0, 0]],
      [[66], [[1], [1], [1], [1]], [3, 1, 2, 0]],
      [[1027], [[1], [1], [0], [1]], [0, 5, 7, 9]],
      [[3, 41], [[41, 1], [41, 1], [0, 1], [1, 0]], [0, 0, 0, 0]],
      [[2, 40], [[40, 1], [-40, -1], [1, 2], [40, 1]], [0, 79, 0, 0]],
    ];
    for (const [shape, strides, offsets] of cases) {
      const size = 80 * 42;
      const bufs = [new Float32Array(size + 16), values(next, size + 16), values(next, size + 16), values(next, size + 16)];
      const source = expectSameBits(geluMap(shape, strides), bufs, offsets);
      expect(source, `shape ${shape}`).toContain('v9_3 = M.erf(v8_3)');
    }
  });

  it('count positions from the group start (iota) and keep -0', () => {
    const body: Expr[] = [{ op: 'position' }, { op: 'cast', arg: 0, from: 'int32', to: 'float32' }, load(1), prim('mul', 1, 2)];
    const spec: MapSpec = { kind: 'map', shape: [45], dtypes: f32(2), strides: [[1], [1]], body, stores: [{ arg: 0, node: 3 }] };
    const x = values(rng(3), 45);
    x[0] = -1;
    expectSameBits(spec, [new Float32Array(45), x], [0, 0]);
  });

  it('keep every helper call inlinable: fewer copies for bigger calls, none for gathers or short loops', () => {
    const strides = [[1], [1], [1], [1]];
    const copies = (source: string) => [1, 2, 3].filter((j) => source.includes(`v0_${j}`)).length + 1;
    expect(copies(renderJs(geluMap([64], strides)))).toBe(4);
    expect(copies(renderJs(geluMap([64], strides, 3)))).toBe(2);
    const trig: MapSpec = { kind: 'map', shape: [64], dtypes: f32(2), strides: [[1], [1]], body: [load(1), prim('sin', 0), prim('cos', 0), prim('add', 1, 2)], stores: [{ arg: 0, node: 3 }] };
    expect(copies(renderJs(trig))).toBe(1);
    expect(copies(renderJs(geluMap([31], strides)))).toBe(1);
    const gather: MapSpec = {
      kind: 'map', shape: [64], dtypes: ['float32', 'float32', 'int32'], strides: [[1], [0], [1]],
      body: [load(2), { op: 'gatherLoad', arg: 1, index: 0, stride: 1, size: 8 }], stores: [{ arg: 0, node: 1 }],
    };
    expect(copies(renderJs(gather))).toBe(1);
  });
});

/** layerNorm over rows of `cols` with weight and bias: the passes the jit builds for it. */
function layerNormRows(rows: number, cols: number): RowSpec {
  return {
    kind: 'row', outer: [rows], inner: [cols], dtypes: f32(5),
    outerStrides: [[cols], [cols], [0], [0], [1]], innerStrides: [[1], [1], [1], [1], [0]],
    rows: 6, scratch: 1,
    passes: [
      { kind: 'reduce', op: 'sum', dtype: 'float32', outDtype: 'float32', body: [load(1)], value: 0, row: 0, saves: [] },
      { kind: 'scalar', body: [{ op: 'row', index: 0 }, literal(cols), prim('div', 0, 1)], value: 2, row: 1, store: 4 },
      {
        kind: 'reduce', op: 'sum', dtype: 'float32', outDtype: 'float32',
        body: [load(1), { op: 'row', index: 1 }, prim('sub', 0, 1), prim('mul', 2, 2)], value: 3, row: 2, saves: [{ node: 2, index: 0 }],
      },
      { kind: 'scalar', body: [{ op: 'row', index: 2 }, literal(cols), prim('div', 0, 1)], value: 2, row: 3 },
      { kind: 'scalar', body: [{ op: 'row', index: 3 }, literal(1e-5), prim('add', 0, 1)], value: 2, row: 4 },
      { kind: 'scalar', body: [{ op: 'row', index: 4 }, prim('sqrt', 0)], value: 1, row: 5 },
      {
        kind: 'map', body: [{ op: 'scratch', index: 0 }, { op: 'row', index: 5 }, prim('div', 0, 1), load(2), prim('mul', 2, 3), load(3), prim('add', 4, 5)],
        stores: [{ arg: 0, node: 6 }], saves: [],
      },
    ],
  };
}

/** softmax over rows: a max pass, a sum of exponentials kept in scratch, a division. */
function softmaxRows(rows: number, cols: number, outer = [rows], outerStrides = [[cols], [cols]], innerStrides = [[1], [1]]): RowSpec {
  return {
    kind: 'row', outer, inner: [cols], dtypes: f32(2),
    outerStrides, innerStrides, rows: 2, scratch: 1,
    passes: [
      { kind: 'reduce', op: 'max', dtype: 'float32', outDtype: 'float32', body: [load(1)], value: 0, row: 0, saves: [] },
      {
        kind: 'reduce', op: 'sum', dtype: 'float32', outDtype: 'float32',
        body: [load(1), { op: 'row', index: 0 }, prim('sub', 0, 1), prim('exp', 2)], value: 3, row: 1, saves: [{ node: 3, index: 0 }],
      },
      { kind: 'map', body: [{ op: 'scratch', index: 0 }, { op: 'row', index: 1 }, prim('div', 0, 1)], stores: [{ arg: 0, node: 2 }], saves: [] },
    ],
  };
}

describe('interleaved row kernels', () => {
  it('compute every row as one row at a time does, with the rows left over after the groups', () => {
    const next = rng(11);
    for (const [rows, cols] of [[8, 33], [11, 7], [13, 64]] as const) {
      const n = rows * cols;
      const ln = layerNormRows(rows, cols);
      const source = expectSameBits(ln, [new Float32Array(n), values(next, n), values(next, cols), values(next, cols), new Float32Array(rows)], [0, 0, 0, 0, 0], [0, 4]);
      expect(source).toContain('acc_3');
      expectSameBits(softmaxRows(rows, cols), [new Float32Array(n), values(next, n)], [0, 0]);
    }
  });

  it('group rows along the last outer dim, whatever the strides', () => {
    const next = rng(13);
    // [2, 9] rows of 16: the second outer dim is grouped; then rows that are columns of a
    // [16, 10] matrix (softmax over axis 0): inner stride 10, row j at j elements.
    const nested = softmaxRows(18, 16, [2, 9], [[144, 16], [144, 16]]);
    expect(expectSameBits(nested, [new Float32Array(288), values(next, 288)], [0, 0])).toContain('acc_3');
    const columns = softmaxRows(10, 16, [10], [[1], [1]], [[10], [10]]);
    expect(expectSameBits(columns, [new Float32Array(160), values(next, 160)], [0, 0])).toContain('acc_3');
  });

  it('run short row counts one row at a time, and long rows in smaller groups (each row has its own scratch)', () => {
    expect(renderJs(layerNormRows(7, 16))).not.toContain('acc_1');
    const long = renderJs(layerNormRows(8, 1 << 19));
    expect(long).toContain('acc_1');
    expect(long).not.toContain('acc_2');
    expect(long).toContain(`new Float64Array(${1 << 20})`);
  });
});
