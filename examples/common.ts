/** Helpers the examples share: command-line flags, a progress bar, accuracy, and run detection. */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as k from '../src/index.js';

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
