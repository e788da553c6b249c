/**
 * Whole training steps under jit: forward, backward, optimizer step and zeroGrad in one
 * compiled call, with a learning-rate schedule changing lr between calls. An eager twin of
 * the model trains on the same batches; after every step the losses, parameters and
 * gradients must be equal bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, jit, nn, optim } from '../../../src/index.js';
import { withSeed } from '../random-inputs.js';
import { expectSameTensor, randIndex, randTensor } from './compare.js';

const STEPS = 14;

type Loss = 'mse' | 'crossEntropy';

interface Setup {
  name: string;
  model: () => nn.Sequential;
  optimizer: (params: Tensor[]) => optim.Optimizer<{ lr: number }>;
  schedule: (opt: optim.Optimizer<{ lr: number }>) => optim.LRScheduler;
  loss: Loss;
}

const setups: Setup[] = [
  {
    name: 'SGD with momentum, Nesterov and weight decay, StepLR',
    model: () => new nn.Sequential(new nn.Linear(5, 8), new nn.Tanh(), new nn.Linear(8, 3)),
    optimizer: (params) => new optim.SGD(params, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-2 }),
    schedule: (opt) => new optim.StepLR(opt, 3, 0.5),
    loss: 'mse',
  },
  {
    name: 'Adam, CosineAnnealingLR',
    model: () => new nn.Sequential(new nn.Linear(5, 8), new nn.LayerNorm(8), new nn.GELU(), new nn.Linear(8, 3)),
    optimizer: (params) => new optim.Adam(params, { lr: 0.01 }),
    schedule: (opt) => new optim.CosineAnnealingLR(opt, 10, 1e-4),
    loss: 'crossEntropy',
  },
  {
    name: 'AdamW with AMSGrad, StepLR',
    model: () => new nn.Sequential(new nn.Linear(5, 6), new nn.ReLU(), new nn.Linear(6, 3)),
    optimizer: (params) => new optim.AdamW(params, { lr: 0.02, weightDecay: 0.05, amsgrad: true }),
    schedule: (opt) => new optim.StepLR(opt, 2, 0.7),
    loss: 'mse',
  },
  {
    name: 'Adam with L2 weight decay, CosineAnnealingLR',
    model: () => new nn.Sequential(new nn.Linear(5, 4), new nn.SiLU(), new nn.Linear(4, 3)),
    optimizer: (params) => new optim.Adam(params, { lr: 0.05, weightDecay: 1e-3, betas: [0.8, 0.99] }),
    schedule: (opt) => new optim.CosineAnnealingLR(opt, 6),
    loss: 'crossEntropy',
  },
];

/** One training step, written as a user would. */
function trainStep(model: nn.Sequential, opt: optim.Optimizer<{ lr: number }>, loss: Loss, x: Tensor, y: Tensor): Tensor {
  opt.zeroGrad();
  const out = model.forward(x);
  const l = loss === 'mse' ? nn.mseLoss(out, y) : nn.crossEntropy(out, y);
  l.backward();
  opt.step();
  return l.detach();
}

describe('compiled training steps follow eager training bit for bit', () => {
  it.each(setups)('$name', ({ name, model, optimizer, schedule, loss }) => {
    withSeed(`jit training ${name}`, (next) => {
      const eagerModel = model();
      const jitModel = model();
      jitModel.loadStateDict(eagerModel.stateDict());
      const eagerOpt = optimizer(eagerModel.parameters());
      const jitOpt = optimizer(jitModel.parameters());
      const eagerSched = schedule(eagerOpt), jitSched = schedule(jitOpt);
      const step = jit((m: nn.Sequential, x: Tensor, y: Tensor) => trainStep(m, jitOpt, loss, x, y));

      const lrs = new Set<number>();
      for (let i = 0; i < STEPS; i++) {
        const x = randTensor(next, [6, 5]);
        const y = loss === 'mse' ? randTensor(next, [6, 3]) : randIndex(next, [6], 3);
        const want = trainStep(eagerModel, eagerOpt, loss, x, y);
        const got = step(jitModel, x, y);
        expectSameTensor(got, want, `loss at step ${i + 1}`);
        const ep = eagerModel.namedParameters(), jp = jitModel.namedParameters();
        ep.forEach(([pname, p], k) => {
          expectSameTensor(jp[k]![1], p, `${pname} after step ${i + 1}`);
          expectSameTensor(jp[k]![1].grad, p.grad!, `${pname}.grad after step ${i + 1}`);
        });
        lrs.add(jitOpt.paramGroups[0]!.lr);
        eagerSched.step();
        jitSched.step();
        expect(jitOpt.paramGroups[0]!.lr).toBe(eagerOpt.paramGroups[0]!.lr);
      }
      // The schedule really changed lr, and the steps after the first confirmations replayed.
      expect(lrs.size).toBeGreaterThan(3);
      expect(step.stats.traces).toBeLessThanOrEqual(3);
      expect(step.stats.replays).toBe(STEPS - step.stats.traces);
    });
  });
});
