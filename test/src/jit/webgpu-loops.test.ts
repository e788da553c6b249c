/**
 * Lifted loops on WebGPU: traced without reading their condition, run as one WGSL kernel
 * with the loop inside. Results against plain JS and the CPU, loop-invariant tensors and
 * number arguments, the iteration cap, explain(), the JS rendering of the same loop
 * kernel against eager CPU loops bit for bit.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { renderJs } from '../../../compiler/codegen/js.js';
import { jsHelpers } from '../../../compiler/codegen/js-helpers.js';
import type { LoopSpec } from '../../../compiler/kernel.js';
import { JitError, Tensor, jit, tensor, webgpu } from '../../../src/node.js';
import { initEagerForTests } from '../../webgpu.js';

const ready = await initEagerForTests('lifted loops on webgpu');
afterAll(() => webgpu.destroy());
const onGpu = describe.skipIf(!ready);
// Each test compiles WGSL pipelines and waits on readbacks (lavapipe runs on the CPU).
const GPU_TIMEOUT = 60_000;

const gpuInt = (v: number) => tensor(v, { dtype: 'int32', device: 'webgpu' });
const gpuFloat = (v: number) => tensor(v, { device: 'webgpu' });

/** Newton's iteration for sqrt(a) from x, until the step is below `tol` (a number argument). */
function newtonSqrt(x: Tensor, a: Tensor, tol: number): Tensor {
  while (x.mul(x).sub(a).abs().gt(tol)) {
    x = x.add(a.div(x)).mul(0.5);
  }
  return x;
}

/** newtonSqrt as plain eager code reads it without the rewrite: the condition's element read explicitly. */
function newtonEager(x: Tensor, a: Tensor, tol: number): Tensor {
  while (x.mul(x).sub(a).abs().gt(tol).item()) x = x.add(a.div(x)).mul(0.5);
  return x;
}

/** A loop that never ends: `a` never reaches `b`. */
function endless(a: Tensor, b: Tensor): Tensor {
  while (a.lt(b)) {
    a = a.add(0);
  }
  return a;
}

onGpu('lifted loops on WebGPU', () => {
  it('Newton iterations with a loop-invariant tensor and a number argument match the CPU', async () => {
    const gpu = jit(newtonSqrt, { rewrite: true });
    const cpu = jit(newtonSqrt, { rewrite: true });
    for (const a of [2, 9, 1e4, 1, 0.25, 2]) {
      const want = cpu(tensor(1), tensor(a), 1e-3).item();
      const got = (await gpu(gpuFloat(1), gpuFloat(a), 1e-3).dataAsync())[0]!;
      expect(Math.abs(got - want), `sqrt(${a})`).toBeLessThanOrEqual(1e-6 * Math.abs(want));
    }
    expect(gpu.stats).toMatchObject({ variants: 1, fallbacks: 0, traces: 2, replays: 4 });
    const v = gpu.explain(gpuFloat(1), gpuFloat(2), 1e-3).variants[0]!;
    expect(v.controlFlow[0]).toContain('1 loop-invariant tensors; traced symbolically');
    expect(v.kernelCount).toBe(1);
    expect(v.kernels.map((k) => k.kind)).toEqual([expect.stringMatching(/^loop, the whole of loop %\d+ on WebGPU$/)]);
    expect(v.kernels[0]!.source).toContain('loop {');
  }, GPU_TIMEOUT);

  it('a loop that never ends stops at the iteration cap with an error at the next readback', async () => {
    const f = jit(endless, { rewrite: true });
    const t0 = performance.now();
    const out = f(gpuInt(0), gpuInt(1));
    await expect(out.dataAsync()).rejects.toThrow(JitError);
    const seconds = (performance.now() - t0) / 1000;
    await expect(f(gpuInt(0), gpuInt(1)).dataAsync()).rejects.toThrow(/ran 67108864 iterations in one kernel without its condition turning false/);
    // The device is usable afterwards.
    expect(await f(gpuInt(3), gpuInt(1)).dataAsync()).toEqual(Int32Array.of(3));
    console.log(`a loop kernel stopped at its cap after ${seconds.toFixed(2)} s`);
  }, GPU_TIMEOUT);
});

/** Runs a loop kernel rendered as JavaScript on one-element int32 or float32 arrays: final values, then the count. */
function runJs(spec: LoopSpec, inputs: number[], scalars: number[] = []): number[] {
  const kernel = new Function('M', renderJs(spec))(jsHelpers) as (...args: unknown[]) => void;
  const array = (d: string) => (d === 'float32' ? new Float32Array(1) : new Int32Array(1));
  const outs = spec.dtypes.slice(0, spec.carried + 1).map(array);
  const ins = inputs.map((v, k) => array(spec.dtypes[spec.carried + 1 + k]!).fill(v));
  kernel(...outs, ...ins, ...spec.dtypes.map(() => 0), ...scalars);
  return outs.map((x) => x[0]!);
}

describe('the loop kernel rendered as JavaScript', () => {
  it('the seed loop, zero trips included, and the cap', () => {
    const spec: LoopSpec = {
      kind: 'loop', dtypes: ['int32', 'int32', 'int32', 'int32', 'int32'], carried: 2, invariants: 0,
      cond: [{ op: 'load', arg: 0 }, { op: 'load', arg: 1 }, { op: 'prim', prim: 'lt', args: [0, 1], dtype: 'int32' }],
      condValue: 2, exports: [], exits: [0, 1],
      body: [
        { op: 'load', arg: 0 }, { op: 'literal', value: 2, dtype: 'int32' }, { op: 'prim', prim: 'add', args: [0, 1], dtype: 'int32' },
        { op: 'load', arg: 1 }, { op: 'literal', value: 1, dtype: 'int32' }, { op: 'prim', prim: 'add', args: [3, 4], dtype: 'int32' },
      ],
      results: [2, 5], maxIterations: 1000,
    };
    expect(runJs(spec, [0, 10])).toEqual([20, 20, 10]);
    expect(runJs(spec, [7, 2])).toEqual([7, 2, 0]);
    expect(() => runJs(spec, [0, 5000])).toThrow(/ran 1000 iterations in one kernel/);
  });

  it('Newton iterations in float32 equal the eager CPU loop bit for bit', () => {
    // cond: |x·x − a| > tol (tol a number argument); body: (x + a/x) · 0.5.
    const spec: LoopSpec = {
      kind: 'loop', dtypes: ['float32', 'int32', 'float32', 'float32'], carried: 1, invariants: 1,
      cond: [
        { op: 'load', arg: 0 }, { op: 'load', arg: 1 }, { op: 'prim', prim: 'mul', args: [0, 0], dtype: 'float32' },
        { op: 'prim', prim: 'sub', args: [2, 1], dtype: 'float32' }, { op: 'prim', prim: 'abs', args: [3], dtype: 'float32' },
        { op: 'scalar', index: 0, dtype: 'float32' }, { op: 'prim', prim: 'lt', args: [5, 4], dtype: 'float32' },
      ],
      condValue: 6, exports: [], exits: [0],
      body: [
        { op: 'load', arg: 0 }, { op: 'load', arg: 1 }, { op: 'prim', prim: 'div', args: [1, 0], dtype: 'float32' },
        { op: 'prim', prim: 'add', args: [0, 2], dtype: 'float32' }, { op: 'literal', value: 0.5, dtype: 'float32' },
        { op: 'prim', prim: 'mul', args: [3, 4], dtype: 'float32' },
      ],
      results: [5], maxIterations: 1000,
    };
    for (const [a, tol] of [[2, 1e-4], [9, 1e-3], [1e4, 1e-2], [0.25, 1e-5], [7, 1e-6]] as const) {
      const eager = newtonEager(tensor(1), tensor(a), tol);
      const [x] = runJs(spec, [1, a], [tol]);
      expect(Object.is(x, eager.item()), `sqrt(${a})`).toBe(true);
    }
  });
});
