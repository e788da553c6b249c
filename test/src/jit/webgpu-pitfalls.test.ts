/**
 * Jit pitfalls on WebGPU: in-place writes returned and read through aliases, kernels over
 * empty strided views, and reductions whose fused form lets the shader compiler see zeros.
 * Each jit'd function is compared with eager execution on the GPU on every call.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, grad, jit, tensor, webgpu } from '../../../src/index.js';
import { initEagerForTests } from '../../webgpu.js';
import { expectClose, gpuRand, withSeed } from './webgpu-helpers.js';

const ready = await initEagerForTests('jit pitfalls on webgpu');
afterAll(() => webgpu.destroy());
const onGpu = describe.skipIf(!ready);

const CALLS = 5;
// Each test compiles a handful of WGSL pipelines on lavapipe: seconds on a loaded 2-core machine.
const TIMEOUT = 60_000;

/** Calls `body` under jit and eagerly on fresh GPU inputs of `shapes`, CALLS times. */
async function expectJitMatchesEager(label: string, body: (...args: Tensor[]) => Tensor[], shapes: number[][]): Promise<void> {
  await withSeed(label, async (next) => {
    const f = jit(body);
    for (let call = 1; call <= CALLS; call++) {
      const args = shapes.map((s) => gpuRand(next, s));
      const want = body(...args.map((a) => a.clone()));
      const got = await f(...args);
      expect(got.length).toBe(want.length);
      for (let k = 0; k < want.length; k++) await expectClose(got[k]!, want[k]!, `call ${call}, result ${k}`);
      // A kernel the device rejected (an empty result has nothing to read back) is reported
      // at the next readback: make one.
      await expectClose(args[0]!.add(1), args[0]!.add(1), `call ${call}: the device after it`);
    }
    expect(f.stats.replays).toBeGreaterThan(0);
  });
}

onGpu('jit on webgpu: in-place writes and aliases', { timeout: TIMEOUT }, () => {
  it('a tensor written in place is returned with the write', async () => {
    await expectJitMatchesEager('gpu inplace returned', (a) => { const c = a.mul(2); c.add_(1); return [c]; }, [[6]]);
  });

  it('a gradient whose result is a broadcast of a reduction', async () => {
    await expectJitMatchesEager('gpu grad of max over sum', (a, b) => [grad((x: Tensor, y: Tensor) => x.sum(0).maximum(y).sum(), 0)(a, b) as Tensor], [[3, 4], [4]]);
  });

  it('a detached alias sees a later write, and a keepdim result keeps its division', async () => {
    await expectJitMatchesEager('gpu detach then write', (x, y) => { const m = x.sum(); const d = m.detach(); m.mul_(y); return [d]; }, [[3], []]);
    await expectJitMatchesEager('gpu keepdim then div_', (d, m, x) => { const v = x.max(0, true); v.div_(d); return [v.matmul(m)]; }, [[], [4, 2], [3, 4]]);
  });
});

onGpu('jit on webgpu: .grad of a returned tensor', { timeout: TIMEOUT }, () => {
  it('a .grad assigned to a tensor the call makes and returns is there after a replay', async () => {
    await withSeed('gpu grad of a result', async (next) => {
      const body = (x: Tensor) => { const h = x.mul(2); h.grad = x.add(1); return h; };
      const f = jit(body);
      for (let call = 1; call <= CALLS; call++) {
        const x = gpuRand(next, [5]);
        const got = await f(x), want = body(x);
        await expectClose(got, want, `call ${call}`);
        expect(got.grad, `call ${call}: .grad`).not.toBeNull();
        await expectClose(got.grad!, want.grad!, `call ${call}: .grad`);
      }
      expect(f.stats.replays).toBeGreaterThan(0);
    });
  });
});

onGpu('jit on webgpu: signed zero constants', { timeout: TIMEOUT }, () => {
  it('x.div(-0) and x.mul(-0) keep their sign after another function compiled the same kernel with +0', async () => {
    await withSeed('gpu signed zero', async (next) => {
      const bodies = [(x: Tensor) => [x.div(0)], (x: Tensor) => [x.div(-0)], (x: Tensor) => [x.mul(0)], (x: Tensor) => [x.mul(-0)]];
      const fs = bodies.map((b) => jit(b));
      for (let call = 1; call <= 4; call++) {
        const x = gpuRand(next, [4], 0.5, 1);
        for (let k = 0; k < fs.length; k++) {
          const [got] = await fs[k]!(x), [want] = bodies[k]!(x);
          const g = Array.from(await got!.dataAsync()), w = Array.from(await want!.dataAsync());
          expect(g.map((v) => Object.is(v, -0) ? '-0' : String(v)), `call ${call}, function ${k}`).toEqual(w.map((v) => Object.is(v, -0) ? '-0' : String(v)));
        }
      }
    });
  });
});

onGpu('jit on webgpu: edge sizes', { timeout: TIMEOUT }, () => {
  it('kernels over an empty strided view compile (no `% 0u`)', async () => {
    await expectJitMatchesEager('gpu empty narrow', (x, s) => { const e = x.narrow(1, 1, 0); return [e.mul(s).sin(), e.floor()]; }, [[2, 3], []]);
    await expectJitMatchesEager('gpu empty rows', (x) => { const e = x.narrow(0, 1, 0); return [e.exp().sum(1), e.add(1)]; }, [[3, 4]]);
  });

  it('var and std with no degrees of freedom left are NaN, as eager', async () => {
    await expectJitMatchesEager('gpu var of one', (x) => [x.var(1), x.std(1), x.var(0, false, 4)], [[3, 1]]);
    const f = jit((x: Tensor) => [x.var(1)]);
    for (let call = 0; call < 4; call++) {
      const [v] = await f(gpuRand(() => 0.5, [3, 1]));
      expect(Array.from(await v!.dataAsync()).every(Number.isNaN), `call ${call + 1}`).toBe(true);
    }
  });
});

onGpu('webgpu: int32 matmul', { timeout: TIMEOUT }, () => {
  it('wraps like int32 mul then sum, as on the CPU', async () => {
    const a = [[2147483647, 3], [-7, 1 << 30]], b = [[-(2 ** 31), 5], [1, 4]];
    const onCpu = tensor(Int32Array.from(a.flat()), { shape: [2, 2] }).matmul(tensor(Int32Array.from(b.flat()), { shape: [2, 2] }));
    const onGpu = tensor(Int32Array.from(a.flat()), { shape: [2, 2], device: 'webgpu' }).matmul(tensor(Int32Array.from(b.flat()), { shape: [2, 2], device: 'webgpu' }));
    expect(Array.from(await onGpu.dataAsync())).toEqual(Array.from(onCpu.data()));
  });
});
