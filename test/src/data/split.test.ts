import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError, arange, data, type Tensor } from '../../../src/node.js';

const values = (t: Tensor): number[] => Array.from(t.data());
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('permutation', () => {
  it('is a permutation, the same for the same seed and offset', () => {
    const p = Array.from(data.permutation(100, 7));
    expect(sorted(p)).toEqual(iota(100));
    expect(p).not.toEqual(iota(100));
    expect(Array.from(data.permutation(100, 7))).toEqual(p);
    expect(Array.from(data.permutation(100, 8))).not.toEqual(p);
    expect(Array.from(data.permutation(100, 7, 100))).not.toEqual(p);
  });

  it('handles 0 and 1 elements and rejects bad arguments', () => {
    expect(Array.from(data.permutation(0, 0))).toEqual([]);
    expect(Array.from(data.permutation(1, 0))).toEqual([0]);
    expect(() => data.permutation(-1, 0)).toThrow(ValueError);
    expect(() => data.permutation(3, -1)).toThrow(/permutation: seed must be a non-negative safe integer/);
  });
});

describe('trainTestSplit', () => {
  // Row i of x is [i, 100 + i] and y[i] = i, so alignment of x and y can be checked.
  const x = arange(0, 10).reshape([10, 1]).cast('float32');
  const x2 = x.add(100);
  const features = x.reshape([10]).unsqueeze(1).expand([10, 2]).add(x2.sub(x).mul(arange(0, 2).cast('float32')));
  const y = arange(0, 10);

  it('holds out ceil(fraction·n) samples, disjoint from the training samples', () => {
    const { train: [xTr, yTr], test: [xTe, yTe] } = data.trainTestSplit([features, y], { testFraction: 0.25, seed: 3 });
    expect(xTr.shape).toEqual([7, 2]);
    expect(xTe.shape).toEqual([3, 2]);
    expect(sorted([...values(yTr), ...values(yTe)])).toEqual(iota(10));
    // Rows stay aligned with their labels.
    expect(values(xTr.narrow(1, 0, 1).contiguous())).toEqual(values(yTr));
    expect(values(xTr.narrow(1, 1, 1).contiguous())).toEqual(values(yTr).map((v) => v + 100));
    expect(values(xTe.narrow(1, 0, 1).contiguous())).toEqual(values(yTe));
  });

  it('is deterministic in the seed and keeps order without shuffle', () => {
    const a = data.trainTestSplit([y], { seed: 1 });
    const b = data.trainTestSplit([y], { seed: 1 });
    const c = data.trainTestSplit([y], { seed: 2 });
    expect(values(a.train[0])).toEqual(values(b.train[0]));
    expect(values(a.train[0])).not.toEqual(values(c.train[0]));
    const ordered = data.trainTestSplit([y], { shuffle: false, testFraction: 0.2 });
    expect(values(ordered.train[0])).toEqual(iota(8));
    expect(values(ordered.test[0])).toEqual([8, 9]);
  });

  it('gives the digits an 1437/360 split like scikit-learn', () => {
    const { features: f, labels } = data.loadDigits();
    const { train, test } = data.trainTestSplit([f, labels], { testFraction: 0.2, seed: 0 });
    expect(train[0].shape).toEqual([1437, 64]);
    expect(test[1].shape).toEqual([360]);
  });

  it('rejects bad fractions and tensors of different lengths', () => {
    expect(() => data.trainTestSplit([y], { testFraction: 0 })).toThrow(/testFraction must be in \(0, 1\)/);
    expect(() => data.trainTestSplit([y], { testFraction: 1 })).toThrow(ValueError);
    expect(() => data.trainTestSplit([y], { testFraction: 0.99 })).toThrow(/leaves none for training/);
    expect(() => data.trainTestSplit([y, arange(0, 9)])).toThrow(ShapeError);
    expect(() => data.trainTestSplit([])).toThrow(/needs at least one tensor/);
  });
});
