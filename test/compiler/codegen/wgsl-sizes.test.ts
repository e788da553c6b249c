/**
 * Symbolic sizes in WGSL map kernels: the first member of a family renders the concrete
 * shader, later members read the sizes that differed from uniform words, so members whose
 * value-dependent choices agree share one shader (and one pipeline), and compute what the
 * CPU computes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpu, webGpuBackend } from '../../../compiler/backends.js';
import { renderWgsl } from '../../../compiler/codegen/wgsl.js';
import { specKey, type MapSpec } from '../../../compiler/kernel.js';
import { SizeFamilies } from '../../../compiler/sizes.js';
import { gpuForTests } from '../../webgpu.js';

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
});
