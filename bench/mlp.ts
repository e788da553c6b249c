/** The MLP training-step workload the benchmarks share: 784-256-256-10 (ReLU), batch 128, SGD, cross entropy. */
import * as k from '../src/index.js';

export const SIZES = [784, 256, 256, 10] as const;
export const BATCH = 128;
export const LR = 0.01;

export function mlpModel(): k.nn.Sequential {
  return new k.nn.Sequential(
    new k.nn.Linear(SIZES[0], SIZES[1]), new k.nn.ReLU(),
    new k.nn.Linear(SIZES[1], SIZES[2]), new k.nn.ReLU(),
    new k.nn.Linear(SIZES[2], SIZES[3]),
  );
}

/** The Linear layers of `model`, in order. */
export function linears(model: k.nn.Sequential): k.nn.Linear[] {
  return model.layers.filter((l): l is k.nn.Linear => l instanceof k.nn.Linear);
}

/** The step as a kiln user writes it (the optimizer made from the parameters as they are now); the loss comes back detached. */
export function kilnStep(model: k.nn.Sequential): (x: k.Tensor, y: k.Tensor) => k.Tensor {
  const optimizer = new k.optim.SGD(model.parameters(), { lr: LR });
  return (x, y) => {
    optimizer.zeroGrad();
    const loss = k.nn.crossEntropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
    return loss.detach();
  };
}
