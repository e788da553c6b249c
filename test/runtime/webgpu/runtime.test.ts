/**
 * The WebGPU runtime: the event-wait throttle, the buffer pool, the pipeline cache, batched
 * submission with readback, and the device's lifetime (a destroyed device lets Node exit).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { GpuKernels } from '../../webgpu-kernels.js';
import { lowerElementwise, type Layout } from '../../../compiler/lower.js';
import { DTypeError, InternalError } from '../../../runtime/errors.js';
import { BufferPool, BufferUsage, bucketSize } from '../../../runtime/webgpu/buffers.js';
import { REQUESTED_LIMITS } from '../../../runtime/webgpu/device.js';
import { PipelineCache } from '../../../runtime/webgpu/pipelines.js';
import { fromGpuBytes, toGpuArray } from '../../../runtime/webgpu/submit.js';
import { eventWaitThrottleActive, eventWaitThrottleStats, installEventWaitThrottle, isDawnPoll } from '../../../runtime/webgpu/throttle.js';
import { gpuForTests } from '../../webgpu.js';

const gpu = await gpuForTests('webgpu runtime');
const runner = gpu === undefined ? undefined : new GpuKernels(gpu);
afterAll(() => {
  runner?.destroy();
  gpu?.destroy();
});
const onGpu = describe.skipIf(runner === undefined);

const f32 = (n: number, offset = 0): Layout => ({ dtype: 'float32', shape: [n], strides: [1], offset });

describe('event-wait throttle', () => {
  it('recognises only native callbacks without a name', () => {
    expect(isDawnPoll(() => {})).toBe(false);
    expect(isDawnPoll(function () {})).toBe(false);
    expect(isDawnPoll((() => {}).bind(null))).toBe(false);
    expect(isDawnPoll(Math.max)).toBe(false);
    expect(isDawnPoll(class {})).toBe(false);
    expect(isDawnPoll(undefined)).toBe(false);
  });

  it('passes other callbacks through with their arguments, keeps promisify working, and restores setImmediate', async () => {
    // A Dawn device acquired above holds one installation of its own.
    const held = eventWaitThrottleActive();
    const original = globalThis.setImmediate;
    const removeA = installEventWaitThrottle();
    const removeB = installEventWaitThrottle();
    expect(eventWaitThrottleActive()).toBe(true);
    const got = await new Promise((resolve) => setImmediate((a: number, b: string) => resolve([a, b]), 1, 'x'));
    expect(got).toEqual([1, 'x']);
    expect(await promisify(setImmediate)('value')).toBe('value');
    removeA();
    removeA();
    expect(eventWaitThrottleActive()).toBe(true);
    removeB();
    expect(eventWaitThrottleActive()).toBe(held);
    if (!held) expect(globalThis.setImmediate).toBe(original);
  });
});

onGpu('event-wait throttle with Dawn', () => {
  it('sees Dawn polls while a readback waits, and sleeps through a long one', async () => {
    if (!gpu!.dawn) return;
    expect(eventWaitThrottleActive()).toBe(true);
    const before = eventWaitThrottleStats();
    // A kernel long enough on a CPU driver to outlast the spin phase.
    const n = 1 << 22;
    const spec = lowerElementwise('sin', [f32(n)], f32(n)).build();
    const t0 = performance.now();
    const [out] = await runner!.run(spec, [new Float32Array(n), new Float32Array(n).fill(1)]);
    const waited = performance.now() - t0;
    expect(out![n - 1]).toBeCloseTo(Math.sin(1), 6);
    const after = eventWaitThrottleStats();
    expect(after.polls).toBeGreaterThan(before.polls);
    // A fast GPU may answer within the spin phase; a CPU driver takes milliseconds.
    if (waited > 5) expect(after.sleeps).toBeGreaterThan(before.sleeps);
  });
});

describe('buffer helpers', () => {
  it('bucket sizes are powers of two from the minimum', () => {
    expect([0, 1, 256, 257, 1000, 4096, 4097].map((b) => bucketSize(b))).toEqual([256, 256, 256, 512, 1024, 4096, 8192]);
    expect(bucketSize(3, 16)).toBe(16);
  });

  it('bool is one u32 per element on the GPU; float64 is refused', () => {
    const b = Uint8Array.of(1, 0, 1, 1);
    const words = toGpuArray(b, 'bool');
    expect(Array.from(words)).toEqual([1, 0, 1, 1]);
    expect(words.BYTES_PER_ELEMENT).toBe(4);
    expect(Array.from(fromGpuBytes(words.buffer as ArrayBuffer, 'bool', 4))).toEqual([1, 0, 1, 1]);
    expect(() => toGpuArray(new Float64Array(2), 'float64')).toThrow(DTypeError);
    expect(() => toGpuArray(new Float64Array(2), 'float64')).toThrow(/float64/);
  });
});

onGpu('device', () => {
  it('has the adapter maxima for the limits kiln grows into', () => {
    for (const name of REQUESTED_LIMITS) expect(gpu!.limits[name]).toBeGreaterThan(0);
    expect(gpu!.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
    expect(gpu!.adapter.length).toBeGreaterThan(0);
  });

  it('a destroyed device lets Node exit on its own', () => {
    const script = fileURLToPath(new URL('./exit-probe.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { timeout: 60_000, encoding: 'utf8', cwd: fileURLToPath(new URL('../../..', import.meta.url)) });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('[2,4,6]');
  }, 70_000);
});

onGpu('buffer pool', () => {
  it('reuses released buffers by bucket and counts live and pooled bytes', () => {
    const pool = new BufferPool(gpu!.device, BufferUsage.STORAGE | BufferUsage.COPY_DST);
    const a = pool.acquire(300);
    expect(a.size).toBe(512);
    const b = pool.acquire(100);
    expect(pool.stats()).toEqual({ liveBuffers: 2, liveBytes: 768, pooledBuffers: 0, pooledBytes: 0, created: 2 });
    pool.release(a);
    expect(pool.stats()).toMatchObject({ liveBuffers: 1, liveBytes: 256, pooledBuffers: 1, pooledBytes: 512 });
    expect(pool.acquire(400)).toBe(a);
    expect(pool.acquire(2000).size).toBe(2048);
    expect(pool.stats().created).toBe(3);
    pool.release(b);
    expect(() => pool.release(b)).toThrow(InternalError);
    pool.trim();
    expect(pool.stats()).toMatchObject({ pooledBuffers: 0, pooledBytes: 0 });
    pool.destroy();
    expect(pool.stats()).toMatchObject({ liveBuffers: 0, liveBytes: 0 });
  });
});

onGpu('pipeline cache', () => {
  const code = `@group(0) @binding(0) var<storage, read_write> b: array<f32>;
@compute @workgroup_size(1) fn main() { b[0] = 7.0; }`;

  it('compiles each WGSL text once, even for concurrent requests', async () => {
    const cache = new PipelineCache(gpu!.device);
    const [p, q] = await Promise.all([cache.get(code, ['storage']), cache.get(code, ['storage'])]);
    expect(p).toBe(q);
    expect(cache.compiled).toBe(1);
    expect(cache.peek(code)).toBe(p);
    expect(await cache.get(code, ['storage'])).toBe(p);
    expect(cache.size).toBe(1);
  });

  it("reports the shader compiler's message with the line for a bad kernel", async () => {
    const cache = new PipelineCache(gpu!.device);
    const bad = code.replace('7.0', 'undefined_name');
    await expect(cache.get(bad, ['storage'])).rejects.toThrow(InternalError);
    await expect(cache.get(bad, ['storage'])).rejects.toThrow(/line 2/);
    expect(cache.size).toBe(0);
  });
});

onGpu('batched submission', () => {
  it('runs dependent kernels and copies from one command buffer, each with its own uniforms', async () => {
    const { backend } = runner!;
    const queue = gpu!.device.queue;
    const n = 1000;
    const x = backend.alloc('float32', n);
    backend.write(x, 'float32', Float32Array.from({ length: n }, (_, i) => i));
    const y = backend.alloc('float32', n + 8);
    const z = backend.alloc('float32', n);
    const copy = backend.alloc('float32', n);
    const exp = lowerElementwise('exp', [f32(n)], f32(n, 8)).build();
    const neg = lowerElementwise('neg', [f32(n, 8)], f32(n)).build();
    const submit = queue.submit;
    let submits = 0;
    queue.submit = (buffers) => {
      submits++;
      submit.call(queue, buffers);
    };
    const launches = backend.launches;
    let zs: Float32Array, cs: Float32Array, ys: Float32Array;
    try {
      // y[8 + i] = exp(x[i]), then z[i] = -y[8 + i]: the second kernel reads what the first wrote, at offsets from the uniforms.
      runner!.launch(exp, [y, x], [8, 0]);
      runner!.launch(neg, [z, y], [0, 8]);
      backend.copy(z, 0, copy, 0, n);
      expect(backend.launches - launches).toBe(2);
      expect(submits, 'recorded, not yet submitted').toBe(0);
      const reads = [backend.read(z, 'float32', 0, n), backend.read(copy, 'float32', 0, n), backend.read(y, 'float32', 8, 10)];
      [zs, cs, ys] = (await Promise.all(reads)) as Float32Array[];
    } finally {
      queue.submit = submit;
    }
    // The launches and the copy in one command buffer; the readbacks' copies in one each.
    expect(submits).toBe(4);
    expect(zs![0]).toBe(-1);
    expect(zs![999]).toBe(-Infinity);
    expect(zs![3]).toBeCloseTo(-Math.exp(3), 4);
    expect(Array.from(cs!)).toEqual(Array.from(zs!));
    expect(ys![2]).toBeCloseTo(Math.exp(2), 5);
    for (const b of [x, y, z, copy]) backend.free(b);
  });

  it('skips launches without workgroups', async () => {
    const r = runner!;
    const spec = lowerElementwise('neg', [f32(0)], f32(0)).build();
    expect(await r.run(spec, [new Float32Array(0), new Float32Array(0)])).toEqual([new Float32Array(0)]);
  });
});
