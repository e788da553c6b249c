import { describe, expect, it } from 'vitest';
import { trainDigits } from '../../examples/digits.js';

describe('examples/digits', () => {
  it('reaches over 90% held-out accuracy in a few epochs', () => {
    const epochs: number[] = [];
    const result = trainDigits({ epochs: 5, onEpoch: (e) => epochs.push(e) });
    expect(epochs).toEqual([1, 2, 3, 4, 5]);
    expect(result.trainSize).toBe(1437);
    expect(result.testSize).toBe(360);
    expect(result.losses).toHaveLength(5);
    // The loss falls from near ln(10) as training proceeds.
    expect(result.losses[4]!).toBeLessThan(result.losses[0]!);
    expect(result.testAccuracy).toBeGreaterThan(0.9);
  }, 30_000);

  it('is reproducible for a fixed seed', () => {
    const a = trainDigits({ epochs: 1, seed: 3 });
    const b = trainDigits({ epochs: 1, seed: 3 });
    expect(b.losses).toEqual(a.losses);
    expect(b.testAccuracy).toBe(a.testAccuracy);
  });
});

describe('examples/common fitClassifier', () => {
  it('reports finite mean losses whether or not a batch callback is given', () => {
    const quiet = trainDigits({ epochs: 2, seed: 1 });
    const loud = trainDigits({ epochs: 2, seed: 1, onBatch: () => {} });
    expect(quiet.losses.every(Number.isFinite)).toBe(true);
    expect(quiet.losses).toEqual(loud.losses);
  });
});
