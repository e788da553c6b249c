/**
 * An MLP trained eagerly on the 8×8 handwritten digits (1797 images, 10 classes) with an
 * 80/20 seeded train/test split, reporting held-out accuracy.
 *
 *   npx tsx examples/digits.ts [--svg loss.svg] [--epochs n]
 */
import * as k from '../src/node.js';
import { accuracy, fitClassifier, isMain, runExample, type TrainCallbacks } from './common.js';

const { data, nn, optim } = k;

export interface DigitsOptions extends TrainCallbacks {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  hidden?: number;
  /** Seeds the weights, the split and the batch order, so a run is reproducible. */
  seed?: number;
}

export interface DigitsResult {
  model: k.nn.Sequential;
  /** Mean training loss of each epoch. */
  losses: number[];
  /** Training loss of every batch, in order. */
  batchLosses: number[];
  /** Accuracy on the held-out 20%, in [0, 1]. */
  testAccuracy: number;
  trainSize: number;
  testSize: number;
  /** Wall time of loading, training and evaluating. */
  seconds: number;
}

/** Trains the digits MLP and evaluates it on the held-out split. */
export function trainDigits(options: DigitsOptions = {}): DigitsResult {
  const { epochs = 20, batchSize = 32, lr = 3e-3, hidden = 128, seed = 0 } = options;
  const start = performance.now();
  const digits = data.loadDigits();
  // Pixels are counts 0..16; scaling them to [0, 1] keeps the first layer's inputs near unit size.
  const x = digits.features.div(16);
  const { train: [xTrain, yTrain], test: [xTest, yTest] } = data.trainTestSplit([x, digits.labels], { testFraction: 0.2, seed });

  k.manualSeed(seed);
  const model = new nn.Sequential(new nn.Linear(64, hidden), new nn.ReLU(), new nn.Linear(hidden, 10));
  const optimizer = new optim.Adam(model.parameters(), { lr });
  // Annealing the step size to zero lets the last epochs settle instead of bouncing around a minimum.
  const schedule = new optim.CosineAnnealingLR(optimizer, epochs);
  const loader = new data.DataLoader([xTrain, yTrain], { batchSize, shuffle: true, seed });

  const { losses, batchLosses } = fitClassifier(model, optimizer, schedule, loader, epochs, options);

  const testAccuracy = accuracy(model, xTest, yTest);
  return { model, losses, batchLosses, testAccuracy, trainSize: xTrain.shape[0]!, testSize: xTest.shape[0]!, seconds: (performance.now() - start) / 1000 };
}

if (isMain(import.meta.url)) runExample('digits MLP', 20, trainDigits);
