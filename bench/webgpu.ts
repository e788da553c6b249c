/**
 * WebGPU timings of the fused gelu(x * a + b) map kernel over 4M float32 elements: the
 * dispatch alone (inputs already on the device) and the whole round trip (upload three
 * inputs, dispatch, read the result back), with and without the event-wait throttle, for
 * the vec4 and the scalar kernel. The CPU kernel of the same spec runs alongside for scale.
 *
 *   npx tsx bench/webgpu.ts [elements]
 */
import { STATUS_BYTES, renderWgsl, throwStatus } from '../compiler/codegen/wgsl.js';
import { cpuKernel } from '../compiler/execute.js';
import type { MapSpec } from '../compiler/kernel.js';
import { WebGpuBackend, type WebGpuBuffer } from '../runtime/webgpu/backend.js';
import { acquireDevice } from '../runtime/webgpu/device.js';
import { eventWaitThrottleStats, installEventWaitThrottle } from '../runtime/webgpu/throttle.js';

/** gelu(x * a + b) as the JIT fuses it: x·0.5·(erf(x·√½) + 1), constants as scalar arguments. */
function geluChain(n: number): MapSpec {
  return {
    kind: 'map', shape: [n], dtypes: ['float32', 'float32', 'float32', 'float32'], strides: [[1], [1], [1], [1]],
    body: [
      { op: 'load', arg: 1 }, { op: 'load', arg: 2 }, { op: 'load', arg: 3 },
      { op: 'prim', prim: 'mul', args: [0, 1], dtype: 'float32' },
      { op: 'prim', prim: 'add', args: [3, 2], dtype: 'float32' },
      { op: 'scalar', index: 0, dtype: 'float32' },
      { op: 'prim', prim: 'mul', args: [4, 5], dtype: 'float32' },
      { op: 'scalar', index: 1, dtype: 'float32' },
      { op: 'prim', prim: 'mul', args: [4, 7], dtype: 'float32' },
      { op: 'prim', prim: 'erf', args: [8], dtype: 'float32' },
      { op: 'scalar', index: 2, dtype: 'float32' },
      { op: 'prim', prim: 'add', args: [9, 10], dtype: 'float32' },
      { op: 'prim', prim: 'mul', args: [6, 11], dtype: 'float32' },
    ],
    stores: [{ arg: 0, node: 12 }],
  };
}

/** Median and minimum of samples (ms). */
function summary(samples: number[]): string {
  const t = samples.slice().sort((a, b) => a - b);
  return `${t[t.length >> 1]!.toFixed(1)} (${t[0]!.toFixed(1)})`;
}

async function sample(into: number[], fn: () => Promise<unknown> | unknown, runs: number): Promise<void> {
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    into.push(performance.now() - t0);
  }
}

const n = Number(process.argv[2] ?? 4 * 1024 * 1024);
const spec = geluChain(n);
const scalars = [0.5, Math.SQRT1_2, 1];
const host = [new Float32Array(n), ...[1, 2, 3].map((s) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * s) * 3))];

// The device comes without the throttle; each phase below installs it or not. Phases
// alternate round by round, so drift in the machine's load falls on all of them alike.
const gpu = await acquireDevice({ throttle: false });
// The vec4 and the scalar kernel of one spec: each backend kernel renders with its alignment choice.
const fallbackAdapter = gpu.device.adapterInfo?.isFallbackAdapter === true;
const backend = new WebGpuBackend<{ spec: MapSpec; aligned: boolean }>(gpu, {
  render: ({ spec, aligned }) => renderWgsl(spec, gpu.limits, { alignedOffsets: aligned, fallbackAdapter }),
  statusBytes: STATUS_BYTES,
  throwStatus,
});
const device = gpu.device;
const ROUNDS = 10;
const PER_ROUND = 3;
console.log(`adapter: ${gpu.adapter}`);
console.log(`gelu(x*a+b) over ${n} float32 elements; median (min) of ${ROUNDS * PER_ROUND} runs, ms\n`);

const cpu = cpuKernel({ key: `bench|gelu|${n}`, build: () => spec });
const vec4 = backend.compile('vec4', () => ({ spec, aligned: true }));
const scalar = backend.compile('scalar', () => ({ spec, aligned: false }));
const args = (buffers: WebGpuBuffer[]) => buffers.map((data) => ({ data, offset: 0 }));
const inputs = host.slice(1).map((a) => {
  const buffer = backend.alloc('float32', n);
  backend.write(buffer, 'float32', a);
  return buffer;
});
const out = backend.alloc('float32', n);
const dispatch = (kernel: typeof vec4) => async () => {
  backend.run([{ kernel, args: args([out, ...inputs]), scalars }]);
  backend.flush();
  await device.queue.onSubmittedWorkDone();
};
const roundTrip = async () => {
  const buffers = host.map((a) => backend.alloc('float32', a.length));
  host.forEach((a, i) => { if (i > 0) backend.write(buffers[i]!, 'float32', a); });
  backend.run([{ kernel: vec4, args: args(buffers), scalars }]);
  const result = await backend.read(buffers[0]!, 'float32', 0, n);
  for (const b of buffers) backend.free(b);
  return result;
};

const phases = ['off', 'on'] as const;
const results = new Map<string, number[]>();
const slot = (name: string) => results.get(name) ?? (results.set(name, []), results.get(name)!);
const cpuSamples: number[] = [];
let slept = { polls: 0, sleeps: 0, sleptMs: 0 };
for (let round = -1; round < ROUNDS; round++) {
  // Round -1 warms up: pipelines, pooled buffers, V8.
  const runs = round < 0 ? 2 : PER_ROUND;
  await sample(round < 0 ? [] : cpuSamples, () => cpu(...host, 0, 0, 0, 0, ...scalars), runs);
  for (const phase of phases) {
    const remove = phase === 'on' ? installEventWaitThrottle() : undefined;
    const before = eventWaitThrottleStats();
    await sample(round < 0 ? [] : slot(`dispatch only, vec4 kernel, throttle ${phase}`), dispatch(vec4), runs);
    await sample(round < 0 ? [] : slot(`dispatch only, scalar kernel, throttle ${phase}`), dispatch(scalar), runs);
    await sample(round < 0 ? [] : slot(`upload + dispatch + readback, vec4 kernel, throttle ${phase}`), roundTrip, runs);
    const after = eventWaitThrottleStats();
    if (phase === 'on' && round >= 0) {
      slept = { polls: slept.polls + after.polls - before.polls, sleeps: slept.sleeps + after.sleeps - before.sleeps, sleptMs: slept.sleptMs + after.sleptMs - before.sleptMs };
    }
    remove?.();
  }
}

const rows: [string, string][] = [['cpu (generated JS, one thread)', summary(cpuSamples)]];
for (const [name, samples] of [...results].sort(([a], [b]) => a.localeCompare(b))) rows.push([name, summary(samples)]);
rows.push(['throttle on: polls / sleeps / ms slept', `${slept.polls} / ${slept.sleeps} / ${slept.sleptMs.toFixed(0)}`]);
const width = Math.max(...rows.map((r) => r[0].length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
backend.destroy();
gpu.destroy();
