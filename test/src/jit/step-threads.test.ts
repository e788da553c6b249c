/**
 * A jit'd MLP SGD training step on the Wasm engine gives the same bits on one thread and on
 * two (its large kernels split by independent output ranges), and the bits of the
 * same steps run eagerly.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpuEngine } from '../../../runtime/wasm/engine.js';
import { splitCounts } from '../../../runtime/wasm/split.js';
import { getNumThreads, setNumThreads, threadsReady } from '../../../runtime/wasm/threads.js';
import { jit, manualSeed, nn, optim, randint, randn, type Tensor } from '../../../src/index.js';

/** Trains a seeded MLP 64-1024-10 for `steps` steps (batch 512: its bias gradients' sums split); losses and bits. */
function train(compiled: boolean, steps = 6): number[][] {
  manualSeed(21);
  const model = new nn.Sequential(new nn.Linear(64, 1024), new nn.ReLU(), new nn.Linear(1024, 10));
  const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
  const body = (x: Tensor, y: Tensor) => {
    opt.zeroGrad();
    const loss = nn.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss.detach();
  };
  const step = compiled ? jit(body) : body;
  const x = randn([512, 64]), y = randint(0, 10, [512]);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(step(x, y).item());
  const bits = model.parameters().map((p) => {
    const d = p.data<'float32'>();
    return Array.from(new Uint32Array(d.buffer, d.byteOffset, d.length));
  });
  return [losses, ...bits];
}

describe.runIf(cpuEngine() === 'wasm')('a jit training step on threads', () => {
  const initial = getNumThreads();
  afterAll(() => setNumThreads(initial));

  it('gives the same bits on one thread and two, and those of eager', async () => {
    setNumThreads(1);
    const one = train(true);
    expect(train(false)).toEqual(one);
    setNumThreads(2);
    expect(await threadsReady()).toBe(2);
    const jobs = splitCounts.jobs;
    expect(train(true)).toEqual(one);
    // The two-thread steps did split kernels over the pool.
    expect(splitCounts.jobs).toBeGreaterThan(jobs);
  }, 60_000);
});
