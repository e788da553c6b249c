/**
 * Gradients a replayed training step replaces: disposed at once when no JavaScript could
 * hold them (nothing read `.grad` and the call did not return them), kept with their values
 * when something could.
 */
import { describe, expect, it } from 'vitest';
import { cpuEngine } from '../../../runtime/wasm/engine.js';
import { jit, manualSeed, memory, nn, optim, randint, randn, type Tensor } from '../../../src/index.js';

/** A seeded MLP 12-8-3 with SGD, a batch for it, and a jit'd step whose result `out` picks. */
function setup(out: (loss: Tensor, first: Tensor) => unknown = (loss) => loss.detach()) {
  manualSeed(4);
  const model = new nn.Sequential(new nn.Linear(12, 8), new nn.ReLU(), new nn.Linear(8, 3));
  const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
  const first = model.parameters()[0]!;
  const step = jit((x: Tensor, y: Tensor) => {
    opt.zeroGrad();
    const loss = nn.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    return out(loss, first);
  });
  return { step, first, x: randn([6, 12]), y: randint(0, 3, [6]) };
}

describe('gradients a replay replaces', () => {
  it.runIf(cpuEngine() === 'wasm')('are given back at once when nothing read them', () => {
    manualSeed(3);
    const model = new nn.Linear(256, 64);
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const step = jit((x: Tensor) => {
      opt.zeroGrad();
      model.forward(x).square().mean().backward();
      opt.step();
      return x.sum();
    });
    const x = randn([8, 256]);
    for (let i = 0; i < 4; i++) step(x).dispose();
    const bytes = memory().cpu.bytes;
    for (let i = 0; i < 20; i++) step(x).dispose();
    // Each call drops the base of its one-element result (64 bytes); its gradients were 65 KiB.
    expect(memory().cpu.bytes - bytes).toBeLessThan(65 * 1024);
    expect(step.stats.replays).toBe(22);
  });

  it('keep their values once `.grad` was read', () => {
    const { step, first, x, y } = setup();
    for (let i = 0; i < 4; i++) step(x, y);
    const held = first.grad!, values = held.toArray();
    step(x, y);
    expect(first.grad).not.toBe(held);
    expect(held.isDisposed).toBe(false);
    expect(held.toArray()).toEqual(values);
    expect(step.stats.replays).toBe(3);
  });

  it('keep their values when the call returned them', () => {
    const { step, first, x, y } = setup((loss, p) => [loss.detach(), p.grad]);
    for (let i = 0; i < 4; i++) step(x, y);
    const [, returned] = step(x, y) as [Tensor, Tensor];
    const values = returned.toArray();
    step(x, y);
    expect(returned.isDisposed).toBe(false);
    expect(returned.toArray()).toEqual(values);
    expect(first.grad!.toArray()).not.toEqual(values);
    expect(step.stats.replays).toBe(4);
  });

  it('keep their values while another tensor holds them as its `.grad`', () => {
    manualSeed(5);
    const w = randn([4, 3]).requiresGrad_(), other = randn([4, 3]).requiresGrad_();
    const backward = (x: Tensor) => {
      w.grad = null;
      x.matmul(w).sum().backward();
    };
    const shared = jit((x: Tensor) => {
      backward(x);
      other.grad = w.grad;
      return x.sum();
    });
    const own = jit((x: Tensor) => {
      backward(x.neg());
      return x.sum();
    });
    const x = randn([2, 4]);
    for (let i = 0; i < 5; i++) {
      shared(x);
      own(x);
    }
    expect([shared.stats.replays, own.stats.replays]).toEqual([3, 3]);
    // own() replaced w.grad, which shared() had also made other's.
    expect(other.grad!.toArray()).toEqual(x.sum(0).reshape([4, 1]).expand([4, 3]).toArray());
  });
});
