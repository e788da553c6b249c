/**
 * Compiled steps take their outputs from the Wasm memory without zero-filling them (their
 * kernels write every element). With the heap's test mode filling every freed block with
 * junk, a kernel that read such an output before writing it (an accumulator, a scatter-add
 * without its base, padding) would give jit results unlike eager's, whose outputs are zeroed:
 * compiled training steps that use every kind of kernel must still equal eager bit for bit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wasm } from '../../../compiler/backends.js';
import { cpuEngine } from '../../../runtime/wasm/engine.js';
import { JUNK, wasmHeap } from '../../../runtime/wasm/memory.js';
import { Tensor, jit, manualSeed, nn, optim, randint, randn, tidy } from '../../../src/index.js';
import { expectSameTensor } from './compare.js';

type Model = nn.Sequential;
type Step = (x: Tensor, y: Tensor) => Tensor;

function stepOf(model: Model, opt: optim.Optimizer<{ lr: number }>): Step {
  return (x, y) => {
    opt.zeroGrad();
    const loss = nn.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss.detach();
  };
}

/** Trains two copies of a model, eagerly and under jit, and compares losses and parameters every step. */
function trainBoth(
  make: () => Model, optimizer: (m: Model) => optim.Optimizer<{ lr: number }>, x: Tensor, y: Tensor,
): void {
  manualSeed(3);
  const eagerModel = make(), jitModel = make();
  jitModel.loadStateDict(eagerModel.stateDict());
  const eager = stepOf(eagerModel, optimizer(eagerModel));
  const compiled = jit(stepOf(jitModel, optimizer(jitModel)));
  for (let i = 0; i < 6; i++) {
    // Temporaries of a tidy scope go back to the heap (as junk) before the next step allocates.
    tidy(() => expectSameTensor(compiled(x, y), eager(x, y), `loss at step ${i}`));
    const params = eagerModel.parameters();
    jitModel.parameters().forEach((p, j) => expectSameTensor(p, params[j]!, `parameter ${j} at step ${i}`));
  }
  expect(compiled.stats.replays).toBe(3);
}

describe.runIf(cpuEngine() === 'wasm')('outputs allocated uninitialised', () => {
  beforeAll(() => {
    wasmHeap().junkFreed = true;
  });
  afterAll(() => {
    wasmHeap().junkFreed = false;
  });

  it('hold junk after a free in the test mode, while ordinary allocations are zeroed', () => {
    const elements = 300;
    wasm.free(wasm.alloc('float32', elements));
    const raw = wasm.alloc('float32', elements, true);
    expect(Array.from(wasm.readSync(raw, 'int32', 0, elements)).every((w) => w === JUNK)).toBe(true);
    wasm.free(raw);
    const zeroed = wasm.alloc('float32', elements);
    expect(Array.from(wasm.readSync(zeroed, 'float32', 0, elements)).every((v) => Object.is(v, 0))).toBe(true);
    wasm.free(zeroed);
  });

  it('leave a compiled MLP step (matmuls, reductions, gather, scatter-add, SGD) equal to eager', () => {
    const make = () => new nn.Sequential(
      new nn.Linear(20, 16), new nn.ReLU(), new nn.Linear(16, 16), new nn.ReLU(), new nn.Linear(16, 5),
    );
    const sgd = (m: Model) => new optim.SGD(m.parameters(), { lr: 0.05, momentum: 0.9 });
    trainBoth(make, sgd, randn([12, 20]), randint(0, 5, [12]));
  });

  it('leave a compiled CNN step (convolution, padding, max pooling, Adam) equal to eager', () => {
    const make = () => new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(4 * 4 * 4, 3),
    );
    trainBoth(make, (m) => new optim.Adam(m.parameters(), { lr: 1e-2 }), randn([5, 1, 8, 8]), randint(0, 3, [5]));
  });
});
