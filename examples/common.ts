/** Helpers the examples share: command-line flags, a progress bar, accuracy, and run detection. */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as k from '../src/index.js';
import { writeLossSvg } from './plot.js';

/** Flags every training example accepts. */
export interface ExampleArgs {
  /** Where to write the loss curve as SVG. */
  svg?: string;
  /** Overrides the example's number of epochs. */
  epochs?: number;
}

/** Parses `--svg path` and `--epochs n`. */
export function parseExampleArgs(argv = process.argv.slice(2)): ExampleArgs {
  const { values } = parseArgs({ args: argv, options: { svg: { type: 'string' }, epochs: { type: 'string' } } });
  const out: ExampleArgs = {};
  if (values.svg !== undefined) out.svg = values.svg;
  if (values.epochs !== undefined) {
    const e = Number(values.epochs);
    if (!Number.isInteger(e) || e <= 0) throw new Error(`--epochs must be a positive integer (got ${values.epochs})`);
    out.epochs = e;
  }
  return out;
}

/** True when the module at `metaUrl` is the program being run, not an import (e.g. from a test). */
export function isMain(metaUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === metaUrl;
  } catch {
    return false;
  }
}

/**
 * Per-epoch progress. On a terminal it redraws one line per batch (a bar, the running
 * loss), then leaves a summary line per epoch; when output goes to a file or pipe it writes
 * only the summary lines, so logs hold no carriage returns.
 */
export class Progress {
  readonly #tty: boolean;
  #start = performance.now();
  #lastDraw = 0;

  constructor(readonly epochs: number, readonly out: NodeJS.WriteStream = process.stdout) {
    this.#tty = out.isTTY === true;
  }

  /** After batch `b` of `batches` (1-based) in `epoch` (1-based), with the epoch's mean loss so far. */
  batch(epoch: number, b: number, batches: number, loss: number): void {
    const now = performance.now();
    if (b === 1) this.#start = now;
    if (!this.#tty) return;
    // Redrawing at most ~30 times a second keeps the terminal from costing training time.
    if (b > 1 && b < batches && now - this.#lastDraw < 33) return;
    this.#lastDraw = now;
    const width = 30;
    const filled = Math.round((b / batches) * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    this.out.write(`\r\x1b[2K${this.#label(epoch)} ${bar} ${String(b).padStart(String(batches).length)}/${batches}  loss ${loss.toFixed(4)}`);
  }

  /** Ends `epoch` with its mean loss and any extra text (e.g. a validation accuracy). */
  endEpoch(epoch: number, loss: number, extra = ''): void {
    const secs = ((performance.now() - this.#start) / 1000).toFixed(1);
    const line = `${this.#label(epoch)}  loss ${loss.toFixed(4)}${extra ? `  ${extra}` : ''}  (${secs}s)`;
    this.out.write(this.#tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
  }

  #label(epoch: number): string {
    return `epoch ${String(epoch).padStart(String(this.epochs).length)}/${this.epochs}`;
  }
}

/** Fraction of samples whose arg-max logit is the label, evaluated in batches without autograd. */
export function accuracy(model: { forward(x: k.Tensor): k.Tensor }, x: k.Tensor, labels: k.Tensor, batchSize = 500): number {
  return k.noGrad(() => {
    let correct = 0;
    const n = x.shape[0]!;
    for (let start = 0; start < n; start += batchSize) {
      const len = Math.min(batchSize, n - start);
      const predicted = model.forward(x.narrow(0, start, len)).argmax(1);
      correct += predicted.eq(labels.narrow(0, start, len)).sum().item();
    }
    return correct / n;
  });
}

/** `NN.N%`. */
export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** Progress callbacks of a training loop (1-based counters). */
export interface TrainCallbacks {
  /** After every batch, with the epoch's running mean loss. */
  onBatch?: (epoch: number, batch: number, batches: number, meanLoss: number) => void;
  /** After every epoch, with its mean training loss. */
  onEpoch?: (epoch: number, meanLoss: number) => void;
}

/**
 * Trains a classifier with cross entropy: one compiled step per batch (forward, backward
 * and update as one graph), the schedule stepped per epoch. Returns the mean loss of each
 * epoch and the loss of every batch.
 */
export function fitClassifier(
  model: k.nn.Sequential,
  optimizer: k.optim.Optimizer<{ lr: number }>,
  schedule: k.optim.LRScheduler,
  loader: k.data.DataLoader<[k.Tensor, k.Tensor]>,
  epochs: number,
  callbacks: TrainCallbacks = {},
): { losses: number[]; batchLosses: number[] } {
  const step = k.jit((xb: k.Tensor, yb: k.Tensor) => {
    optimizer.zeroGrad();
    const loss = k.nn.crossEntropy(model.forward(xb), yb);
    loss.backward();
    optimizer.step();
    return loss.detach();
  });
  const losses: number[] = [];
  const batchLosses: number[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    model.train();
    let total = 0, batches = 0;
    for (const [xb, yb] of loader) {
      // Read outside the compiled step: inside, item() would be a guard that changes every call.
      const value = step(xb, yb).item();
      total += value;
      batchLosses.push(value);
      // Counted outside the optional call: `f?.(++n)` skips evaluating its arguments when f is absent.
      batches++;
      callbacks.onBatch?.(epoch, batches, loader.length, total / batches);
    }
    schedule.step();
    losses.push(total / batches);
    callbacks.onEpoch?.(epoch, total / batches);
  }
  model.eval();
  return { losses, batchLosses };
}

/** What every training example returns. */
export interface ExampleResult {
  losses: number[];
  batchLosses: number[];
  testAccuracy: number;
  trainSize: number;
  testSize: number;
  seconds: number;
}

/** The command-line run of an example: progress bar, summary, optional SVG, then `test accuracy: NN.N%`. */
export function runExample(title: string, defaultEpochs: number, train: (options: { epochs: number } & TrainCallbacks) => ExampleResult): void {
  const args = parseExampleArgs();
  const epochs = args.epochs ?? defaultEpochs;
  const progress = new Progress(epochs);
  const result = train({
    epochs,
    onBatch: (epoch, batch, batches, loss) => progress.batch(epoch, batch, batches, loss),
    onEpoch: (epoch, loss) => progress.endEpoch(epoch, loss),
  });
  const cpu = k.cpuEngineInfo();
  console.log(`trained on ${result.trainSize} images, tested on ${result.testSize}, in ${result.seconds.toFixed(1)}s`
    + ` on the ${cpu.engine} CPU engine (${cpu.reason})`);
  if (args.svg) console.log(`loss curve written to ${writeLossSvg(args.svg, `${title}: training loss`, result.losses, result.batchLosses)}`);
  console.log(`test accuracy: ${percent(result.testAccuracy)}`);
}
