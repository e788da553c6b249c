/**
 * Lifted loops on WebGPU whose body does not fuse into one kernel (a matmul, a reduction):
 * in an async function they run host-driven, k iterations per readback of their conditions.
 * Power iteration against the CPU jit, readbacks per call, zero and one trips, explain(),
 * Newton over many elements with a reduction in its condition,
 * the loop without jit, GPU memory over replays, the error a synchronous function gets.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { JitError, jit, memory, tensor, webgpu, type Tensor } from '../../../src/node.js';
import { __kiln } from '../../../src/hooks.js';
import { eagerGpu } from '../../../src/webgpu.js';
import { MAX_BATCH, observeHostLoops, type HostLoopRun } from '../../../src/jit/loop-host.js';
import { initEagerForTests } from '../../webgpu.js';

const ready = await initEagerForTests('host-driven loops on webgpu');
afterAll(() => webgpu.destroy());
const onGpu = describe.skipIf(!ready);
// Each test compiles WGSL pipelines and waits on readbacks (lavapipe runs on the CPU).
const GPU_TIMEOUT = 120_000;

/** v ← normalize(A·v) until ‖v − v_prev‖ ≤ tol. */
async function powerIteration(A: Tensor, v: Tensor, tol: number): Promise<Tensor> {
  let prev = v.mul(0);
  while (v.sub(prev).mul(v.sub(prev)).sum().sqrt().gt(tol)) {
    prev = v;
    const w = A.matmul(v);
    v = w.div(w.mul(w).sum().sqrt());
  }
  return v;
}

/** The same loop in a synchronous function. */
function powerIterationSync(A: Tensor, v: Tensor, tol: number): Tensor {
  let prev = v.mul(0);
  while (v.sub(prev).mul(v.sub(prev)).sum().sqrt().gt(tol)) {
    prev = v;
    const w = A.matmul(v);
    v = w.div(w.mul(w).sum().sqrt());
  }
  return v;
}

/** Newton's iteration for the square roots of many numbers at once, until every one has converged. */
async function newtonAll(x: Tensor, a: Tensor, tol: number): Promise<Tensor> {
  while (x.mul(x).sub(a).abs().gt(tol).any()) {
    x = x.add(a.div(x)).mul(0.5);
  }
  return x;
}

/** Power iteration, then a read of a value the GPU computed (a guard a replay could check only speculatively). */
async function powerThenSign(A: Tensor, v: Tensor, tol: number): Promise<Tensor> {
  let prev = v.mul(0);
  while (v.sub(prev).mul(v.sub(prev)).sum().sqrt().gt(tol)) {
    prev = v;
    const w = A.matmul(v);
    v = w.div(w.mul(w).sum().sqrt());
  }
  const total = await v.sum().itemAsync();
  return total < 0 ? v.neg() : v;
}

/** The seed loop in an async function: it fits one kernel, so it needs no readback there either. */
async function seedLoop(first: Tensor, second: Tensor): Promise<Tensor[]> {
  while (first < second) {
    first = first.add(2);
    second = second.add(1);
  }
  return [first, second];
}

/** A deterministic pseudo-random stream in [-1, 1). */
function stream(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

const N = 64;

/** A symmetric [64,64] matrix with eigenvalues near 1, `gap`, and below: power iteration converges at rate `gap`. */
function matrix(seed: number, gap: number): Float32Array {
  const r = stream(seed);
  const a = new Float32Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j <= i; j++) {
      const x = 0.002 * r();
      a[i * N + j] = x;
      a[j * N + i] = x;
    }
    a[i * N + i] += i === 0 ? 1 : i === 1 ? gap : 0.5 * gap * (1 - i / N);
  }
  return a;
}

function start(seed: number): Float32Array {
  const r = stream(seed);
  return Float32Array.from({ length: N }, () => 1 + 0.5 * r());
}

const on = (data: Float32Array, shape: number[], device: 'cpu' | 'webgpu') => tensor(data, { shape, device });

/** Runs `call` and counts the device's readbacks and the host-driven loops' runs meanwhile. */
async function watched<T>(call: () => Promise<T>): Promise<{ value: T; readbacks: number; runs: HostLoopRun[] }> {
  const runs: HostLoopRun[] = [];
  const stop = observeHostLoops((r) => runs.push(r));
  const before = eagerGpu().readbacks;
  try {
    const value = await call();
    return { value, readbacks: eagerGpu().readbacks - before, runs };
  } finally {
    stop();
  }
}

onGpu('host-driven loops on WebGPU', () => {
  it('power iteration until convergence matches the CPU jit, with batched condition readbacks', async () => {
    const gpu = jit(powerIteration, { rewrite: true });
    const cpu = jit(powerIteration, { rewrite: true });
    // Trip counts from about 20 to past MAX_BATCH, up and down from one call to the next.
    const cases = [[1, 0.7], [2, 0.7], [3, 0.6], [7, 0.9], [4, 0.8], [5, 0.7], [6, 0.75]] as const;
    for (const [seed, gap] of cases) {
      const A = matrix(seed, gap), v = start(seed + 100);
      const want = await (await cpu(on(A, [N, N], 'cpu'), on(v, [N, 1], 'cpu'), 1e-4)).dataAsync();
      const call = () => gpu(on(A, [N, N], 'webgpu'), on(v, [N, 1], 'webgpu'), 1e-4);
      const { value, readbacks, runs } = await watched(call);
      const got = await value.dataAsync();
      for (let i = 0; i < N; i++) expect(Math.abs(got[i]! - want[i]!), `seed ${seed}, element ${i}`).toBeLessThan(2e-3);
      expect(runs).toHaveLength(1);
      const { iterations, batches } = runs[0]!;
      expect(iterations).toBeGreaterThan(8);
      // One readback per batch, and no other: k conditions in each.
      expect(readbacks).toBe(batches.length);
      expect(readbacks).toBeLessThanOrEqual(Math.ceil(iterations / batches[0]!) + 1);
      // No batch starts after the loop ended: all but the last hold fewer conditions than it evaluated.
      expect(Math.max(...batches)).toBeLessThanOrEqual(MAX_BATCH);
      const sum = (ks: number[]) => ks.reduce((a, b) => a + b, 0);
      expect(sum(batches.slice(0, -1))).toBeLessThan(iterations + 1);
      expect(sum(batches)).toBeGreaterThanOrEqual(iterations + 1);
    }
    expect(gpu.stats).toMatchObject({ variants: 1, fallbacks: 0, traces: 2, replays: cases.length - 2 });
    // The same call again starts with the last call's trip count: one readback.
    const A = matrix(6, 0.75), v = start(106);
    const again = await watched(() => gpu(on(A, [N, N], 'webgpu'), on(v, [N, 1], 'webgpu'), 1e-4));
    expect(again.readbacks).toBe(1);
    const explained = gpu.explain(on(A, [N, N], 'webgpu'), on(v, [N, 1], 'webgpu'), 1e-4).variants[0]!;
    expect(explained.controlFlow[0]).toMatch(/lifted into one loop node .* on WebGPU it runs host-driven /);
    expect(explained.controlFlow[0]).toMatch(/\(its body does not fuse into one kernel: .+\).* one batched readback/);
    // The loop's kernels are shown as the WGSL they run.
    const inLoop = explained.kernels.filter((k) => / in the (cond|body) of loop %\d+$/.test(k.kind));
    expect(inLoop.length).toBeGreaterThanOrEqual(2);
    for (const k of inLoop) expect(k.source).toContain('@compute');
  }, GPU_TIMEOUT);

  it('zero-trip and one-trip loops', async () => {
    const gpu = jit(powerIteration, { rewrite: true });
    const identity = new Float32Array(N * N);
    for (let i = 0; i < N; i++) identity[i * N + i] = 1;
    const unit = new Float32Array(N).fill(1 / 8);
    const zeros = new Float32Array(N);
    for (let call = 0; call < 4; call++) {
      // v = 0: ‖v − 0‖ = 0, the condition is false at once and v comes back as it was.
      const none = await watched(() => gpu(on(identity, [N, N], 'webgpu'), on(zeros, [N, 1], 'webgpu'), 1e-4));
      expect(Array.from(await none.value.dataAsync())).toEqual(Array.from(zeros));
      expect(none.runs.map((r) => r.iterations)).toEqual([0]);
      // A unit eigenvector of the identity: one iteration, after which v = prev.
      const one = await watched(() => gpu(on(identity, [N, N], 'webgpu'), on(unit, [N, 1], 'webgpu'), 1e-4));
      const got = await one.value.dataAsync();
      for (let i = 0; i < N; i++) expect(got[i]).toBeCloseTo(1 / 8, 6);
      expect(one.runs.map((r) => r.iterations)).toEqual([1]);
    }
    expect(gpu.stats).toMatchObject({ variants: 1, fallbacks: 0 });
  }, GPU_TIMEOUT);

  it('Newton for 1,000 square roots until all converged (a reduction in the condition) matches the CPU', async () => {
    const gpu = jit(newtonAll, { rewrite: true });
    const cpu = jit(newtonAll, { rewrite: true });
    for (const seed of [1, 2, 3, 4]) {
      const r = stream(seed);
      const a = Float32Array.from({ length: 1000 }, () => 10 ** (3 * r()));
      const x = new Float32Array(1000).fill(1);
      const want = await (await cpu(tensor(x), tensor(a), 1e-3)).dataAsync();
      const onGpu = (data: Float32Array) => tensor(data, { device: 'webgpu' });
      const { value, readbacks, runs } = await watched(() => gpu(onGpu(x), onGpu(a), 1e-3));
      const got = await value.dataAsync();
      for (let i = 0; i < 1000; i++) {
        expect(Math.abs(got[i]! - want[i]!), `sqrt(${a[i]})`).toBeLessThanOrEqual(1e-5 * want[i]!);
      }
      expect(runs[0]!.iterations).toBeGreaterThan(5);
      expect(readbacks).toBeLessThanOrEqual(Math.ceil(runs[0]!.iterations / runs[0]!.batches[0]!) + 1);
    }
    expect(gpu.stats).toMatchObject({ variants: 1, fallbacks: 0, traces: 2, replays: 2 });
    const ones = () => tensor(new Float32Array(1000).fill(1), { device: 'webgpu' });
    const note = gpu.explain(ones(), ones(), 1e-3);
    expect(note.variants[0]!.controlFlow[0]).toContain('on WebGPU it runs host-driven');
  }, GPU_TIMEOUT);

  it('in an async function, a loop that fits one kernel stays one launch, with no readback', async () => {
    const f = jit(seedLoop, { rewrite: true });
    const int = (x: number) => tensor(x, { dtype: 'int32', device: 'webgpu' });
    for (const [a, b] of [[0, 10], [0, 10], [3, 9], [7, 2], [0, 1000], [5, 5]] as const) {
      const gpu = eagerGpu();
      const readbacks = gpu.readbacks, launches = gpu.launches;
      const [p, q] = await f(int(a), int(b));
      expect(gpu.readbacks - readbacks).toBe(0);
      if (f.stats.replays > 0) expect(gpu.launches - launches).toBe(1);
      const n = Math.max(0, b - a);
      expect([(await p!.dataAsync())[0], (await q!.dataAsync())[0]]).toEqual([a + 2 * n, b + n]);
    }
    expect(f.stats).toMatchObject({ variants: 1, fallbacks: 0, traces: 2, replays: 4 });
  }, GPU_TIMEOUT);

  it('a host-driven loop with a guard on a GPU value after it keeps the signature eager, saying why', async () => {
    const f = jit(powerThenSign, { rewrite: true });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const A = matrix(3, 0.6), v = start(103);
      const cpu = jit(powerIteration, { rewrite: true });
      const want = await (await cpu(on(A, [N, N], 'cpu'), on(v, [N, 1], 'cpu'), 1e-4)).dataAsync();
      for (let call = 0; call < 3; call++) {
        const got = await (await f(on(A, [N, N], 'webgpu'), on(v, [N, 1], 'webgpu'), 1e-4)).dataAsync();
        const sign = Array.from(want, Number).reduce((s, x) => s + x, 0) < 0 ? -1 : 1;
        for (let i = 0; i < N; i++) expect(Math.abs(got[i]! - sign * want[i]!)).toBeLessThan(2e-3);
      }
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/stays eager: its loop at .* runs host-driven, and it also reads/);
      expect(f.stats).toMatchObject({ variants: 0, replays: 0 });
    } finally {
      warn.mockRestore();
    }
  }, GPU_TIMEOUT);

  it('a synchronous function with such a loop gets an error naming the loop and the fix', () => {
    const f = jit(powerIterationSync, { rewrite: true });
    const A = matrix(1, 0.7), v = start(101);
    expect(() => f(on(A, [N, N], 'webgpu'), on(v, [N, 1], 'webgpu'), 1e-4))
      .toThrow(JitError);
    expect(() => f(on(A, [N, N], 'webgpu'), on(v, [N, 1], 'webgpu'), 1e-4))
      .toThrow(/loop at .*:\d+:\d+ runs on WebGPU and does not fuse into one kernel .* make the function async/);
  }, GPU_TIMEOUT);

  it('without jit, the awaited loop reads its condition every iteration and computes the same', async () => {
    const A = on(matrix(3, 0.6), [N, N], 'webgpu');
    let v = on(start(103), [N, 1], 'webgpu');
    let prev = v.mul(0);
    // The loop as the transform writes it in an async function.
    const before = eagerGpu().readbacks;
    await __kiln.liftAsync('eager.ts:1:1', () => v.sub(prev).mul(v.sub(prev)).sum().sqrt().gt(1e-4), () => {
      prev = v;
      const w = A.matmul(v);
      v = w.div(w.mul(w).sum().sqrt());
    }, () => [prev, v], (values) => { [prev, v] = values as Tensor[]; });
    const eagerReadbacks = eagerGpu().readbacks - before;
    const eager = await v.dataAsync();
    const gpu = jit(powerIteration, { rewrite: true });
    const lifted = await watched(() => gpu(A, on(start(103), [N, 1], 'webgpu'), 1e-4));
    const got = await lifted.value.dataAsync();
    for (let i = 0; i < N; i++) expect(Math.abs(got[i]! - eager[i]!)).toBeLessThan(2e-3);
    expect(eagerReadbacks).toBe(lifted.runs[0]!.iterations + 1);
  }, GPU_TIMEOUT);

  it('GPU memory stays flat over replays', async () => {
    const gpu = jit(powerIteration, { rewrite: true });
    const A = on(matrix(2, 0.7), [N, N], 'webgpu');
    const call = async (seed: number) => {
      const v = on(start(seed), [N, 1], 'webgpu');
      const out = await gpu(A, v, 1e-4);
      await out.dataAsync();
      out.dispose();
      v.dispose();
    };
    for (const seed of [1, 2, 3]) await call(seed);
    const before = memory().webgpu;
    for (const seed of [4, 5, 6]) await call(seed);
    expect(memory().webgpu.tensors).toBe(before.tensors);
    expect(memory().webgpu.bytes).toBe(before.bytes);
    expect(gpu.stats).toMatchObject({ variants: 1, replays: 4 });
  }, GPU_TIMEOUT);
});
