/**
 * Power iteration until convergence on WebGPU under jit, in an async function: rewritten,
 * the loop is awaited, traced without reading its condition and, since its body (a matmul,
 * a norm) does not fuse into one kernel, runs host-driven with batched condition readbacks.
 */
import { jit, tensor, webgpu, type Tensor } from '../../../../src/index.js';
import { observeHostLoops, type HostLoopRun } from '../../../../src/jit/loop-host.js';

async function powerIteration(A: Tensor, v: Tensor, tol: number): Promise<Tensor> {
  let prev = v.mul(0);
  while (v.sub(prev).mul(v.sub(prev)).sum().sqrt().gt(tol)) { // site: power gpu while
    prev = v;
    const w = A.matmul(v);
    v = w.div(w.mul(w).sum().sqrt());
  }
  return v;
}

/** The compiled loop, on WebGPU and on the CPU. */
const powerGpu = jit(powerIteration);
const powerCpu = jit(powerIteration);

const N = 64;

/** A symmetric [64,64] matrix with eigenvalues near 1 and `gap`, and a start vector, from `seed`. */
function problem(seed: number, gap: number): { A: Float32Array; v: Float32Array } {
  let s = seed >>> 0;
  const r = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1;
  const A = new Float32Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j <= i; j++) A[i * N + j] = A[j * N + i] = 0.002 * r();
    A[i * N + i] += i === 0 ? 1 : i === 1 ? gap : 0.5 * gap * (1 - i / N);
  }
  return { A, v: Float32Array.from({ length: N }, () => 1 + 0.5 * r()) };
}

/**
 * Eight calls: per call the readbacks, the host-driven loop's iterations and batches, the
 * largest difference from the CPU jit; then the stats and the loop's note.
 */
export async function run(): Promise<{
  calls: { readbacks: number; iterations: number; batches: number[]; error: number }[];
  stats: Record<string, number>; loops: string[];
}> {
  await webgpu.init();
  const gpu = webgpu.eagerGpu();
  const calls = [];
  for (const [seed, gap] of [[1, 0.7], [2, 0.75], [3, 0.6], [4, 0.8], [5, 0.7], [6, 0.9], [7, 0.7], [8, 0.65]]) {
    const { A, v } = problem(seed!, gap!);
    const want = await (await powerCpu(tensor(A, { shape: [N, N] }), tensor(v, { shape: [N, 1] }), 1e-4)).dataAsync();
    const runs: HostLoopRun[] = [];
    const stop = observeHostLoops((r) => runs.push(r));
    const before = gpu.readbacks;
    const onGpu = (x: Float32Array, shape: number[]) => tensor(x, { shape, device: 'webgpu' });
    const out = await powerGpu(onGpu(A, [N, N]), onGpu(v, [N, 1]), 1e-4);
    const readbacks = gpu.readbacks - before;
    stop();
    const got = await out.dataAsync();
    const error = Math.max(...Array.from(got, (x, i) => Math.abs(x - want[i]!)));
    calls.push({ readbacks, iterations: runs[0]?.iterations ?? -1, batches: runs[0]?.batches ?? [], error });
  }
  const A = tensor(problem(1, 0.7).A, { shape: [N, N], device: 'webgpu' });
  const loops = powerGpu.explain(A, tensor(problem(1, 0.7).v, { shape: [N, 1], device: 'webgpu' }), 1e-4)
    .variants.at(-1)?.controlFlow ?? [];
  return { calls, stats: { ...powerGpu.stats }, loops };
}
