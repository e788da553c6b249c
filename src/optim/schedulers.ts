/** Learning-rate schedules: each `step()` moves to the next epoch and writes the groups' lr. */
import { ValueError } from '../../runtime/errors.js';
import type { Optimizer } from './optimizer.js';
import { stateObjectMade, stateWritten } from '../dispatch.js';

/** Base of the schedules: closed-form lr of each group at epoch `lastEpoch`. */
export abstract class LRScheduler {
  readonly baseLrs: number[];
  lastEpoch = 0;

  /**
   * Subclasses must call `this.apply()` at the end of their constructor: their fields
   * (parameter properties) are set only after this constructor returns, so applying the
   * epoch-0 lr here would compute it from undefined settings (NaN).
   */
  constructor(readonly optimizer: Optimizer<{ lr: number }>) {
    stateObjectMade(this);
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
  }

  /** The lr for a group whose initial lr was `base`, at `epoch`. */
  protected abstract lrAt(base: number, epoch: number): number;

  /** Writes the lr of `lastEpoch` into every group. */
  protected apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = this.lrAt(this.baseLrs[i]!, this.lastEpoch)));
  }

  /** Advances one epoch (or step) and updates the optimizer's learning rates. */
  step(): void {
    // The epoch count lives in JS, which a jit replay does not run (the lr it writes would freeze).
    stateWritten(`stepped the ${this.constructor.name} learning-rate schedule`, undefined, this);
    this.lastEpoch++;
    this.apply();
  }

  /** The current learning rate of each group. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}

/** Multiplies the lr by `gamma` every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  constructor(optimizer: Optimizer<{ lr: number }>, readonly stepSize: number, readonly gamma = 0.1) {
    if (!Number.isInteger(stepSize) || stepSize <= 0) throw new ValueError(`StepLR: stepSize must be a positive integer (got ${stepSize})`);
    super(optimizer);
    this.apply();
  }
  protected lrAt(base: number, epoch: number): number {
    return base * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/** Cosine from the initial lr down to `etaMin` over `tMax` epochs. */
export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: Optimizer<{ lr: number }>, readonly tMax: number, readonly etaMin = 0) {
    if (!(tMax > 0)) throw new ValueError(`CosineAnnealingLR: tMax must be positive (got ${tMax})`);
    super(optimizer);
    this.apply();
  }
  protected lrAt(base: number, epoch: number): number {
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

/** Linear ramp of the lr factor from `startFactor` to `endFactor` over `totalIters` epochs (warm-up). */
export class LinearLR extends LRScheduler {
  constructor(optimizer: Optimizer<{ lr: number }>, readonly startFactor = 1 / 3, readonly endFactor = 1, readonly totalIters = 5) {
    if (!(startFactor > 0 && startFactor <= 1) || !(endFactor >= 0 && endFactor <= 1)) {
      throw new ValueError(`LinearLR: startFactor must be in (0, 1] and endFactor in [0, 1] (got ${startFactor}, ${endFactor})`);
    }
    super(optimizer);
    this.apply();
  }
  protected lrAt(base: number, epoch: number): number {
    const t = Math.min(epoch, this.totalIters) / this.totalIters;
    return base * (this.startFactor + (this.endFactor - this.startFactor) * t);
  }
}
