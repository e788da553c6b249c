/**
 * What a size-generic WGSL kernel costs against the concrete one of the same spec: the first
 * member of a size family renders its sizes as constants, later members read them from
 * uniform words (compiler/sizes.ts). Each row renders one spec both ways (generic: every
 * size slot a uniform word) and times 20 launches and a one-element readback, the two
 * sides in alternating rounds on one device; the ratio is generic / concrete.
 *
 *   npx tsx bench/webgpu-sizes.ts
 */
import { STATUS_BYTES, renderWgsl, throwStatus } from '../compiler/codegen/wgsl.js';
import { contiguousStrides } from '../compiler/ir/shape.js';
import type { KernelSpec } from '../compiler/kernel.js';
import { lowerMatmul, lowerRandom, lowerReduce, type Layout } from '../compiler/lower.js';
import { SymbolicSizes, noSymbolicSizes, sizeSlots } from '../compiler/sizes.js';
import { WebGpuBackend, type WebGpuBuffer } from '../runtime/webgpu/backend.js';
import { acquireDevice } from '../runtime/webgpu/device.js';
import { fmtNumber, formatTable, measureAsync, mergeRounds, type Measurement } from './harness.js';

const lay = (shape: number[]): Layout => ({ dtype: 'float32', shape, strides: contiguousStrides(shape), offset: 0 });
const matmul = (m: number, k: number, n: number): [string, KernelSpec, number[]] => {
  const spec = lowerMatmul(lay([m, k]), lay([k, n]), lay([m, n])).build();
  return [`matmul [${m},${k}] x [${k},${n}]`, spec, [m * n, m * k, k * n]];
};
const sum = (rows: number, cols: number, axis: number): [string, KernelSpec, number[]] => {
  const out = axis === 0 ? cols : rows;
  const spec = lowerReduce('sum', lay([rows, cols]), [axis], lay([out])).build();
  return [`sum [${rows},${cols}] over axis ${axis}`, spec, [out, rows * cols]];
};
const cases: [string, KernelSpec, number[]][] = [
  matmul(128, 256, 256), matmul(128, 784, 256), sum(128, 256, 0), sum(4096, 1024, 1),
  ['random [1M]', lowerRandom(lay([1 << 20])).build(), [1 << 20]],
];

const gpu = await acquireDevice();
const fallbackAdapter = gpu.device.adapterInfo?.isFallbackAdapter === true;
const backend = new WebGpuBackend<{ spec: KernelSpec; sizes: SymbolicSizes }>(gpu, {
  render: ({ spec, sizes }, alignedOffsets) =>
    renderWgsl(spec, gpu.limits, { alignedOffsets, fallbackAdapter, sizes }),
  statusBytes: STATUS_BYTES,
  throwStatus,
});
const ROUNDS = 7;
const rows: string[][] = [];
for (const [name, spec, lengths] of cases) {
  const concrete = backend.compile(`${name}|concrete`, () => ({ spec, sizes: noSymbolicSizes }));
  const everySlot = () => new SymbolicSizes(spec, sizeSlots(spec).map(() => true));
  const generic = backend.compile(`${name}|generic`, () => ({ spec, sizes: everySlot() }));
  const buffers: WebGpuBuffer[] = lengths.map((n) => {
    const b = backend.alloc('float32', n);
    backend.write(b, 'float32', new Float32Array(n).fill(0.5));
    return b;
  });
  const scalars = spec.kind === 'random' ? [7, 0] : [];
  const call = (kernel: typeof concrete) => async () => {
    for (let i = 0; i < 20; i++) backend.run([{ kernel, args: buffers.map((data) => ({ data, offset: 0 })), scalars }]);
    return backend.read(buffers[0]!, 'float32', 0, 1);
  };
  const pooled: Measurement[][] = [[], []];
  for (let r = 0; r < ROUNDS; r++) {
    const opts = { warmup: r === 0 ? 2 : 0, runs: 3 };
    pooled[0]!.push(await measureAsync(`${name} concrete`, call(concrete), opts));
    pooled[1]!.push(await measureAsync(`${name} generic`, call(generic), opts));
  }
  const [c, g] = pooled.map((ms) => mergeRounds(ms).median / 20) as [number, number];
  rows.push([name, fmtNumber(c), fmtNumber(g), (g / c).toFixed(3)]);
  for (const b of buffers) backend.free(b);
}
console.log(`adapter: ${gpu.adapter}; ms per launch, medians of ${ROUNDS} alternating rounds\n`);
console.log(formatTable(['kernel', 'concrete', 'size-generic', 'generic/concrete'], rows));
backend.destroy();
gpu.destroy();
