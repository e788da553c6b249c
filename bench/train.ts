/**
 * One eager training step of an MLP, kiln side by side with TensorFlow.js's pure-JS CPU
 * backend: 784-256-256-10 with ReLU, a batch of 128 MNIST images, cross-entropy loss and
 * plain SGD (lr 0.01).
 *
 *   npm run bench:train   (compiles with tsconfig.bench.json, then runs dist/bench/train.js)
 *
 * A step is everything a training loop does per batch: forward, loss, backward, the
 * parameter update, and reading the loss back as a number. Both libraries start from the
 * same weights (kiln's seeded init, copied into tfjs) and train on the same batch; their
 * losses and updated weights are compared after a few steps before anything is timed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import * as k from '../src/node.js';
import { registerTrainingGradients } from './tfjs-gradients.js';
import { tfjsMlp } from './tfjs-mlp.js';
import { environment, interleaved, maxAbsDiff, resultsPath, saveJson, table, type Measurement, type MeasureOptions } from './harness.js';

const { nn, optim } = k;

const SIZES = [784, 256, 256, 10] as const;
const BATCH = 128;
const LR = 0.01;

/** kiln's side: a Sequential MLP, its SGD optimizer, and the step. */
function kilnSide(x: k.Tensor, y: k.Tensor) {
  k.manualSeed(0);
  const model = new nn.Sequential(
    new nn.Linear(SIZES[0], SIZES[1]), new nn.ReLU(),
    new nn.Linear(SIZES[1], SIZES[2]), new nn.ReLU(),
    new nn.Linear(SIZES[2], SIZES[3]),
  );
  const optimizer = new optim.SGD(model.parameters(), { lr: LR });
  const step = (): number => {
    optimizer.zeroGrad();
    const loss = nn.crossEntropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
    return loss.item();
  };
  const forward = (): number => k.noGrad(() => nn.crossEntropy(model.forward(x), y).item());
  return { model, step, forward };
}

/** tfjs's side: variables initialized from kiln's parameters; the step is optimizer.minimize. */
function tfjsSide(model: k.nn.Sequential, x: tf.Tensor2D, yOneHot: tf.Tensor2D) {
  return tfjsMlp(model.layers.filter((l): l is k.nn.Linear => l instanceof nn.Linear), x, yOneHot, LR);
}

/** Times both sides in alternating rounds (kiln, tfjs, kiln, …) so drift on a busy machine hits both alike. */
function compare(name: string, kilnFn: () => unknown, tfjsFn: () => unknown, opts: MeasureOptions, rounds = 3): { kiln: Measurement; tfjs: Measurement } {
  const { a, b } = interleaved(name, { a: ['kiln', kilnFn], b: ['tfjs', tfjsFn] }, { ...opts, rounds, runs: (opts.runs ?? 10) * rounds, minTimeMs: (opts.minTimeMs ?? 0) * rounds });
  return { kiln: a, tfjs: b };
}

async function main(): Promise<void> {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.getBackend() !== 'cpu') throw new Error(`tfjs backend is ${tf.getBackend()}, expected cpu`);
  registerTrainingGradients();

  const env = environment();
  console.log(`node ${env.node}, ${env.cpu} x${env.cores}, tfjs-core ${tf.version_core} / tfjs-backend-cpu ${version_cpu}`);
  console.log(`MLP ${SIZES.join('-')} (ReLU), batch ${BATCH}, SGD lr ${LR}, cross-entropy; times are medians in ms; ratio = tfjs / kiln.\n`);

  // The first 128 MNIST test images as the batch, flattened to 784 features.
  const mnist = k.data.loadMnist();
  const xk = mnist.images.narrow(0, 0, BATCH).reshape([BATCH, 784]).contiguous();
  const yk = mnist.labels.narrow(0, 0, BATCH).contiguous();
  const xt = tf.tensor2d(xk.data<'float32'>(), [BATCH, 784]);
  const yt = tf.cast(tf.oneHot(tf.tensor1d(yk.data<'int32'>(), 'int32'), 10), 'float32') as tf.Tensor2D;

  const kiln = kilnSide(xk, yk);
  const tfjs = tfjsSide(kiln.model, xt, yt);

  // Agreement: the same losses over 3 steps and the same weights after them.
  const CHECK_STEPS = 3;
  const losses = Array.from({ length: CHECK_STEPS }, () => [kiln.step(), tfjs.step()] as const);
  const lossDiff = Math.max(...losses.map(([a, b]) => Math.abs(a - b)));
  const kilnLinears = kiln.model.layers.filter((l): l is k.nn.Linear => l instanceof nn.Linear);
  const weightDiff = Math.max(...kilnLinears.map((l, i) => maxAbsDiff(l.weight.t().contiguous().data(), tfjs.params[i]!.w.dataSync())));
  console.log(`check: losses ${losses.map(([a, b]) => `${a.toFixed(5)}/${b.toFixed(5)}`).join(', ')} (kiln/tfjs); max |diff| loss ${lossDiff.toExponential(2)}, weights ${weightDiff.toExponential(2)}`);
  if (!(lossDiff < 1e-4 && weightDiff < 1e-5)) throw new Error('kiln and tfjs disagree: a training step that computes something else is not a comparison');

  const opts: MeasureOptions = { warmup: 5, runs: 10, minTimeMs: 2000, maxRuns: 200 };
  const tensorsBefore = tf.memory().numTensors;
  const step = compare('train step', kiln.step, tfjs.step, opts);
  const forward = compare('forward + loss', kiln.forward, tfjs.forward, opts);
  // tfjs frees memory only on dispose; a growing count would mean the tfjs side pays less
  // than a real loop (or runs out of memory), so the comparison would be unfair.
  const tensorsAfter = tf.memory().numTensors;
  if (tensorsAfter !== tensorsBefore) throw new Error(`the tfjs step leaks tensors (${tensorsBefore} before timing, ${tensorsAfter} after)`);

  const rows = [
    { workload: `train step (fwd+bwd+SGD), batch ${BATCH}`, values: [step.kiln.median, step.tfjs.median], unit: 'ms', notes: [`${Math.round((1000 / step.kiln.median) * BATCH)} samples/s`, `${Math.round((1000 / step.tfjs.median) * BATCH)} samples/s`] },
    { workload: `forward + loss only, batch ${BATCH}`, values: [forward.kiln.median, forward.tfjs.median], unit: 'ms' },
  ];
  table(rows, { columns: ['kiln eager', 'tfjs-cpu'], ratio: { subject: 0, baseline: 1, header: 'speed-up (tfjs/kiln)' } });

  const path = saveJson(resultsPath('train'), {
    versions: { tfjsCore: tf.version_core, tfjsBackendCpu: version_cpu },
    model: { sizes: SIZES, activation: 'relu', batch: BATCH, optimizer: 'sgd', lr: LR, loss: 'cross-entropy' },
    check: { losses, maxAbsDiffLoss: lossDiff, maxAbsDiffWeights: weightDiff },
    trainStep: step,
    forwardLoss: forward,
  });
  console.log(`saved ${path}`);
}

await main();
