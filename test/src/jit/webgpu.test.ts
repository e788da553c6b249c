/**
 * jit on WebGPU: compiled graphs replay as WGSL kernels recorded into the device's command
 * batch. Every result is compared with eager execution on the GPU (and training with the
 * CPU too) within float32 tolerance, on fresh random inputs per call; launches are counted
 * through the eager executor, and GPU memory must stay flat over many replays.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Tensor, gelu, jit, manualSeed, memory, nn, optim, rand, randn, tensor, webgpu, type JitFunction,
} from '../../../src/node.js';
import { eagerGpu } from '../../../src/webgpu.js';
import { initEagerForTests } from '../../webgpu.js';
import { uniform } from '../../helpers.js';
import { expectClose, gpuRand, toGpu, warnings, withSeed } from './webgpu-helpers.js';

const ready = await initEagerForTests('jit on webgpu');
afterAll(() => webgpu.destroy());
const onGpu = describe.skipIf(!ready);
// Steps compile WGSL pipelines and wait on GPU round trips (lavapipe runs on the CPU):
// seconds each on a loaded 2-core CI machine.
const GPU_TIMEOUT = 60_000;

/** Launches recorded by `fn`. */
function launchesOf(fn: () => void): number {
  const before = eagerGpu().launches;
  fn();
  return eagerGpu().launches - before;
}

/** Runs `f` and its eager twin `body` on fresh inputs from `make` for `calls` calls, comparing every result. */
async function sameAsEager<A extends Tensor[]>(f: JitFunction<(...a: A) => Tensor>, body: (...a: A) => Tensor, make: () => A, calls = 5): Promise<void> {
  for (let i = 0; i < calls; i++) {
    const args = make();
    await expectClose(f(...args), body(...args), `call ${i + 1}`);
  }
  expect(f.stats.replays).toBe(calls - 2);
}

onGpu('compiled graphs replay as WGSL kernels', { timeout: GPU_TIMEOUT }, () => {
  it('gelu(x*a+b) is one kernel launch per replay, and explain shows its WGSL', async () => {
    await withSeed('webgpu jit gelu', async (next) => {
      const body = (x: Tensor, a: Tensor, b: Tensor) => gelu(x.mul(a).add(b));
      const f = jit(body);
      const make = (): [Tensor, Tensor, Tensor] => {
        const x = gpuRand(next, [37, 5]);
        return [x, gpuRand(next, [37, 5]), gpuRand(next, [5])];
      };
      await sameAsEager(f, body, make);
      const args = make();
      let y: Tensor | undefined;
      expect(launchesOf(() => { y = f(...args); })).toBe(1);
      await expectClose(y!, body(...args));
      const v = f.explain(...args).variants[0]!;
      expect(v.device).toBe('webgpu');
      expect(v.kernelCount).toBe(1);
      expect(v.kernels[0]!.source).toContain('@compute');
      expect(String(f.explain(...args))).toContain('variant 1 (webgpu)');
    });
  });

  it('NaN and infinities come out as in eager', async () => {
    const body = (x: Tensor, a: Tensor) => x.mul(a).exp().sub(x.sqrt());
    const f = jit(body);
    const make = (): [Tensor, Tensor] => [
      tensor([NaN, Infinity, -Infinity, -1, 0, 2, 100, -0], { device: 'webgpu' }),
      tensor([1, 0, 2, NaN, -Infinity, 3, 1, 1], { device: 'webgpu' }),
    ];
    await sameAsEager(f, body, make);
  });

  it('uint8 images: fused wrapping arithmetic, casts and a reduction match eager', async () => {
    await withSeed('webgpu jit uint8', async (next) => {
      const body = (img: Tensor, x: Tensor) => img.mul(3).sub(x.cast('uint8')).add(img.gt(200).cast('uint8')).sum(1).add(img.max(1));
      const bytes = () => tensor(Uint8Array.from({ length: 6 * 40 }, () => Math.floor(next() * 256)), { shape: [6, 40], device: 'webgpu' });
      const floats = () => tensor(Float32Array.from(uniform(next, 6 * 40, -400, 400)), { shape: [6, 40], device: 'webgpu' });
      await sameAsEager(jit(body), body, (): [Tensor, Tensor] => [bytes(), floats()]);
    });
  });

  it('softmax, layerNorm and Linear with bias and ReLU match eager', async () => {
    await withSeed('webgpu jit rows and matmul', async (next) => {
      const softmax = (x: Tensor) => x.mul(3).softmax(-1);
      await sameAsEager(jit(softmax), softmax, (): [Tensor] => [gpuRand(next, [9, 33])]);

      const w = gpuRand(next, [48]), b = gpuRand(next, [48]);
      const norm = (x: Tensor) => nn.layerNorm(x, [48], w, b);
      await sameAsEager(jit(norm), norm, (): [Tensor] => [gpuRand(next, [7, 48])]);

      const weight = gpuRand(next, [16, 24]), bias = gpuRand(next, [16]);
      const layer = (x: Tensor) => nn.linear(x, weight, bias).relu();
      const f = jit(layer);
      await sameAsEager(f, layer, (): [Tensor] => [gpuRand(next, [10, 24])]);
      // The bias and the ReLU run as the matmul's epilogue.
      const x = gpuRand(next, [10, 24]);
      expect(launchesOf(() => f(x))).toBe(1);
      expect(f.explain(x).variants[0]!.kernels.map((k) => k.kind)).toEqual(['matmul']);

      // Parameters that require grad give results that do too: the replay runs op by op, recording autograd.
      manualSeed(5);
      const lin = toGpu(new nn.Linear(24, 16));
      const module = (x: Tensor) => lin.forward(x).relu().sum();
      const g = jit(module);
      for (let i = 0; i < 4; i++) {
        const x = gpuRand(next, [10, 24]);
        const y = g(x);
        expect(y.requiresGrad).toBe(true);
        y.backward();
        const got = lin.weight.grad!;
        lin.weight.grad = null;
        module(x).backward();
        await expectClose(got, lin.weight.grad!, `weight gradient, call ${i + 1}`);
        lin.weight.grad = null;
      }
      expect(g.stats.replays).toBe(2);
    });
  });

  it('a kernel that would bind more buffers than the device allows is split', async () => {
    await withSeed('webgpu jit many operands', async (next) => {
      const limit = eagerGpu().gpu.limits.maxStorageBuffersPerShaderStage;
      const count = limit + 4;
      const body = (...xs: Tensor[]) => xs.reduce((acc, x) => acc.add(x.mul(0.5)));
      const f = jit(body);
      await sameAsEager(f, body, () => Array.from({ length: count }, () => gpuRand(next, [64])));
      const xs = Array.from({ length: count }, () => gpuRand(next, [64]));
      const launches = launchesOf(() => f(...xs));
      expect(launches).toBeGreaterThan(1);
      const v = f.explain(...xs).variants[0]!;
      expect(v.kernelCount).toBe(launches);
      expect(v.rejectedFusions.join('\n')).toContain(`the device allows ${limit} per kernel`);
    });
  });

  it('in-place updates of arguments, captured tensors and views', async () => {
    await withSeed('webgpu jit in place', async (next) => {
      const body = (avg: Tensor) => (p: Tensor, g: Tensor, lr: number) => {
        p.sub_(g.mul(lr));
        avg.mul_(0.9).add_(p.mul(0.1));
        p.slice(0, 0, 2).add_(1);
        return p.sum();
      };
      const avgJit = gpuRand(next, [6]);
      const avgEager = avgJit.clone();
      // lr changes every call and no branch reads it: fed in, so calls replay.
      const f = jit(body(avgJit), { dynamicNumbers: true }), eager = body(avgEager);
      for (let i = 0; i < 6; i++) {
        const p = gpuRand(next, [6]), g = gpuRand(next, [6]);
        const q = p.clone();
        const lr = 0.05 + next() * 0.1;
        await expectClose(f(p, g, lr), eager(q, g, lr), `sum, call ${i + 1}`);
        await expectClose(p, q, `p, call ${i + 1}`);
        await expectClose(avgJit, avgEager, `running average, call ${i + 1}`);
      }
      expect(f.stats.replays).toBeGreaterThan(2);
    });
  });

  it('guards on number arguments fall back to eager and replay both branches', async () => {
    await withSeed('webgpu jit number guard', async (next) => {
      const body = (x: Tensor, s: number) => (s > 0 ? x.mul(s) : x.mul(s).neg());
      const f = jit(body, { rewrite: true });
      const signs = [1, 1, 1, 1, 1, -1, -1, -1, 1, -1, 1, 1, -1, 1];
      for (const [i, sign] of signs.entries()) {
        const x = gpuRand(next, [5]);
        const s = sign * (0.5 + next());
        await expectClose(f(x, s), body(x, s), `call ${i + 1} (s ${s})`);
      }
      expect(f.stats.replays).toBeGreaterThan(0);
      expect(f.stats.fallbacks).toBeGreaterThan(0);
      expect(f.stats.variants).toBe(2);
    });
  });

  it('a synchronous function that reads values the graph computes stays eager, saying why and what compiles', async () => {
    await withSeed('webgpu jit value guard', async (next) => {
      // The read value is computed (on the CPU: a GPU value cannot be read synchronously at all).
      const body = (x: Tensor, n: Tensor) => (n.mul(2).item() > 0 ? x.mul(2) : x.neg());
      const f = jit(body);
      const seen = await warnings(async () => {
        for (let i = 0; i < 5; i++) {
          const x = gpuRand(next, [4]);
          const n = tensor(i % 2 ? 1 : -1);
          await expectClose(f(x, n), body(x, n), `call ${i + 1}`);
        }
      });
      expect(f.stats.replays).toBe(0);
      const why = 'a replay on WebGPU could check only by waiting for the GPU, which a synchronous function cannot do';
      expect(seen.some((m) => m.includes(why) && m.includes('make it an async function'))).toBe(true);
      const explained = f.explain(gpuRand(next, [4]), tensor(1));
      expect(explained.state).toBe('eager');
      expect(explained.events.join('\n')).toContain(why);
    });
  });

  it('WebGPU tensors mixed with CPU tensors that are not scalars keep the signature eager', async () => {
    await withSeed('webgpu jit mixed devices', async (next) => {
      const body = (x: Tensor, y: Tensor) => x.add(y.sum());
      const f = jit(body);
      const seen = await warnings(async () => {
        for (let i = 0; i < 4; i++) {
          const x = gpuRand(next, [3]);
          const y = tensor(Float32Array.from(uniform(next, 3)));
          await expectClose(f(x, y), body(x, y), `call ${i + 1}`);
        }
      });
      expect(f.stats.replays).toBe(0);
      expect(seen.join('\n')).toContain('mixes WebGPU tensors with argument tensor 2, a CPU tensor of shape [3]');
    });
  });

  it('random draws give the numbers eager draws for the same seed', async () => {
    await withSeed('webgpu jit random', async (next) => {
      const body = (x: Tensor) => x.add(rand([4, 6], { device: 'webgpu' })).mul(randn([4, 6], { device: 'webgpu' }));
      const f = jit(body);
      for (let i = 0; i < 5; i++) {
        const x = gpuRand(next, [4, 6]);
        manualSeed(100 + i);
        const got = f(x);
        const after = rand([1]).item();
        manualSeed(100 + i);
        const want = body(x);
        await expectClose(got, want, `call ${i + 1}`);
        // The stream advanced as far as eager execution advances it.
        expect(rand([1]).item(), `stream after call ${i + 1}`).toBe(after);
      }
      expect(f.stats.replays).toBe(3);
    });
  });
});

onGpu('training on WebGPU', { timeout: GPU_TIMEOUT }, () => {
  /** A training step as a user writes it. */
  const trainStep = (model: nn.Sequential, opt: optim.Optimizer<{ lr: number }>) => (x: Tensor, y: Tensor) => {
    opt.zeroGrad();
    const loss = nn.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss.detach();
  };
  const setups: [string, (params: Tensor[]) => optim.Optimizer<{ lr: number }>][] = [
    ['SGD with momentum', (params) => new optim.SGD(params, { lr: 0.1, momentum: 0.9 })],
    ['Adam', (params) => new optim.Adam(params, { lr: 0.02 })],
  ];
  const model = (device: 'cpu' | 'webgpu') => {
    manualSeed(17);
    const m = new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 3));
    return device === 'webgpu' ? toGpu(m) : m;
  };

  for (const [name, optimizer] of setups) {
    it(`${name}: a step compiled whole (forward, backward, update) matches eager on the GPU and the CPU`, async () => {
      await withSeed(`webgpu jit training ${name}`, async (next) => {
        const [jm, em, cm] = [model('webgpu'), model('webgpu'), model('cpu')];
        const step = jit(trainStep(jm, optimizer(jm.parameters())));
        const eagerStep = trainStep(em, optimizer(em.parameters()));
        const cpuStep = trainStep(cm, optimizer(cm.parameters()));
        for (let i = 0; i < 6; i++) {
          const x = tensor(Float32Array.from(uniform(next, 8 * 6)), { shape: [8, 6] });
          const y = tensor(Int32Array.from({ length: 8 }, () => Math.floor(next() * 3)), { dtype: 'int32' });
          const loss = step(x.to('webgpu'), y.to('webgpu'));
          await expectClose(loss, eagerStep(x.to('webgpu'), y.to('webgpu')), `loss ${i + 1} vs eager on the GPU`);
          await expectClose(loss, cpuStep(x, y), `loss ${i + 1} vs the CPU`);
          const [jp, ep, cp] = [jm.parameters(), em.parameters(), cm.parameters()];
          for (let k = 0; k < jp.length; k++) {
            await expectClose(jp[k]!, ep[k]!, `step ${i + 1}, parameter ${k} vs eager on the GPU`);
            await expectClose(jp[k]!, cp[k]!, `step ${i + 1}, parameter ${k} vs the CPU`, 1e-4, 1e-5);
          }
        }
        // Lazily made optimizer state makes the first two traces differ; the third compiles.
        expect(step.stats.replays).toBe(3);
      });
    });
  }

  it('eager SGD and Adam steps of an MLP on the GPU match the CPU', async () => {
    await withSeed('webgpu eager training', async (next) => {
      for (const [name, optimizer] of setups) {
        const [gm, cm] = [model('webgpu'), model('cpu')];
        const [gs, cs] = [trainStep(gm, optimizer(gm.parameters())), trainStep(cm, optimizer(cm.parameters()))];
        for (let i = 0; i < 3; i++) {
          const x = tensor(Float32Array.from(uniform(next, 8 * 6)), { shape: [8, 6] });
          const y = tensor(Int32Array.from({ length: 8 }, () => Math.floor(next() * 3)), { dtype: 'int32' });
          await expectClose(gs(x.to('webgpu'), y.to('webgpu')), cs(x, y), `${name}: loss ${i + 1}`);
        }
        const [gp, cp] = [gm.parameters(), cm.parameters()];
        for (let k = 0; k < gp.length; k++) await expectClose(gp[k]!, cp[k]!, `${name}: parameter ${k}`);
      }
    });
  });
});

onGpu('memory', { timeout: GPU_TIMEOUT }, () => {
  it('10,000 replays leave the live WebGPU tensors and bytes unchanged', async () => {
    await withSeed('webgpu jit memory', async (next) => {
      const f = jit((x: Tensor, a: Tensor, b: Tensor) => gelu(x.mul(a).add(b)).sum(1).softmax(0));
      const [x, a, b] = [gpuRand(next, [16, 8]), gpuRand(next, [16, 8]), gpuRand(next, [8])];
      for (let i = 0; i < 3; i++) f(x!, a!, b!).dispose();
      expect(f.stats.replays).toBe(1);
      const start = memory().webgpu;
      const created = webgpu.poolStats()!.created;
      for (let i = 0; i < 10_000; i++) f(x!, a!, b!).dispose();
      expect(f.stats.replays).toBe(10_001);
      expect(memory().webgpu.tensors).toBe(start.tensors);
      expect(memory().webgpu.bytes).toBe(start.bytes);
      // Intermediates go back to the pool and come out again: no new buffers.
      expect(webgpu.poolStats()!.created - created).toBe(0);
      const y = f(x!, a!, b!);
      expect((await y.dataAsync()).every((v) => Number.isFinite(v))).toBe(true);
    });
  });
});

onGpu('KILN_LOG=kernels (child process)', { timeout: GPU_TIMEOUT }, () => {
  it('prints the WGSL of a WebGPU variant once, when it is compiled', () => {
    const child = fileURLToPath(new URL('./fixtures/webgpu-log.ts', import.meta.url));
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', child], { cwd: root, env: { ...process.env, KILN_LOG: 'kernels' }, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`child exited with ${r.status}:\n${r.stderr}`);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toMatchObject({ replays: 3 });
    const logged = r.stderr.split('[kiln kernels]').filter((s) => s.startsWith(' jit webgpu kernel'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('@compute');
  });
});
