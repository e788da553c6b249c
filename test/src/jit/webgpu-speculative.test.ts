/**
 * Speculative replay on WebGPU: an async jit'd function whose guards read values the GPU
 * computes (`await t.itemAsync()`, `await t.dataAsync()`) replays whole, with its in-place
 * writes shadowed and every observed value back in one readback; when a guard fails nothing
 * the caller can see has changed and the call runs eagerly. Results, parameters and the
 * random stream are compared with eager execution on the GPU after every call.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { JitError, Tensor, jit, manualSeed, memory, nn, noGrad, optim, rand, tensor, webgpu } from '../../../src/index.js';
import { eagerGpu } from '../../../src/webgpu.js';
import { initEagerForTests } from '../../webgpu.js';
import { expectClose, gpuRand, toGpu, withSeed } from './webgpu-helpers.js';

const ready = await initEagerForTests('speculative jit on webgpu');
afterAll(() => webgpu.destroy());
const onGpu = describe.skipIf(!ready);
// Steps compile WGSL pipelines and wait on GPU round trips (lavapipe runs on the CPU):
// seconds each on a loaded 2-core CI machine.
const GPU_TIMEOUT = 60_000;

/** A WebGPU tensor of `shape` whose elements all have the sign of `sign`. */
function signed(next: () => number, shape: number[], sign: number): Tensor {
  return sign > 0 ? gpuRand(next, shape, 0.1, 1) : gpuRand(next, shape, -1, -0.1);
}

/** Readbacks (EagerGpu.read) and staging buffers (one per mapped range) used while `fn` runs. */
async function readbacksOf(fn: () => Promise<unknown>): Promise<{ reads: number; staging: number }> {
  const read = vi.spyOn(eagerGpu(), 'read');
  const staging = vi.spyOn(eagerGpu().staging, 'acquire');
  try {
    await fn();
    return { reads: read.mock.calls.length, staging: staging.mock.calls.length };
  } finally {
    read.mockRestore();
    staging.mockRestore();
  }
}

/** Runs the garbage collector (and the finalizers it schedules) until it has found what it can. */
async function collectGarbage(): Promise<void> {
  // A gc function without --expose-gc on the command line: the flag, then a fresh context that sees it.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The elements of every tensor, read back (to compare states exactly). */
async function snapshot(ts: readonly Tensor[]): Promise<number[][]> {
  return Promise.all(ts.map(async (t) => Array.from(await t.dataAsync(), Number)));
}

onGpu('async functions that branch on GPU values', { timeout: GPU_TIMEOUT }, () => {
  it('each branch\'s variant replays; a call that diverges falls back and gives the eager result', async () => {
    await withSeed('speculative branch', async (next) => {
      const body = async (x: Tensor) => ((await x.sum().gt(0).itemAsync()) ? x.mul(2).exp() : x.neg());
      const f = jit(body);
      const signs = [1, 1, 1, -1, -1, -1, 1, -1, 1, 1, -1];
      for (const [i, sign] of signs.entries()) {
        const x = signed(next, [6], sign);
        const replays = f.stats.replays;
        await expectClose(await f(x), await body(x), `call ${i + 1} (sign ${sign})`);
        // Calls 1 and 2 trace; the first negative call (4) meets a variant of the other branch.
        if (i >= 2 && i !== 3) expect(f.stats.replays, `call ${i + 1} replays`).toBe(replays + 1);
      }
      expect(f.stats).toMatchObject({ calls: signs.length, traces: 3, fallbacks: 1, variants: 2, replays: signs.length - 3 });
    });
  });

  it('reads of several elements, strided views and numbers used in the math come back right', async () => {
    await withSeed('speculative data', async (next) => {
      const body = async (x: Tensor) => {
        // A transposed view: its elements are packed on the GPU before they travel.
        const positive = await x.gt(0).t().dataAsync();
        const count = await x.gt(0).sum().itemAsync();
        return positive[1] ? x.mul(count) : x.add(count);
      };
      const f = jit(body);
      for (const [i, sign] of [1, 1, 1, -1, -1, 1, -1].entries()) {
        const x = signed(next, [2, 3], sign);
        await expectClose(await f(x), await body(x), `call ${i + 1}`);
      }
      expect(f.stats.replays).toBe(4);
    });
  });

  it('a written argument returned as the result is the argument\'s storage after the commit', async () => {
    await withSeed('speculative returned write', async (next) => {
      const body = async (p: Tensor, g: Tensor) => {
        p.sub_(g.mul(0.1));
        if (await p.sum().gt(0).itemAsync()) p.mul_(0.5);
        return p;
      };
      const f = jit(body);
      for (let i = 0; i < 5; i++) {
        const p = signed(next, [5], 1), g = gpuRand(next, [5], -0.1, 0.1);
        const q = p.clone();
        const got = await f(p, g);
        await expectClose(got, await body(q, g), `call ${i + 1}`);
        await expectClose(p, q, `argument, call ${i + 1}`);
        p.add_(1);
        await expectClose(got, q.add(1), `result after writing the argument, call ${i + 1}`);
      }
      expect(f.stats.replays).toBe(3);
    });
  });

  it('random draws: a failed speculation gives its counters back, so the eager rerun draws what eager draws', async () => {
    await withSeed('speculative random', async (next) => {
      const body = async (x: Tensor, limit: Tensor) => {
        const y = x.add(rand([8], { device: 'webgpu' }));
        return (await y.sum().lt(limit).itemAsync()) ? y.mul(2) : y.neg();
      };
      const f = jit(body);
      for (const [i, lim] of [100, 100, 100, -100, 100, -100, -100].entries()) {
        const x = gpuRand(next, [8]), limit = tensor(lim, { device: 'webgpu' });
        manualSeed(50 + i);
        const got = await f(x, limit);
        const after = (await rand([1], { device: 'webgpu' }).dataAsync())[0];
        manualSeed(50 + i);
        await expectClose(got, await body(x, limit), `call ${i + 1}`);
        expect((await rand([1], { device: 'webgpu' }).dataAsync())[0], `stream after call ${i + 1}`).toBe(after);
      }
      expect(f.stats).toMatchObject({ fallbacks: 1, replays: 4 });
    });
  });
});

/** An MLP on the GPU, the same for every seed. */
function model(): nn.Sequential {
  manualSeed(17);
  return toGpu(new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 3)));
}

/**
 * A training step that reads its loss: when it is below `limit`, the weights also decay (an
 * in-place update that only that branch makes). The read comes after the optimizer's step,
 * so a replay has recorded the step's writes by the time it knows which branch it is on.
 */
const trainStep = (m: nn.Sequential, opt: optim.Optimizer<{ lr: number }>) => async (x: Tensor, y: Tensor, limit: Tensor) => {
  opt.zeroGrad();
  const loss = nn.crossEntropy(m.forward(x), y);
  loss.backward();
  opt.step();
  if (await loss.lt(limit).itemAsync()) noGrad(() => { for (const p of m.parameters()) p.mul_(0.9); });
  return loss.detach();
};

const optimizers: [string, (params: Tensor[]) => optim.Optimizer<{ lr: number }>][] = [
  ['SGD with momentum', (params) => new optim.SGD(params, { lr: 0.1, momentum: 0.9 })],
  ['Adam', (params) => new optim.Adam(params, { lr: 0.02 })],
];

/** A batch of 8 samples (6 features, 3 classes) and a loss limit, on the GPU. */
function batch(next: () => number, limit: number): [Tensor, Tensor, Tensor] {
  const x = gpuRand(next, [8, 6], -1, 1);
  const y = tensor(Int32Array.from({ length: 8 }, () => Math.floor(next() * 3)), { dtype: 'int32', device: 'webgpu' });
  return [x, y, tensor(limit, { device: 'webgpu' })];
}

onGpu('speculative training steps', { timeout: GPU_TIMEOUT }, () => {
  for (const [name, optimizer] of optimizers) {
    it(`${name}: parameters follow eager step by step, through replays and failed guards`, async () => {
      await withSeed(`speculative training ${name}`, async (next) => {
        const [jm, em] = [model(), model()];
        const step = jit(trainStep(jm, optimizer(jm.parameters())));
        const eagerStep = trainStep(em, optimizer(em.parameters()));
        // 100 keeps the decay branch, -1 skips it: the branch switches at calls 6, 9, 10 and 12.
        const limits = [100, 100, 100, 100, 100, -1, -1, -1, 100, -1, -1, 100, 100];
        for (const [i, limit] of limits.entries()) {
          const args = batch(next, limit);
          await expectClose(await step(...args), await eagerStep(...args), `loss, call ${i + 1}`);
          const [jp, ep] = [jm.parameters(), em.parameters()];
          for (let k = 0; k < jp.length; k++) await expectClose(jp[k]!, ep[k]!, `parameter ${k}, call ${i + 1}`);
        }
        // Traces 1 and 2 differ (optimizer state is made lazily); call 6 is the one fallback.
        expect(step.stats).toMatchObject({ traces: 4, fallbacks: 1, variants: 2, replays: limits.length - 4 });
      });
    });
  }

  it('a replay brings its guard back in one readback', async () => {
    await withSeed('speculative readbacks', async (next) => {
      const m = model();
      const step = jit(trainStep(m, new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 })));
      // Traces 1 and 2 differ (momentum buffers are made lazily); call 3's trace compiles.
      for (let i = 0; i < 4; i++) await step(...batch(next, 100));
      const args = batch(next, 100);
      expect((await readbacksOf(() => step(...args))).reads).toBe(1);
      expect(step.stats.replays).toBe(2);

      // Without gathers (whose index checks ride along in staging buffers of their own), one staging buffer: one map.
      const f = jit(async (x: Tensor) => ((await x.sum().gt(0).itemAsync()) && (await x.max().lt(5).itemAsync()) ? x.mul(2) : x));
      for (let i = 0; i < 3; i++) await f(gpuRand(next, [16], 0.1, 1));
      const x = gpuRand(next, [16], 0.1, 1);
      expect(await readbacksOf(() => f(x))).toEqual({ reads: 1, staging: 1 });
      expect(f.stats.replays).toBe(2);
    });
  });

  it('calls made before the previous one settled wait for it, so they see its writes', async () => {
    await withSeed('speculative overlap', async (next) => {
      const [jm, em] = [model(), model()];
      const step = jit(trainStep(jm, new optim.SGD(jm.parameters(), { lr: 0.1, momentum: 0.9 })));
      const eagerStep = trainStep(em, new optim.SGD(em.parameters(), { lr: 0.1, momentum: 0.9 }));
      const batches = Array.from({ length: 9 }, (_, i) => batch(next, i === 6 ? -1 : 100));
      // Compiled first (traces run eagerly, and overlapping eager async calls interleave as plain async functions do).
      for (const args of batches.slice(0, 3)) {
        await expectClose(await step(...args), await eagerStep(...args), 'loss while tracing');
      }
      // Then six calls at once, one of which fails its guard and runs eagerly.
      const losses = await Promise.all(batches.slice(3).map((args) => step(...args)));
      for (const [i, args] of batches.slice(3).entries()) await expectClose(losses[i]!, await eagerStep(...args), `loss ${i + 4}`);
      const [jp, ep] = [jm.parameters(), em.parameters()];
      for (let k = 0; k < jp.length; k++) await expectClose(jp[k]!, ep[k]!, `parameter ${k}`);
      expect(step.stats).toMatchObject({ replays: 5, fallbacks: 1 });
    });
  });

  it('strict mode rejects with a JitError when a guard fails, leaving parameters, state and gradients as they were', async () => {
    await withSeed('speculative strict', async (next) => {
      const m = model();
      const opt = new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
      const step = jit(trainStep(m, opt), { strict: true });
      for (let i = 0; i < 5; i++) await step(...batch(next, 100));
      expect(step.stats.replays).toBe(2);
      const state = () => [...m.parameters(), ...m.parameters().map((p) => p.grad!), ...m.parameters().map((p) => opt.state.get(p)!.momentumBuffer as Tensor)];
      const tensors = state();
      const before = await snapshot(tensors);
      await expect(step(...batch(next, -1))).rejects.toThrow(JitError);
      await expect(step(...batch(next, -1))).rejects.toThrow(/guard itemAsync\(\) at .*webgpu-speculative\.test\.ts:\d+:\d+ failed: traced \[1\], this call \[0\] \(strict mode/);
      // The same tensors (nothing reassigned) with the same elements.
      expect(state()).toEqual(tensors);
      expect(await snapshot(tensors)).toEqual(before);
      expect(step.stats).toMatchObject({ fallbacks: 0, replays: 2 });
    });
  });
});

// A thousand GPU round trips on lavapipe: ~5 s alone, 16-20 s beside other suites, more on a loaded 2-core CI machine.
onGpu('memory', { timeout: 3 * GPU_TIMEOUT }, () => {
  it('1,000 speculative replays, committed and failed, leave the live WebGPU tensors, bytes and pool unchanged', async () => {
    await withSeed('speculative memory', async (next) => {
      const m = model();
      const opt = new optim.SGD(m.parameters(), { lr: 0.01, momentum: 0.9 });
      const train = trainStep(m, opt);
      // Gradients left in .grad are released when the next zeroGrad drops them only by the
      // garbage collector (as in eager code), so this step clears them itself: counts stay exact.
      const body = async (x: Tensor, y: Tensor, limit: Tensor) => {
        const loss = await train(x, y, limit);
        opt.zeroGrad();
        return loss;
      };
      const step = jit(body);
      // The same step, strict: a failed guard discards the speculation and runs nothing else.
      const strictStep = jit(body, { strict: true });
      const [x, y, keep, skip] = [...batch(next, 100), tensor(-1, { device: 'webgpu' })];
      for (let i = 0; i < 4; i++) {
        (await step(x, y, keep)).dispose();
        (await strictStep(x, y, keep)).dispose();
      }
      await expect(strictStep(x, y, skip)).rejects.toThrow(JitError);
      // Earlier calls (traces run eagerly) left tensors for the collector: let it find them first.
      await collectGarbage();
      const start = memory().webgpu;
      const created = webgpu.poolStats()!.created;
      const replays = step.stats.replays;
      for (let i = 0; i < 1000; i++) {
        if (i % 10 === 9) await expect(strictStep(x, y, skip)).rejects.toThrow(JitError);
        else (await step(x, y, keep)).dispose();
      }
      expect(step.stats.replays - replays).toBe(900);
      expect(memory().webgpu.tensors).toBe(start.tensors);
      expect(memory().webgpu.bytes).toBe(start.bytes);
      expect(webgpu.poolStats()!.created - created).toBe(0);
      for (const p of m.parameters()) expect((await p.dataAsync()).every((v) => Number.isFinite(v))).toBe(true);
    });
  }, 60_000);
});
