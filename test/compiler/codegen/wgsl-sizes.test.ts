/**
 * Symbolic sizes in WGSL kernels of every kind: the first member of a family renders the
 * concrete shader, later members read the sizes that differed from uniform words, so members
 * whose value-dependent choices agree share one shader (and one pipeline), and compute what
 * the CPU computes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpu, webGpuBackend } from '../../../compiler/backends.js';
import { renderWgsl } from '../../../compiler/codegen/wgsl.js';
import { specKey, type KernelSpec, type MapSpec } from '../../../compiler/kernel.js';
import { lowerMatmul, lowerRandom, lowerReduce } from '../../../compiler/lower.js';
import { SizeFamilies } from '../../../compiler/sizes.js';
import type { TypedArray } from '../../../runtime/dtype.js';
import { gpuForTests } from '../../webgpu.js';
import { GpuKernels } from '../../webgpu-kernels.js';
import { cpuRun, expectMatch, lay, rowLayout, softmaxRow } from './wgsl-harness.js';

/** out[i, j] = x[i, j] * y[j] + 3 over an [n, m] grid; y is broadcast along the rows. */
function scaled(n: number, m: number, tag: number): MapSpec {
  return {
    kind: 'map', shape: [n, m], dtypes: ['float32', 'float32', 'float32'], strides: [[m, 1], [m, 1], [0, 1]],
    body: [
      { op: 'load', arg: 1 }, { op: 'load', arg: 2 }, { op: 'prim', prim: 'mul', args: [0, 1], dtype: 'float32' },
      { op: 'literal', value: tag, dtype: 'float32' }, { op: 'prim', prim: 'add', args: [2, 3], dtype: 'float32' },
    ],
    stores: [{ arg: 0, node: 4 }],
  };
}

describe('symbolic sizes in WGSL', () => {
  it('renders the first member concretely and later members as one size-generic shader', () => {
    const families = new SizeFamilies();
    const code = (spec: MapSpec) => renderWgsl(spec, undefined, { alignedOffsets: true, sizes: families.sizesOf(spec) }).code;
    const first = scaled(3, 8, 0.5), concrete = code(first);
    expect(concrete).toBe(renderWgsl(first, undefined, { alignedOffsets: true }).code);
    const second = code(scaled(5, 12, 0.5));
    expect(second).not.toBe(concrete);
    expect(second, 'sizes read from uniform words').toContain('if (gid >= u[');
    expect(code(scaled(100, 4, 0.5)), 'another member, vectorized as well').toBe(second);
    const scalarRows = code(scaled(7, 6, 0.5));
    expect(scalarRows, 'a row length that is not a multiple of 4 is read one element at a time').not.toBe(second);
  });

  const gpuReady = gpuForTests('wgsl sizes');
  it('members run on the device share pipelines and compute what the CPU computes', async () => {
    const gpu = await gpuReady;
    if (gpu === undefined) return;
    const backend = webGpuBackend(gpu);
    afterAll(() => {
      backend.destroy();
      gpu.destroy();
    });
    const run = async (n: number, m: number): Promise<void> => {
      const spec = scaled(n, m, 3);
      const x = Float32Array.from({ length: n * m }, (_, i) => (i % 13) - 6.5);
      const y = Float32Array.from({ length: m }, (_, j) => j / 4);
      const bufs = [backend.alloc('float32', n * m), backend.alloc('float32', n * m), backend.alloc('float32', m)];
      backend.write(bufs[1]!, 'float32', x);
      backend.write(bufs[2]!, 'float32', y);
      const kernel = backend.compile(specKey(spec), () => spec);
      backend.run([{ kernel, args: bufs.map((data) => ({ data, offset: 0 })), scalars: [] }]);
      const got = await backend.read(bufs[0]!, 'float32', 0, n * m);
      const want = new Float32Array(n * m);
      const reference = cpu.compile(specKey(spec), () => spec);
      cpu.run([{ kernel: reference, args: [want, x, y].map((data) => ({ data, offset: 0 })), scalars: [] }]);
      expect(Array.from(got), `${n}x${m}`).toEqual(Array.from(want));
      for (const b of bufs) backend.free(b);
    };
    await run(3, 8);
    await run(5, 12);
    const pipelines = backend.pipelines.size;
    for (const [n, m] of [[9, 4], [2, 64], [300, 20]]) await run(n!, m!);
    expect(backend.pipelines.size, 'later members reuse the size-generic pipeline').toBe(pipelines);
    await run(4, 10);
    expect(backend.pipelines.size, 'rows of 10 are not vec4 rows: another shader').toBe(pipelines + 1);
  }, 120_000);

  it('reduce, row, matmul and random kernels of a family share a pipeline, computing what the CPU does', async () => {
    const gpu = await gpuReady;
    if (gpu === undefined) return;
    // A backend (with its own families and pipelines) per family below.
    let backend = webGpuBackend(gpu);
    afterAll(() => {
      backend.destroy();
      gpu.destroy();
    });
    /** Runs `spec` here and on the CPU and compares arg 0, the one every kernel below writes. */
    const run = async (spec: KernelSpec, host: TypedArray[], scalars: number[] = [], ulps = 0): Promise<void> => {
      const bufs = host.map((a) => backend.alloc('float32', a.length));
      host.forEach((a, i) => backend.write(bufs[i]!, 'float32', a));
      const kernel = backend.compile(specKey(spec), () => spec);
      backend.run([{ kernel, args: bufs.map((data) => ({ data, offset: 0 })), scalars }]);
      const got = await backend.read(bufs[0]!, 'float32', 0, host[0]!.length);
      const want = host.map((a) => a.slice());
      const reference = cpu.compile(specKey(spec), () => spec);
      cpu.run([{ kernel: reference, args: want.map((data) => ({ data, offset: 0 })), scalars }]);
      expectMatch(specKey(spec).slice(0, 80), got, want[0]!, 'float32', { ulps });
      for (const b of bufs) backend.free(b);
    };
    /** The first member compiles the concrete pipeline, every later member the one size-generic pipeline. */
    const expectOneGenericPipeline = async (label: string, members: (() => Promise<void>)[]): Promise<void> => {
      backend.destroy();
      backend = webGpuBackend(gpu);
      for (const member of members) await member();
      expect(backend.pipelines.size, label).toBe(2);
    };
    const values = (n: number, scale = 1) => Float32Array.from({ length: n }, (_, i) => ((i * 7) % 13 - 6) * scale);

    await expectOneGenericPipeline('softmax over [n, 64]', [3, 5, 7, 9].map((n) => () =>
      run(softmaxRow(rowLayout(n, 64, 2)), [new Float32Array(n * 64), values(n * 64, 0.25)], [], 8)));
    await expectOneGenericPipeline('sums over the last axis of [n, 64]', [3, 5, 7, 9].map((n) => () =>
      run(lowerReduce('sum', lay('float32', [n, 64]), [1], lay('float32', [n])).build(),
        [new Float32Array(n), values(n * 64)])));
    await expectOneGenericPipeline('softmax over [4, n]', [64, 80, 96, 112].map((n) => () =>
      run(softmaxRow(rowLayout(4, n, 2)), [new Float32Array(4 * n), values(4 * n, 0.25)], [], 8)));
    await expectOneGenericPipeline('sums over the first axis of [n, 64]', [40, 44, 52, 60].map((n) => () =>
      run(lowerReduce('sum', lay('float32', [n, 64]), [0], lay('float32', [64])).build(),
        [new Float32Array(64), values(n * 64)])));
    await expectOneGenericPipeline('matmuls of [b, 6, 5] by [b, 5, 7]', [2, 3, 5].map((b) => () =>
      run(lowerMatmul(lay('float32', [b, 6, 5]), lay('float32', [b, 5, 7]), lay('float32', [b, 6, 7])).build(),
        [new Float32Array(b * 42), values(b * 30), values(b * 35)])));
    await expectOneGenericPipeline('matmuls of [m, 16] by [16, 8]', [40, 48, 64].map((m) => () =>
      run(lowerMatmul(lay('float32', [m, 16]), lay('float32', [16, 8]), lay('float32', [m, 8])).build(),
        [new Float32Array(m * 8), values(m * 16), values(128)])));
    await expectOneGenericPipeline('random draws', [10, 100, 1001].map((n) => () =>
      run(lowerRandom(lay('float32', [n])).build(), [new Float32Array(n)], [42, 3])));
  }, 120_000);

  it('size-generic reduce and row kernels laid out for a GPU compute what the CPU computes', async () => {
    const gpu = await gpuReady;
    if (gpu === undefined) return;
    // Many lanes per row and a tree of partial results: the layout this device (a CPU) does not choose itself.
    const kernels = new GpuKernels(gpu, false);
    afterAll(() => kernels.destroy());
    const families = new SizeFamilies();
    const check = async (spec: KernelSpec, host: TypedArray[], ulps: number): Promise<void> => {
      const offsets = host.map(() => 0);
      const [got] = await kernels.run(spec, host, offsets, [], { sizes: families.sizesOf(spec) });
      expectMatch(specKey(spec).slice(0, 80), got!, cpuRun(spec, host, offsets)[0]!, 'float32', { ulps, atol: 1e-5 });
    };
    const values = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 5) % 11) / 4 - 1);
    for (const [rows, cols] of [[3, 64], [5, 64], [6, 300], [2, 1000], [70, 20]]) {
      await check(softmaxRow(rowLayout(rows!, cols!, 2)), [new Float32Array(rows! * cols!), values(rows! * cols!)], 8);
      const sum = lowerReduce('sum', lay('float32', [rows!, cols!]), [0], lay('float32', [cols!])).build();
      await check(sum, [new Float32Array(cols!), values(rows! * cols!)], 8);
    }
  }, 120_000);
});
