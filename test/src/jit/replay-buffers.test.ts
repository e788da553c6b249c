/**
 * What a replayed training step allocates on the Wasm engine: its gradients and its result,
 * nothing else. Intermediate values, fused or not, live in buffers the compiled variant
 * keeps from call to call, and a step that cannot fail half way writes its parameters and
 * optimizer state in place, without copy-on-write shadows.
 */
import { describe, expect, it } from 'vitest';
import { wasm } from '../../../compiler/backends.js';
import { cpuEngine } from '../../../runtime/wasm/engine.js';
import { jit, manualSeed, nn, optim, randint, randn, type Tensor } from '../../../src/index.js';

/** Buffers `wasm.alloc` hands out while `fn` runs. */
function allocations(fn: () => void): number[] {
  const sizes: number[] = [];
  const alloc = wasm.alloc;
  wasm.alloc = (dtype, elements, uninitialised) => {
    sizes.push(elements);
    return alloc.call(wasm, dtype, elements, uninitialised);
  };
  try {
    fn();
  } finally {
    wasm.alloc = alloc;
  }
  return sizes;
}

describe.runIf(cpuEngine() === 'wasm')('buffers of a replayed training step', () => {
  it('are its gradients and its result only', () => {
    manualSeed(4);
    const model = new nn.Sequential(new nn.Linear(12, 8), new nn.ReLU(), new nn.Linear(8, 3));
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const step = jit((x: Tensor, y: Tensor) => {
      opt.zeroGrad();
      const loss = nn.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      return loss.detach();
    });
    const x = randn([6, 12]), y = randint(0, 3, [6]);
    for (let i = 0; i < 4; i++) step(x, y);
    const sizes = allocations(() => step(x, y));
    expect(step.stats.replays).toBe(2);
    const grads = model.parameters().map((p) => p.size);
    expect(sizes.slice().sort((a, b) => a - b)).toEqual([1, ...grads].sort((a, b) => a - b));
  });
});
