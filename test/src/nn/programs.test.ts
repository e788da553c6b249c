/**
 * The first-hour programs (./programs.ts) on the CPU: eager and jit training runs from the
 * same seed give the same losses and parameters bit for bit, and training works (the GRU
 * beats the constant prediction of the adding problem by more than 10×).
 */
import { describe, expect, it } from 'vitest';
import * as k from '../../../src/index.js';
import { jit, manualSeed, nn, type Tensor } from '../../../src/index.js';
import { expectSameTensor } from '../jit/compare.js';
import { addingBatch, programs, trainStep, type Program } from './programs.js';

/** Trains `steps` steps from seed 0; returns the losses and the final parameters. */
function run(p: Program, steps: number, compiled: boolean): { losses: Tensor[]; params: Tensor[] } {
  manualSeed(0);
  const model = p.model();
  const opt = p.optimizer(model.parameters());
  const step = compiled ? jit((x: Tensor, y: Tensor) => trainStep(p, model, opt, x, y)) : (x: Tensor, y: Tensor) => trainStep(p, model, opt, x, y);
  const losses: Tensor[] = [];
  for (let i = 0; i < steps; i++) {
    const { x, y } = p.batch();
    losses.push(step(x, y));
  }
  return { losses, params: model.parameters() };
}

describe.each(programs)('$name', (p) => {
  it('trains eagerly and under jit with equal results, bit for bit', () => {
    const eager = run(p, 5, false), compiled = run(p, 5, true);
    eager.losses.forEach((l, i) => expectSameTensor(compiled.losses[i], l, `loss ${i}`));
    eager.params.forEach((w, i) => expectSameTensor(compiled.params[i], w, `parameter ${i}`));
  }, 120_000);
});

describe('training works', () => {
  it('the polynomial fit drives the loss of sin(x) down', () => {
    const { losses } = run(programs[0]!, 300, true);
    expect(losses[299]!.item()).toBeLessThan(0.05 * losses[0]!.item());
  }, 120_000);

  it('the GRU beats the constant prediction on the adding problem by more than 10×', () => {
    const p = programs.find((q) => q.name.startsWith('GRU'))!;
    manualSeed(0);
    const model = p.model();
    const opt = p.optimizer(model.parameters());
    const step = jit((x: Tensor, y: Tensor) => trainStep(p, model, opt, x, y));
    for (let i = 0; i < 250; i++) {
      const { x, y } = addingBatch(64);
      step(x, y);
    }
    const { x, y } = addingBatch(512);
    const mse = k.noGrad(() => nn.mseLoss(model.forward(x), y)).item();
    // The best constant is the mean: its loss is the targets' variance.
    const constant = y.var(null, false, 0).item();
    expect(mse).toBeLessThan(constant / 10);
  }, 300_000);

  it('the attention block and the CNN reduce their losses', () => {
    for (const p of programs.filter((q) => q.name.startsWith('causal') || q.name.startsWith('CNN'))) {
      const { losses } = run(p, 60, true);
      const early = losses.slice(0, 5).reduce((s, l) => s + l.item(), 0), late = losses.slice(-5).reduce((s, l) => s + l.item(), 0);
      expect(late, p.name).toBeLessThan(0.5 * early);
    }
  }, 300_000);
});
