/**
 * A training loop with early stopping, all of it under jit: it stops when the loss is below
 * a tolerance or has not improved for three epochs. The model is a reassigned module-level
 * variable, which the rewrite passes to jit through `captures`, so a fresh model is an input
 * of the compiled loop rather than a stale capture.
 */
import { jit, linspace, manualSeed, nn, optim, tensor, type Tensor } from '../../../../src/index.js';

let model = new nn.Linear(1, 1);

function fit(x: Tensor, y: Tensor, tol: number): Tensor[] {
  const opt = new optim.SGD(model.parameters(), { lr: 0.5 });
  let best = tensor(Infinity);
  let bad = 0;
  let epochs = 0;
  let loss = tensor(Infinity);
  while (epochs < 200) {
    opt.zeroGrad();
    loss = nn.mseLoss(model.forward(x), y);
    loss.backward();
    opt.step();
    epochs++;
    if (loss.lt(tol)) break; // site: training converged
    if (loss < best) { // site: training improved
      best = loss.detach();
      bad = 0;
    } else if (++bad >= 3) {
      break;
    }
  }
  return [loss.detach(), tensor(epochs), model.weight.detach().clone(), model.bias!.detach().clone()];
}

/** The compiled training loop. */
export const train = jit(fit);

/** (seed of the model, slope of the data, tolerance), in call order. */
export const TRIALS: [number, number, number][] = [[0, 3, 1e-6], [0, 3, 1e-6], [0, 3, 1e-6], [1, -2, 1e-6], [0, 3, 1e-6], [0, 3, 0]];

function data(slope: number): [Tensor, Tensor] {
  const x = linspace(-1, 1, 16).reshape([16, 1]);
  return [x, x.mul(slope).add(0.5)];
}

/** Values of a fit's results. */
function values(out: Tensor[]): number[][] {
  return out.map((t) => Array.from(t.data()));
}

/** Trains a fresh model per trial under jit and eagerly; reports both, the stats and guard sites. */
export function run(): { compiled: number[][][]; eager: number[][][]; stats: object; sites: string[] } {
  const compiled: number[][][] = [], eager: number[][][] = [];
  for (const [seed, slope, tol] of TRIALS) {
    const [x, y] = data(slope);
    manualSeed(seed);
    model = new nn.Linear(1, 1);
    compiled.push(values(train(x, y, tol)));
    manualSeed(seed);
    model = new nn.Linear(1, 1);
    eager.push(values(fit(x, y, tol)));
  }
  manualSeed(0);
  model = new nn.Linear(1, 1);
  const [x, y] = data(3);
  const explained = train.explain(x, y, 1e-6);
  return { compiled, eager, stats: { ...train.stats }, sites: [...new Set(explained.variants.at(-1)?.guards.map((g) => g.site))] };
}
