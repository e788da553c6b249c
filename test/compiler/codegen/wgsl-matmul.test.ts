/**
 * Matmul kernels on WebGPU against the CPU kernels of the same specs, in both layouts
 * (panels staged in workgroup memory for GPUs, direct loads for CPU implementations,
 * WgslOptions.fallbackAdapter) whatever the device is: sizes that fill, do not fill and
 * overhang the register blocks, K = 0, transposed, strided, offset and reversed operands,
 * broadcast batches, a second grid dimension, and fused epilogues.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { defaultWgslLimits, renderWgsl, type WgslLimits } from '../../../compiler/codegen/wgsl.js';
import { cpuKernel } from '../../../compiler/execute.js';
import { GpuKernels } from '../../webgpu-kernels.js';
import type { MatmulSpec } from '../../../compiler/kernel.js';
import { lowerMatmul, type Layout } from '../../../compiler/lower.js';
import { ARRAY_OF, type TypedArray } from '../../../runtime/dtype.js';
import { rng } from '../../helpers.js';
import { lay, matmulEpilogue, type GpuDType } from './wgsl-harness.js';
import { gpuForTests } from '../../webgpu.js';

const gpu = await gpuForTests('wgsl matmul kernels');
/** Runners created here, destroyed after the file. */
const runners: GpuKernels[] = [];
afterAll(() => {
  for (const r of runners) r.destroy();
  gpu?.destroy();
});
const onGpu = describe.skipIf(gpu === undefined);
/** lavapipe compiles a register-blocked kernel in up to 2 s, and each size is a new kernel. */
const SLOW = 120_000;

/** Both matmul layouts (WgslOptions.fallbackAdapter), whatever the device is. */
const LAYOUTS = [['staged (GPU)', false], ['direct (CPU)', true]] as const;

/** A runner on the test device rendering for `fallbackAdapter` and for `limits` (each at most the device's). */
function runnerFor(fallbackAdapter: boolean, limits: Partial<WgslLimits> = {}): GpuKernels {
  const r = new GpuKernels({ ...gpu!, limits: { ...defaultWgslLimits, ...limits } as unknown as GPUSupportedLimits }, fallbackAdapter);
  runners.push(r);
  return r;
}



/** `n` operand values: floats in [-1, 1), int32 in [-1000, 1000], bools half set. */
function values(dtype: GpuDType, n: number, next: () => number): TypedArray {
  const out = new ARRAY_OF[dtype](Math.max(1, n));
  for (let i = 0; i < out.length; i++) out[i] = dtype === 'float32' ? next() * 2 - 1 : dtype === 'int32' ? Math.floor(next() * 2001) - 1000 : next() < 0.5 ? 1 : 0;
  return out;
}

/** Runs `spec` on the CPU and on the GPU (through `r`) and compares C; floats within k·1e-6 (the GPU sums in float32). */
async function expectSameAsCpu(r: GpuKernels, label: string, spec: MatmulSpec, host: readonly TypedArray[], offsets: readonly number[]): Promise<void> {
  const want = host.map((a) => a.slice());
  cpuKernel({ key: `wgsl-matmul-test|${JSON.stringify(spec)}`, build: () => spec })(...want, ...offsets);
  const [got] = await r.run(spec, host, offsets);
  const cpu = want[0]!;
  expect(got!.length, `${label}: length`).toBe(cpu.length);
  const atol = spec.k * 1e-6;
  for (let i = 0; i < cpu.length; i++) {
    const g = got![i]!, w = cpu[i]!;
    if (!(Math.abs(g - w) <= atol)) throw new Error(`${label}: element ${i} of ${cpu.length} differs: gpu ${g}, cpu ${w}`);
  }
}

/** C = A @ B with contiguous [m, k] and [k, n] operands at element offsets 0. */
async function checkPlain(r: GpuKernels, dtype: GpuDType, m: number, n: number, k: number, next: () => number): Promise<void> {
  const spec = lowerMatmul(lay(dtype, [m, k]), lay(dtype, [k, n]), lay(dtype, [m, n])).build() as MatmulSpec;
  const host = [new ARRAY_OF[dtype](Math.max(1, m * n)), values(dtype, m * k, next), values(dtype, k * n, next)];
  await expectSameAsCpu(r, `${dtype} ${m}x${k} @ ${k}x${n}`, spec, host, [0, 0, 0]);
}

// ---------------------------------------------------------------------------------------

describe('WGSL matmul rendering', () => {
  const spec = (m: number, n: number) => lowerMatmul(lay('float32', [m, 64]), lay('float32', [64, n]), lay('float32', [m, n])).build();

  it('stages panels behind barriers for a GPU and reads storage directly, with no barrier, for a CPU implementation', () => {
    expect(renderWgsl(spec(256, 256)).code).toContain('workgroupBarrier()');
    expect(renderWgsl(spec(256, 256), defaultWgslLimits, { fallbackAdapter: true }).code).not.toContain('workgroupBarrier()');
  });

  it('shrinks register blocks that C would not fill', () => {
    const accumulators = (m: number, n: number, fallbackAdapter: boolean) => (renderWgsl(spec(m, n), defaultWgslLimits, { fallbackAdapter }).code.match(/var acc\d+_\d+/g) ?? []).length;
    expect(accumulators(256, 256, false)).toBe(16);
    expect(accumulators(256, 256, true)).toBe(128);
    expect(accumulators(256, 10, true)).toBe(16);
    expect(accumulators(1, 1, true)).toBe(1);
    expect(accumulators(1, 1, false)).toBe(1);
  });
});

for (const [name, fallbackAdapter] of LAYOUTS) {
  onGpu(`matmul on WebGPU, ${name} layout`, () => {
    const sizes: [number, number, number][] = [
      [1, 1, 1], [1, 3, 17], [3, 1, 33], [17, 33, 65], [33, 65, 3], [65, 17, 1], [65, 65, 33], [3, 4, 0], [0, 5, 3], [130, 70, 40], [40, 300, 20],
    ];
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      it(`${dtype}: sizes that fill, miss and overhang the blocks, and K = 0`, async () => {
        const r = runnerFor(fallbackAdapter);
        const next = rng(dtype.length * 7 + (fallbackAdapter ? 1 : 0));
        for (const [m, n, k] of sizes) await checkPlain(r, dtype, m, n, k, next);
      }, SLOW);
    }

    it('transposed, strided, offset and reversed operands', async () => {
      const r = runnerFor(fallbackAdapter);
      const next = rng(11);
      const [m, n, k] = [37, 45, 29];
      const cases: [string, Layout, Layout][] = [
        // A^T @ B and A @ B^T, as a backward pass reads them.
        ['A^T @ B', lay('float32', [m, k], [1, m], 3), lay('float32', [k, n], [n, 1], 1)],
        ['A @ B^T', lay('float32', [m, k], [k, 1], 2), lay('float32', [k, n], [1, k], 5)],
        ['A^T @ B^T', lay('float32', [m, k], [1, m]), lay('float32', [k, n], [1, k])],
        // Every other column of wider matrices.
        ['strided', lay('float32', [m, k], [2 * k, 2], 1), lay('float32', [k, n], [2 * n, 2], 1)],
        // B's rows read last to first (a negative stride from the end of its buffer).
        ['reversed', lay('float32', [m, k], [k, 1]), lay('float32', [k, n], [-n, 1], (k - 1) * n)],
      ];
      for (const [label, a, b] of cases) {
        const spec = lowerMatmul(a, b, lay('float32', [m, n])).build() as MatmulSpec;
        const host = [new Float32Array(m * n), values('float32', 2 * m * k + 8, next), values('float32', 2 * k * n + 8, next)];
        await expectSameAsCpu(r, label, spec, host, [0, a.offset, b.offset]);
      }
    }, SLOW);

    it('batched, with broadcast batch dims on both operands', async () => {
      const r = runnerFor(fallbackAdapter);
      const next = rng(12);
      const [m, n, k] = [19, 21, 23];
      // a varies along batch dim 1 only, b along batch dim 0 only and is read transposed.
      const a = lay('float32', [2, 3, m, k], [0, m * k, k, 1], 1);
      const b = lay('float32', [2, 3, k, n], [n * k, 0, 1, k], 5);
      const spec = lowerMatmul(a, b, lay('float32', [2, 3, m, n])).build() as MatmulSpec;
      const host = [new Float32Array(6 * m * n), values('float32', 1 + 3 * m * k, next), values('float32', 5 + 2 * n * k, next)];
      await expectSameAsCpu(r, 'batched matmul', spec, host, [0, 1, 5]);
    }, SLOW);

    it('more tiles than one grid dimension holds', async () => {
      const r = runnerFor(fallbackAdapter, { maxComputeWorkgroupsPerDimension: 4 });
      const next = rng(13);
      const [m, n, k] = [70, 150, 9];
      const spec = lowerMatmul(lay('float32', [2, m, k]), lay('float32', [2, k, n], [0, n, 1]), lay('float32', [2, m, n])).build() as MatmulSpec;
      expect(r.kernel(spec).dispatch([0, 0, 0]).workgroups[1]).toBeGreaterThan(1);
      await expectSameAsCpu(r, 'two-dimensional grid', spec, [new Float32Array(2 * m * n), values('float32', 2 * m * k, next), values('float32', k * n, next)], [0, 0, 0]);
    }, SLOW);

    it('bias, relu and a residual computed at the store', async () => {
      const r = runnerFor(fallbackAdapter);
      for (const [m, n, k] of [[1, 1, 1], [5, 7, 3], [40, 33, 19], [65, 130, 17], [3, 4, 0]] as const) {
        const next = rng(m + n);
        const host = [new Float32Array(2 * m * n), values('float32', 2 * m * k, next), values('float32', k * n, next), values('float32', n, next), Float32Array.of(0), values('float32', 2 * m * n, next)];
        await expectSameAsCpu(r, `epilogue ${m}x${k} @ ${k}x${n}`, matmulEpilogue(m, n, k), host, [0, 0, 0, 0, 0, 0]);
      }
    }, SLOW);

    it('an epilogue that changes the dtype (int32 product compared to a threshold)', async () => {
      const r = runnerFor(fallbackAdapter);
      const [m, n, k] = [33, 17, 11];
      const spec: MatmulSpec = {
        kind: 'matmul', dtype: 'int32', m, n, k, aStrides: [k, 1], bStrides: [n, 1], batch: [], batchStrides: [[], [], []],
        extras: [{ dtype: 'int32', batchStrides: [], strides: [0, 0] }],
        epilogue: { dtype: 'bool', value: 2, body: [{ op: 'acc' }, { op: 'load', arg: 3 }, { op: 'prim', prim: 'lt', args: [1, 0], dtype: 'int32' }] },
      };
      const next = rng(14);
      const small = (len: number) => Int32Array.from({ length: len }, () => Math.floor(next() * 11) - 5);
      await expectSameAsCpu(r, 'int32 matmul > 3', spec, [new Uint8Array(m * n), small(m * k), small(k * n), Int32Array.of(3)], [0, 0, 0, 0]);
    }, SLOW);
  });
}
