/**
 * Eager tensors on WebGPU: the same ops as on the CPU, compared value by value within
 * float32 tolerance; reading values back; devices in errors; memory over many ops; and a
 * backward pass compared with the CPU's.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DTypeError, DeviceError, Tensor, ValueError, cat, manualSeed, memory, rand, randn, scatterAdd, stack, tensor, tidy, webgpu, zeros,
} from '../../../src/index.js';
import { initEagerForTests } from '../../webgpu.js';
import { rng, uniform } from '../../helpers.js';

const ready = await initEagerForTests('webgpu eager');
afterAll(() => webgpu.destroy());
const onGpu = describe.skipIf(!ready);
// Suites compile WGSL pipelines and wait on GPU round trips (lavapipe runs on the CPU):
// seconds each on a loaded 2-core CI machine.
const GPU_TIMEOUT = 60_000;

/** Elements of a CPU tensor and a WebGPU tensor agree within float32 tolerance (NaN matches NaN). */
async function expectSame(gpu: Tensor, cpu: Tensor, rtol = 1e-4, atol = 1e-5): Promise<void> {
  expect(gpu.device).toBe('webgpu');
  expect(cpu.device).toBe('cpu');
  expect(gpu.shape).toEqual(cpu.shape);
  expect(gpu.dtype).toBe(cpu.dtype);
  const got = await gpu.dataAsync();
  const want = cpu.data();
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w)) {
      expect(Number.isNaN(g), `element ${i}: ${g} vs NaN`).toBe(true);
    } else if (!Number.isFinite(w)) {
      expect(g, `element ${i}`).toBe(w);
    } else {
      expect(Math.abs(g - w), `element ${i}: ${g} vs ${w}`).toBeLessThanOrEqual(atol + rtol * Math.abs(w));
    }
  }
}

/** The same random float32 values on both devices. */
function pair(shape: number[], seed: number, lo = -2, hi = 2): [Tensor, Tensor] {
  const n = shape.reduce((p, d) => p * d, 1);
  const values = Float32Array.from(uniform(rng(seed), n, lo, hi));
  return [tensor(values, { shape }), tensor(values, { shape, device: 'webgpu' })];
}

/** Runs `f` on CPU and WebGPU operands and compares the results. */
async function same(f: (...xs: Tensor[]) => Tensor, inputs: [Tensor, Tensor][], rtol?: number, atol?: number): Promise<void> {
  await expectSame(f(...inputs.map((p) => p[1])), f(...inputs.map((p) => p[0])), rtol, atol);
}

onGpu('webgpu eager ops match the cpu', { timeout: GPU_TIMEOUT }, () => {
  it('creates tensors and moves them between devices', async () => {
    const c = tensor([[1, 2], [3, 4]]);
    const g = c.to('webgpu');
    expect(g.device).toBe('webgpu');
    expect(await g.toArrayAsync()).toEqual([[1, 2], [3, 4]]);
    const back = await g.cpu();
    expect(back.device).toBe('cpu');
    expect(back.toArray()).toEqual([[1, 2], [3, 4]]);
    expect((await g.toAsync('cpu')).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(g.to('webgpu')).toBe(g);
    expect(await zeros([2, 3], { device: 'webgpu', dtype: 'int32' }).toArrayAsync()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(await tensor([true, false, true], { device: 'webgpu' }).toArrayAsync()).toEqual([true, false, true]);
    // A strided view is packed on the device before it travels.
    expect(await g.t().toArrayAsync()).toEqual([[1, 3], [2, 4]]);
    expect(await g.t().cpu().then((t) => t.toArray())).toEqual([[1, 3], [2, 4]]);
  });

  it('elementwise with broadcasting, scalars and views', async () => {
    const a = pair([3, 4], 1), b = pair([4], 2), c = pair([4, 3], 3);
    await same((x, y) => x.add(y).mul(2).sub(0.5), [a, b]);
    await same((x, y) => x.mul(y.t()), [a, c]);
    await same((x, y) => x.slice(1, 1, 4).div(y.slice(0, 1, 4).t()), [a, c]);
    await same((x) => x.narrow(0, 1, 2).exp().tanh().sigmoid(), [a]);
    await same((x) => x.gelu().silu().relu().abs().sqrt(), [a]);
    await same((x, y) => x.maximum(y).minimum(0.25).pow(2), [a, b]);
    await same((x) => x.clamp(-0.5, 0.5).floor().add(x.round()), [a]);
  });

  it('NaN and infinities match', async () => {
    const a = pair([2, 5], 4);
    await same((x) => x.log(), [a]);
    await same((x) => x.sqrt(), [a]);
    await same((x) => x.div(0), [a]);
    await same((x) => x.log().isnan(), [a]);
  });

  it('comparisons, logic and where', async () => {
    const a = pair([3, 4], 5), b = pair([3, 1], 6);
    await same((x, y) => x.lt(y), [a, b]);
    await same((x, y) => x.ge(0).logicalAnd(y.lt(0.5)).logicalNot(), [a, b]);
    await same((x, y) => x.where(x.gt(y), y.neg()), [a, b]);
  });

  it('reductions and softmax', async () => {
    const a = pair([4, 5, 6], 7);
    await same((x) => x.sum(), [a], 1e-4, 1e-4);
    await same((x) => x.sum(1), [a], 1e-4, 1e-4);
    await same((x) => x.mean([0, 2], true), [a]);
    await same((x) => x.max(2), [a]);
    await same((x) => x.min(0), [a]);
    await same((x) => x.argmax(1), [a]);
    await same((x) => x.argmin(), [a]);
    await same((x) => x.var(2), [a], 1e-4, 1e-4);
    await same((x) => x.logsumexp(1), [a]);
    await same((x) => x.softmax(-1), [a]);
    await same((x) => x.logSoftmax(1), [a]);
    await same((x) => x.permute([2, 0, 1]).sum(2), [a], 1e-4, 1e-4);
    await same((x) => x.gt(0).any(1), [a]);
  });

  it('matmul, plain, transposed and batched', async () => {
    const a = pair([5, 7], 8), b = pair([7, 3], 9), c = pair([2, 5, 7], 10), d = pair([2, 7, 4], 11);
    await same((x, y) => x.matmul(y), [a, b], 1e-4, 1e-4);
    await same((x, y) => y.t().matmul(x.t()), [a, b], 1e-4, 1e-4);
    await same((x, y) => x.matmul(y), [c, d], 1e-4, 1e-4);
    await same((x, y) => x.matmul(y), [c, b], 1e-4, 1e-4);
  });

  it('gather, indexSelect, cat, stack and pad', async () => {
    const a = pair([4, 6], 12), b = pair([2, 6], 13);
    const idx = tensor([[0, 5, 2], [3, 3, 1], [4, 0, 0], [1, 2, 5]], { dtype: 'int32' });
    const pairIdx: [Tensor, Tensor] = [idx, idx.to('webgpu')];
    await same((x, i) => x.gather(1, i), [a, pairIdx]);
    await same((x, i) => x.indexSelect(0, i.flatten().slice(0, 3, 6)), [a, pairIdx]);
    await same((x, y) => cat([x, y, x.slice(0, 1, 2)], 0), [a, b]);
    await same((x, y) => stack([x.slice(0, 0, 2), y], 1), [a, b]);
  });

  it('an out-of-range gather index is reported at the next readback', async () => {
    const x = tensor([1, 2, 3], { device: 'webgpu' });
    const bad = x.gather(0, tensor([0, 7], { dtype: 'int32', device: 'webgpu' }));
    await expect(bad.dataAsync()).rejects.toThrow(/7/);
    // The error is reported once; later work runs normally.
    expect(await x.add(1).toArrayAsync()).toEqual([2, 3, 4]);
  });

  it('random numbers follow the cpu stream for the same seed', async () => {
    manualSeed(1234);
    const cu = rand([3, 50]);
    const cn = randn([40]);
    manualSeed(1234);
    const gu = rand([3, 50], { device: 'webgpu' });
    const gn = randn([40], { device: 'webgpu' });
    await expectSame(gu, cu, 0, 0);
    await expectSame(gn, cn, 0, 0);
  });

  it('cast', async () => {
    const a = pair([3, 4], 14, -5, 5);
    await same((x) => x.cast('int32'), [a]);
    await same((x) => x.cast('bool'), [a]);
    await same((x) => x.cast('int32').cast('float32').add(x.gt(0).cast('float32')), [a]);
  });

  it('uint8: wrapping arithmetic, casts from floats and reductions', async () => {
    const n = 3 * 64;
    const next = rng(21);
    const bytes = Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
    const other = Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
    const img: [Tensor, Tensor] = [tensor(bytes, { shape: [3, 64] }), tensor(bytes, { shape: [3, 64], device: 'webgpu' })];
    const b: [Tensor, Tensor] = [tensor(other, { shape: [3, 64] }), tensor(other, { shape: [3, 64], device: 'webgpu' })];
    const f = pair([3, 64], 22, -600, 600);
    await same((x, y) => x.add(y).sub(x.mul(y)).neg(), [img, b], 0, 0);
    await same((x, y) => x.pow(y).maximum(y), [img, b], 0, 0);
    await same((x) => x.cast('uint8'), [f], 0, 0);
    await same((x, y) => x.cast('uint8').add(y), [f, img], 0, 0);
    await same((x) => x.cast('float32').div(255), [img], 0, 0);
    await same((x) => x.sum(1), [img], 0, 0);
    await same((x) => x.max(0), [img], 0, 0);
    await same((x) => x.gt(100).cast('uint8').add(x), [img], 0, 0);
    // Accumulating scatter wraps too: many sources land on each of 4 rows.
    const rows = Int32Array.from({ length: n }, () => Math.floor(next() * 4));
    const idx: [Tensor, Tensor] = [tensor(rows, { shape: [3, 64] }), tensor(rows, { shape: [3, 64], device: 'webgpu' })];
    await same((x, i, y) => scatterAdd(x.narrow(0, 0, 1).expand([4, 64]).clone(), 0, i, y), [img, idx, b], 0, 0);
  });

  it('int64 casts of floats need the cpu for their range check', () => {
    const g = tensor([1.5], { device: 'webgpu' });
    expect(() => g.cast('int64')).toThrow(DTypeError);
    expect(() => g.cast('int64')).toThrow('cast: int64 of a float32 tensor on webgpu needs its range checked on the cpu');
  });

  it('in-place add_ on a tensor and on a view', async () => {
    const [c, g] = pair([3, 4], 15);
    const [oc, og] = pair([4], 16);
    c.add_(oc);
    g.add_(og);
    await expectSame(g, c);
    c.slice(1, 0, 2).add_(1);
    g.slice(1, 0, 2).add_(1);
    await expectSame(g, c);
    c.t().mul_(c.t());
    g.t().mul_(g.t());
    await expectSame(g, c);
    const z = zeros([2, 2], { device: 'webgpu' });
    z.fill_(3);
    expect(await z.toArrayAsync()).toEqual([[3, 3], [3, 3]]);
    expect(g.storage.version).toBe(c.storage.version);
  });

  it('a backward pass matches the cpu', async () => {
    const x = pair([6, 5], 17), w1 = pair([5, 8], 18), w2 = pair([8, 3], 19);
    const target = tensor([0, 2, 1, 1, 0, 2], { dtype: 'int32' });
    const loss = (xs: Tensor, a: Tensor, b: Tensor, t: Tensor): Tensor =>
      xs.matmul(a).tanh().matmul(b).logSoftmax(1).gather(1, t.unsqueeze(1)).mean().neg();
    const leaves = [w1, w2].map(([c, g]) => [c.requiresGrad_(), g.requiresGrad_()] as const);
    const lc = loss(x[0], w1[0], w2[0], target);
    const lg = loss(x[1], w1[1], w2[1], target.to('webgpu'));
    lc.backward();
    lg.backward();
    await expectSame(lg, lc);
    for (const [c, g] of leaves) await expectSame(g.grad!, c.grad!, 1e-4, 1e-5);
  });
});

onGpu('webgpu readers and errors', { timeout: GPU_TIMEOUT }, () => {
  it('async readers work on both devices', async () => {
    for (const device of ['cpu', 'webgpu'] as const) {
      const t = tensor([[1.5, 2], [3, 4]], { device });
      expect(await t.toArrayAsync()).toEqual([[1.5, 2], [3, 4]]);
      expect(Array.from(await t.dataAsync())).toEqual([1.5, 2, 3, 4]);
      expect(await t.sum().itemAsync()).toBe(10.5);
      await expect(t.itemAsync()).rejects.toThrow(ValueError);
    }
  });

  it('synchronous readers throw naming the async one (printing says it instead)', () => {
    const t = tensor([1, 2], { device: 'webgpu' });
    const s = t.sum();
    expect(() => s.item()).toThrow(/await t\.itemAsync\(\)/);
    expect(() => t.toArray()).toThrow(/await t\.toArrayAsync\(\)/);
    expect(() => t.data()).toThrow(/await t\.dataAsync\(\)/);
    expect(t.toString()).toMatch(/await t\.cpu\(\)/);
    expect(() => Number(s)).toThrow(/await t\.itemAsync\(\)/);
    expect(() => t.to('cpu')).toThrow(/await t\.cpu\(\)/);
    expect(() => t.item()).toThrow(DeviceError);
  });

  it('ops across devices are a DeviceError naming both', () => {
    const g = tensor([1, 2, 3], { device: 'webgpu' });
    const c = tensor([1, 2, 3]);
    expect(() => g.add(c)).toThrow(/different devices \(webgpu, cpu\)/);
    expect(() => c.matmul(g)).toThrow(DeviceError);
    expect(() => g.add_(c)).toThrow(DeviceError);
  });

  it('float64 on webgpu is a DTypeError', () => {
    expect(() => tensor([1, 2], { dtype: 'float64', device: 'webgpu' })).toThrow(DTypeError);
    expect(() => tensor([1, 2], { device: 'webgpu' }).cast('float64')).toThrow(/float64.*cast to float32/);
  });
});

onGpu('webgpu memory', { timeout: GPU_TIMEOUT }, () => {
  it('dispose releases a buffer once no view shares it', () => {
    const before = memory().webgpu;
    const t = tensor([1, 2, 3, 4], { device: 'webgpu' });
    const v = t.reshape([2, 2]);
    expect(memory().webgpu.tensors).toBe(before.tensors + 2);
    expect(memory().webgpu.bytes).toBe(before.bytes + 16);
    t.dispose();
    t.dispose();
    expect(memory().webgpu.bytes).toBe(before.bytes + 16);
    v.dispose();
    expect(memory().webgpu.tensors).toBe(before.tensors);
    expect(memory().webgpu.bytes).toBe(before.bytes);
    expect(() => t.add(1)).toThrow(/disposed/);
  });

  it('using disposes at the end of the block', () => {
    const before = memory().webgpu.tensors;
    {
      using t = tensor([1, 2], { device: 'webgpu' });
      expect(memory().webgpu.tensors).toBe(before + 1);
      expect(t.isDisposed).toBe(false);
    }
    expect(memory().webgpu.tensors).toBe(before);
  });

  it('tidy keeps only what is returned; memory stays flat over 10,000 eager ops', async () => {
    const w = tensor(Float32Array.from(uniform(rng(20), 64)), { shape: [8, 8], device: 'webgpu' });
    let x = tensor(Float32Array.from(uniform(rng(21), 8)), { shape: [1, 8], device: 'webgpu' });
    const start = memory().webgpu;
    const created = webgpu.poolStats()!.created;
    const counts: number[] = [];
    for (let step = 0; step < 2000; step++) {
      // Five ops per step (matmul, tanh, mul with a scalar, add, sum).
      const next = tidy(() => {
        const y = x.matmul(w).tanh().mul(0.5).add(x);
        return { y, s: y.sum() };
      });
      x.dispose();
      next.s.dispose();
      x = next.y;
      if (step % 200 === 0) counts.push(memory().webgpu.tensors);
    }
    expect(new Set(counts).size).toBe(1);
    expect(memory().webgpu.tensors).toBe(start.tensors);
    expect(memory().webgpu.bytes).toBe(start.bytes);
    // The pool reuses buffers: it holds a handful, not thousands.
    expect(webgpu.poolStats()!.created - created).toBeLessThan(20);
    expect((await x.dataAsync()).every((v) => Number.isFinite(v))).toBe(true);
  });

  it('tidy disposes everything when the function throws', () => {
    const before = memory().webgpu.tensors;
    expect(() => tidy(() => {
      tensor([1, 2], { device: 'webgpu' }).add(1);
      throw new Error('boom');
    })).toThrow('boom');
    expect(memory().webgpu.tensors).toBe(before);
  });

  it('the finalization registry releases tensors that were never disposed', async () => {
    // A gc function without --expose-gc on the command line: the flag, then a fresh context that sees it.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const collect = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    // Earlier tests left tensors for the collector too: let it find them first.
    await collect();
    const before = memory().webgpu;
    (() => { for (let i = 0; i < 100; i++) tensor([i], { device: 'webgpu' }); })();
    expect(memory().webgpu.tensors).toBe(before.tensors + 100);
    await collect();
    expect(memory().webgpu.tensors).toBe(before.tensors);
    expect(memory().webgpu.bytes).toBe(before.bytes);
  });
});

onGpu('jit with WebGPU tensors', { timeout: GPU_TIMEOUT }, () => {
  it('compiles functions of WebGPU arguments and captured tensors (test/src/jit/webgpu.test.ts covers more)', async () => {
    const { jit } = await import('../../../src/index.js');
    const warn = console.warn;
    const warnings: string[] = [];
    console.warn = (m: string) => { warnings.push(String(m)); };
    try {
      const w = tensor([1, 2, 3]).to('webgpu');
      const byArg = jit((a: Tensor) => a.add(1).mul(2));
      // No tensor arguments: the WebGPU tensor is only found while tracing, as a capture.
      // s changes every call and no branch reads it: fed in, so calls replay.
      const byCapture = jit((s: number) => w.mul(s), { dynamicNumbers: true });
      for (let i = 0; i < 4; i++) {
        const x = tensor([i, i + 1, i + 2]);
        await expectSame(byArg(x.to('webgpu')), x.add(1).mul(2));
        await expectSame(byCapture(i + 0.5), tensor([1, 2, 3]).mul(i + 0.5));
      }
      expect(byArg.stats.replays).toBe(2);
      expect(byCapture.stats.replays).toBeGreaterThan(0);
      expect(warnings).toEqual([]);
    } finally {
      console.warn = warn;
    }
  });
});

onGpu('tidy and autograd', { timeout: GPU_TIMEOUT }, () => {
  it('a loss returned from a tidy scope can still backpropagate, with the CPU gradient', async () => {
    manualSeed(11);
    const wc = randn([6, 4]);
    const xc = randn([3, 6]);
    const w = wc.to('webgpu').requiresGrad_();
    const x = xc.to('webgpu');
    const loss = tidy(() => x.matmul(w).logSoftmax(1).mean().neg());
    loss.backward();
    const wr = wc.detach().requiresGrad_();
    xc.matmul(wr).logSoftmax(1).mean().neg().backward();
    await expectSame(w.grad!, wr.grad!);
  });
});
