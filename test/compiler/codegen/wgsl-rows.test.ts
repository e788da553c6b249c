/**
 * Reduce and row kernels on WebGPU against the CPU kernels of the same specs: rows shorter
 * than, as long as, longer than and not a multiple of the lanes that share a row; rows of
 * one element and empty rows; row counts that leave the last workgroup part empty; a
 * second grid dimension; vec4 and element-by-element walks (aligned and unaligned
 * offsets); walks across rows (reductions over a leading axis); scratch kept per invocation
 * and recomputed; NaN in max and min, ties in argmax and argmin, int32 sums that wrap.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { defaultWgslLimits, renderWgsl, type WgslLimits } from '../../../compiler/codegen/wgsl.js';
import { GpuKernels } from '../../webgpu-kernels.js';
import { primitiveRules, type ReducePrim } from '../../../compiler/ir/primitives.js';
import type { Expr, KernelSpec, RowSpec } from '../../../compiler/kernel.js';
import { lowerReduce } from '../../../compiler/lower.js';
import { ARRAY_OF, type DType, type TypedArray } from '../../../runtime/dtype.js';
import { rng } from '../../helpers.js';
import { cpuRun, expectMatch, lay, rowLayout, softmaxRow, type GpuDType, type Tolerance } from './wgsl-harness.js';
import { gpuForTests } from '../../webgpu.js';

const gpu = await gpuForTests('wgsl row kernels');
/** Runners created here, destroyed after the file. */
const runners: GpuKernels[] = [];
afterAll(() => {
  for (const r of runners) r.destroy();
  gpu?.destroy();
});
const onGpu = describe.skipIf(gpu === undefined);

/** Both ways of spreading rows (WgslOptions.fallbackAdapter), whatever the device is. */
const PROFILES = [['GPU rows', false], ['CPU rows', true]] as const;

/** A runner on the test device rendering for `fallbackAdapter` and for `limits` (each at most the device's). */
function runnerFor(fallbackAdapter: boolean, limits: Partial<WgslLimits> = {}): GpuKernels {
  const l: WgslLimits = { ...defaultWgslLimits, ...limits };
  const r = new GpuKernels({ ...gpu!, limits: l as unknown as GPUSupportedLimits }, fallbackAdapter);
  runners.push(r);
  return r;
}



/** Runs `spec` on the CPU and on the GPU (through `r`) and compares every arg the kernel writes. */
async function expectSameAsCpu(r: GpuKernels, label: string, spec: KernelSpec, host: readonly TypedArray[], offsets: readonly number[], scalars: readonly number[] = [], tol: Tolerance = {}): Promise<void> {
  const want = cpuRun(spec, host, offsets, scalars);
  const written = r.kernel(spec).bindings.flatMap((b) => (b.kind === 'storage' && b.writable ? [b.arg] : []));
  const got = await r.run(spec, host, offsets, scalars);
  expect(written.length).toBeGreaterThan(0);
  written.forEach((a, k) => expectMatch(`${label}, arg ${a}`, got[k]!, want[a]!, (spec as { dtypes: DType[] }).dtypes[a]!, tol));
}

/**
 * Values for reducing `op`: small integers (ties for argmax and argmin), prod-friendly
 * factors, int32 values large enough that sums wrap; for float32 max, min, argmax and argmin
 * a few NaN and infinities, and the first row NaN at its last element.
 */
function reduceInput(op: ReducePrim, dtype: GpuDType, n: number, inner: number, next: () => number): TypedArray {
  const out = new ARRAY_OF[dtype](n);
  for (let i = 0; i < n; i++) {
    if (dtype === 'bool') out[i] = next() < (op === 'prod' ? 0.99 : 0.5) ? 1 : 0;
    else if (dtype === 'int32') out[i] = op === 'prod' ? (next() < 0.9 ? 1 : next() < 0.5 ? -1 : 3) : op === 'sum' ? ((next() * 2 - 1) * 2 ** 30) | 0 : Math.floor(next() * 7) - 3;
    else out[i] = op === 'prod' ? 1 + (next() - 0.5) * 0.02 : op === 'sum' ? next() * 2 - 1 : Math.floor(next() * 7) - 3;
  }
  if (dtype === 'float32' && op !== 'sum' && op !== 'prod' && n > 0) {
    for (let k = 0; k < 3; k++) out[Math.floor(next() * n)] = NaN;
    out[Math.floor(next() * n)] = Infinity;
    out[Math.floor(next() * n)] = -Infinity;
    if (inner > 0) out[inner - 1] = NaN;
  }
  return out;
}

/** CPU and GPU sums differ in order: the CPU adds in float64, the GPU in float32 lane by lane. */
function reduceTolerance(op: ReducePrim, dtype: GpuDType, inner: number): Tolerance {
  if (dtype !== 'float32') return {};
  if (op === 'sum') return { ulps: 8, atol: inner * 2e-7 };
  if (op === 'prod') return { ulps: 2 * inner };
  return {};
}

/** Reduces `axes` of [shape] (at element offset `offset` of its buffer) on both devices. */
async function checkReduce(r: GpuKernels, op: ReducePrim, dtype: GpuDType, shape: number[], axes: number[], offset: number, next: () => number): Promise<void> {
  const n = shape.reduce((p, d) => p * d, 1);
  const inner = axes.reduce((p, d) => p * shape[d]!, 1);
  const outShape = shape.filter((_, d) => !axes.includes(d));
  const outDtype = (primitiveRules[op] as { result: (d: DType) => DType }).result(dtype);
  const spec = lowerReduce(op, lay(dtype, shape), axes, lay(outDtype, outShape)).build();
  const x = new ARRAY_OF[dtype](offset + n);
  x.set(reduceInput(op, dtype, n, axes.includes(shape.length - 1) ? inner : 0, next), offset);
  const host = [new ARRAY_OF[outDtype](Math.max(1, outShape.reduce((p, d) => p * d, 1))), x];
  await expectSameAsCpu(r, `${op} ${dtype} [${shape}] over ${axes} at offset ${offset}`, spec, host, [0, offset], [], reduceTolerance(op, dtype, inner));
}

describe('reduce and row kernel rendering', () => {
  it('vectorizes contiguous rows whose length and offsets are multiples of 4, and no others', () => {
    const spec = (inner: number, strides = [inner, 1]) => lowerReduce('sum', lay('float32', [8, inner], strides), [1], lay('float32', [8])).build();
    expect(renderWgsl(spec(1024), defaultWgslLimits, { alignedOffsets: true }).vectorWidth).toBe(4);
    expect(renderWgsl(spec(1024), defaultWgslLimits, { alignedOffsets: false }).vectorWidth).toBe(1);
    expect(renderWgsl(spec(1030), defaultWgslLimits, { alignedOffsets: true }).vectorWidth).toBe(1);
    expect(renderWgsl(spec(1024, [1026, 1]), defaultWgslLimits, { alignedOffsets: true }).vectorWidth).toBe(1);
    expect(() => renderWgsl(spec(1024), defaultWgslLimits, { alignedOffsets: true }).dispatch([0, 2])).toThrow(/offset 2/);
  });

  it('gives rows several lanes for GPUs, and one lane with no barrier for CPU devices with rows enough', () => {
    const code = (rows: number, fallbackAdapter: boolean) => renderWgsl(lowerReduce('max', lay('float32', [rows, 1024]), [1], lay('float32', [rows])).build(), defaultWgslLimits, { alignedOffsets: true, fallbackAdapter }).code;
    expect(code(4096, false)).toMatch(/workgroupBarrier/);
    expect(code(4096, true)).not.toMatch(/workgroupBarrier/);
    expect(code(8, true)).toMatch(/workgroupBarrier/);
  });
});

const REDUCE_OPS: ReducePrim[] = ['sum', 'prod', 'max', 'min', 'argmax', 'argmin'];
const DTYPES: GpuDType[] = ['float32', 'int32', 'bool'];

for (const [profile, fallback] of PROFILES) {
  onGpu(`reductions over the last axis on WebGPU, ${profile}`, () => {
    // [rows, inner]: empty rows, one element, fewer elements than lanes, multiples of 4 and
    // not, long rows; row counts of one, below and above a workgroup's, not a multiple of
    // it, and enough for one lane per row on CPU devices.
    const shapes = [[5, 0], [9, 1], [33, 3], [7, 4], [300, 7], [17, 12], [3, 64], [40, 100], [2, 1024], [37, 1030], [1, 4100], [1, 30000], [601, 5], [700, 64], [530, 1030]];
    for (const op of REDUCE_OPS) {
      for (const dtype of DTYPES) {
        it(`${op} ${dtype}`, async () => {
          const r = runnerFor(fallback);
          const next = rng(op.length * 31 + dtype.length);
          for (const shape of shapes) {
            for (const offset of [4, 1]) await checkReduce(r, op, dtype, shape, [1], offset, next);
          }
        }, 60_000);
      }
    }
  });

  onGpu(`reductions over leading and inner axes on WebGPU, ${profile}`, () => {
    // Walks across rows (the reduced axis is not the last), multi-dim outer and inner shapes.
    const cases: { shape: number[]; axes: number[] }[] = [
      { shape: [9, 1], axes: [0] },
      { shape: [300, 5], axes: [0] },
      { shape: [64, 16], axes: [0] },
      { shape: [33, 17], axes: [0] },
      { shape: [4096, 40], axes: [0] },
      { shape: [7, 1030], axes: [0] },
      { shape: [4, 50, 6], axes: [1] },
      { shape: [6, 5, 8], axes: [0, 2] },
    ];
    for (const op of REDUCE_OPS) {
      for (const dtype of DTYPES) {
        it(`${op} ${dtype}`, async () => {
          const r = runnerFor(fallback);
          const next = rng(op.length * 17 + dtype.length);
          for (const { shape, axes } of cases) {
            if ((op === 'argmax' || op === 'argmin') && axes.length > 1) continue;
            for (const offset of [0, 3]) await checkReduce(r, op, dtype, shape, axes, offset, next);
          }
        }, 60_000);
      }
    }
  });

  onGpu(`reductions under small device limits, ${profile}`, () => {
    it('more workgroups than one grid dimension holds, with a partly empty last workgroup', async () => {
      const r = runnerFor(fallback, { maxComputeWorkgroupsPerDimension: 5 });
      const next = rng(7);
      for (const [shape, axes] of [[[300, 37], [1]], [[1000, 8], [1]], [[37, 300], [0]]] as const) {
        const spec = lowerReduce('sum', lay('float32', [...shape]), [...axes], lay('float32', [shape[1 - axes[0]!]!])).build();
        expect(r.kernel(spec).dispatch([0, 0]).workgroups[1]).toBeGreaterThan(1);
        for (const op of ['sum', 'argmax', 'max'] as const) await checkReduce(r, op, 'float32', [...shape], [...axes], 0, next);
      }
    });

    it('workgroups no larger than the device allows', async () => {
      const r = runnerFor(fallback, { maxComputeInvocationsPerWorkgroup: 16, maxComputeWorkgroupSizeX: 16 });
      const next = rng(8);
      for (const [shape, axes] of [[[3, 5000], [1]], [[5000, 3], [0]], [[100, 64], [1]]] as const) {
        const spec = lowerReduce('sum', lay('float32', [...shape]), [...axes], lay('float32', [shape[1 - axes[0]!]!])).build();
        expect(r.kernel(spec).workgroupSize).toBeLessThanOrEqual(16);
        for (const op of ['sum', 'argmin'] as const) await checkReduce(r, op, 'float32', [...shape], [...axes], 0, next);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------
// Row kernels

/** layerNorm: mean (stored to arg 1), variance, 1/sqrt(var + eps), then (x - mean) * rstd * w; args out, mean, x, w. */
function layerNormRow(rows: number, inner: number): RowSpec {
  const f = 'float32' as const;
  const mean: Expr[] = [{ op: 'row', index: 0 }, { op: 'scalar', index: 0, dtype: f }, { op: 'prim', prim: 'div', args: [0, 1], dtype: f }];
  const rstd: Expr[] = [
    { op: 'row', index: 2 }, { op: 'scalar', index: 0, dtype: f }, { op: 'prim', prim: 'div', args: [0, 1], dtype: f },
    { op: 'scalar', index: 1, dtype: f }, { op: 'prim', prim: 'add', args: [2, 3], dtype: f }, { op: 'prim', prim: 'rsqrt', args: [4], dtype: f },
  ];
  const layout = rowLayout(rows, inner, 4, new Set([1]));
  layout.outerStrides[3] = [0];
  return {
    kind: 'row', ...layout, dtypes: [f, f, f, f], rows: 4, scratch: 0,
    passes: [
      { kind: 'reduce', op: 'sum', dtype: f, outDtype: f, body: [{ op: 'load', arg: 2 }], value: 0, row: 0, saves: [] },
      { kind: 'scalar', body: mean, value: 2, row: 1, store: 1 },
      {
        kind: 'reduce', op: 'sum', dtype: f, outDtype: f, row: 2, value: 3, saves: [],
        body: [{ op: 'load', arg: 2 }, { op: 'row', index: 1 }, { op: 'prim', prim: 'sub', args: [0, 1], dtype: f }, { op: 'prim', prim: 'mul', args: [2, 2], dtype: f }],
      },
      { kind: 'scalar', body: rstd, value: 5, row: 3 },
      {
        kind: 'map', saves: [], stores: [{ arg: 0, node: 6 }],
        body: [
          { op: 'load', arg: 2 }, { op: 'row', index: 1 }, { op: 'prim', prim: 'sub', args: [0, 1], dtype: f }, { op: 'row', index: 3 },
          { op: 'prim', prim: 'mul', args: [2, 3], dtype: f }, { op: 'load', arg: 3 }, { op: 'prim', prim: 'mul', args: [4, 5], dtype: f },
        ],
      },
    ],
  };
}

/** int32: the row's wrapping sum (stored to arg 1) and min, then x * sum - min; args out, sum, x. */
function int32Row(rows: number, inner: number): RowSpec {
  const i = 'int32' as const;
  return {
    kind: 'row', ...rowLayout(rows, inner, 3, new Set([1])), dtypes: [i, i, i], rows: 2, scratch: 0,
    passes: [
      { kind: 'reduce', op: 'sum', dtype: i, outDtype: i, body: [{ op: 'load', arg: 2 }], value: 0, row: 0, store: 1, saves: [] },
      { kind: 'reduce', op: 'min', dtype: i, outDtype: i, body: [{ op: 'load', arg: 2 }], value: 0, row: 1, saves: [] },
      {
        kind: 'map', saves: [], stores: [{ arg: 0, node: 4 }],
        body: [{ op: 'load', arg: 2 }, { op: 'row', index: 0 }, { op: 'prim', prim: 'mul', args: [0, 1], dtype: i }, { op: 'row', index: 1 }, { op: 'prim', prim: 'sub', args: [2, 3], dtype: i }],
      },
    ],
  };
}

/** bool: whether any element is set (max) and how many (an int32 sum, stored to arg 1), then x and any; args out, count, x. */
function boolRow(rows: number, inner: number): RowSpec {
  return {
    kind: 'row', ...rowLayout(rows, inner, 3, new Set([1])), dtypes: ['bool', 'int32', 'bool'], rows: 2, scratch: 0,
    passes: [
      { kind: 'reduce', op: 'max', dtype: 'bool', outDtype: 'bool', body: [{ op: 'load', arg: 2 }], value: 0, row: 0, saves: [] },
      { kind: 'reduce', op: 'sum', dtype: 'bool', outDtype: 'int32', body: [{ op: 'load', arg: 2 }], value: 0, row: 1, store: 1, saves: [] },
      { kind: 'map', saves: [], stores: [{ arg: 0, node: 2 }], body: [{ op: 'load', arg: 2 }, { op: 'row', index: 0 }, { op: 'prim', prim: 'and', args: [0, 1], dtype: 'bool' }] },
    ],
  };
}

/** float32 values with NaN, infinities and a whole row of -Infinity among them. */
function rowInput(n: number, inner: number, next: () => number): Float32Array {
  const x = Float32Array.from({ length: n }, () => (next() * 2 - 1) * 20);
  if (n >= 3 * inner && inner > 0) {
    x[inner - 1] = NaN;
    x.fill(-Infinity, inner, 2 * inner);
    x[2 * inner] = Infinity;
  }
  return x;
}

/** Rows of one element, fewer than the lanes, multiples of 4 and not, long; row counts enough for one lane per row on CPU devices. */
const ROW_SHAPES = [[6, 1], [9, 3], [5, 4], [37, 7], [3, 64], [300, 100], [33, 1024], [5, 1030], [3, 5000], [600, 100], [513, 1024]] as const;

describe('row kernel rendering', () => {
  it('keeps scratch in each invocation where it fits, and recomputes it where it does not', () => {
    const code = (rows: number, inner: number, fallbackAdapter: boolean, limits: Partial<WgslLimits> = {}) =>
      renderWgsl(softmaxRow(rowLayout(rows, inner, 2)), { ...defaultWgslLimits, ...limits }, { alignedOffsets: true, fallbackAdapter }).code;
    const exps = (text: string) => text.split('\n').filter((l) => /= k_exp\(/.test(l)).length;
    expect(code(64, 1024, false)).toMatch(/var keep0: array<vec4<f32>, /);
    expect(exps(code(64, 1024, false))).toBe(1);
    expect(code(64, 1 << 20, false)).not.toMatch(/var keep0/);
    expect(exps(code(64, 1 << 20, false))).toBe(2);
    expect(code(64, 4096, false, NARROW)).not.toMatch(/var keep0/);
    // One lane per row on a CPU device keeps a whole row of 1024.
    const cpu = code(4096, 1024, true);
    expect(cpu).toMatch(/var keep0: array<vec4<f32>, 256u>/);
    expect(cpu).not.toMatch(/workgroupBarrier/);
  });
});

/** Limits that leave too few invocations per workgroup for scratch to fit. */
const NARROW = { maxComputeInvocationsPerWorkgroup: 8, maxComputeWorkgroupSizeX: 8 };

for (const [profile, fallback] of PROFILES) {
  onGpu(`row kernels on WebGPU, ${profile}`, () => {
    it('softmax over the last axis, aligned (vec4) and unaligned', async () => {
      const r = runnerFor(fallback);
      const next = rng(11);
      for (const [rows, inner] of ROW_SHAPES) {
        for (const offset of [0, 4, 2]) {
          const x = new Float32Array(offset + rows * inner);
          x.set(rowInput(rows * inner, inner, next), offset);
          await expectSameAsCpu(r, `softmax [${rows},${inner}] at ${offset}`, softmaxRow(rowLayout(rows, inner, 2)), [new Float32Array(rows * inner), x], [0, offset], [], { ulps: 16, atol: 1e-37 });
        }
      }
    }, 60_000);

    it('softmax over a leading axis (invocations walk across rows)', async () => {
      const r = runnerFor(fallback);
      const next = rng(12);
      for (const [inner, rows] of [[5, 300], [1024, 17], [64, 64], [3, 1], [100, 700]] as const) {
        const layout = { outer: [rows], inner: [inner], outerStrides: [[1], [1]], innerStrides: [[rows], [rows]] };
        const x = rowInput(rows * inner, 0, next);
        await expectSameAsCpu(r, `softmax over axis 0 of [${inner},${rows}]`, softmaxRow(layout), [new Float32Array(rows * inner), x], [0, 0], [], { ulps: 16, atol: 1e-37 });
      }
    }, 60_000);

    it('layerNorm with a row value stored and a weight broadcast over rows', async () => {
      const r = runnerFor(fallback);
      const next = rng(13);
      for (const [rows, inner] of ROW_SHAPES) {
        const x = Float32Array.from({ length: rows * inner }, () => next() * 4 - 1);
        const w = Float32Array.from({ length: inner }, () => next() + 0.5);
        const host = [new Float32Array(rows * inner), new Float32Array(rows), x, w];
        await expectSameAsCpu(r, `layerNorm [${rows},${inner}]`, layerNormRow(rows, inner), host, [0, 0, 0, 0], [inner, 1e-5], { ulps: 64, atol: 1e-5 });
      }
    }, 60_000);

    it('int32 sums that wrap, and bool rows', async () => {
      const r = runnerFor(fallback);
      const next = rng(14);
      for (const [rows, inner] of ROW_SHAPES) {
        const xi = Int32Array.from({ length: rows * inner }, () => ((next() * 2 - 1) * 2 ** 30) | 0);
        await expectSameAsCpu(r, `int32 [${rows},${inner}]`, int32Row(rows, inner), [new Int32Array(rows * inner), new Int32Array(rows), xi], [0, 0, 0]);
        const xb = Uint8Array.from({ length: rows * inner }, () => (next() < 0.02 ? 1 : 0));
        await expectSameAsCpu(r, `bool [${rows},${inner}]`, boolRow(rows, inner), [new Uint8Array(rows * inner), new Int32Array(rows), xb], [0, 0, 0]);
      }
    }, 60_000);

    it('softmax with its scratch recomputed', async () => {
      const r = runnerFor(false, NARROW);
      const next = rng(15);
      for (const [rows, inner] of [[5, 4096], [3, 4099]] as const) {
        expect(r.kernel(softmaxRow(rowLayout(rows, inner, 2))).code).not.toMatch(/var keep0/);
        const x = rowInput(rows * inner, inner, next);
        await expectSameAsCpu(r, `softmax [${rows},${inner}], scratch recomputed`, softmaxRow(rowLayout(rows, inner, 2)), [new Float32Array(rows * inner), x], [0, 0], [], { ulps: 16, atol: 1e-37 });
      }
    });

    it('more workgroups than one grid dimension holds, with a partly empty last workgroup', async () => {
      const r = runnerFor(fallback, { maxComputeWorkgroupsPerDimension: 7 });
      const next = rng(16);
      for (const [rows, inner] of [[301, 37], [45, 1024]] as const) {
        const spec = softmaxRow(rowLayout(rows, inner, 2));
        expect(r.kernel(spec).dispatch([0, 0]).workgroups[1]).toBeGreaterThan(1);
        const x = rowInput(rows * inner, inner, next);
        await expectSameAsCpu(r, `softmax [${rows},${inner}] on a 2-D grid`, spec, [new Float32Array(rows * inner), x], [0, 0], [], { ulps: 16, atol: 1e-37 });
        const xi = Int32Array.from({ length: rows * inner }, () => ((next() * 2 - 1) * 2 ** 30) | 0);
        await expectSameAsCpu(r, `int32 [${rows},${inner}] on a 2-D grid`, int32Row(rows, inner), [new Int32Array(rows * inner), new Int32Array(rows), xi], [0, 0, 0]);
      }
    });
  });
}
