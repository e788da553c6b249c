import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError, arange, data, type Tensor } from '../../../src/index.js';

const values = (t: Tensor): number[] => Array.from(t.data());
const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

// Sample i has features [2i, 2i+1] and label i, so every batch shows which samples it holds.
const n = 10;
const x = arange(0, 2 * n).reshape([n, 2]).cast('float32');
const y = arange(0, n);

/** The label sequence of each batch of one epoch. */
function epoch(loader: data.DataLoader<[Tensor, Tensor]>): number[][] {
  const out: number[][] = [];
  for (const [xb, yb] of loader) {
    expect(xb.shape).toEqual([yb.shape[0], 2]);
    // Features and labels of a batch come from the same samples.
    expect(values(xb)).toEqual(values(yb).flatMap((i) => [2 * i, 2 * i + 1]));
    out.push(values(yb));
  }
  return out;
}

describe('DataLoader', () => {
  it('batches in order without shuffle, with a smaller last batch', () => {
    const loader = new data.DataLoader([x, y], { batchSize: 4 });
    expect(loader.length).toBe(3);
    expect(loader.numSamples).toBe(10);
    expect(epoch(loader)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    // A second pass gives the same batches again.
    expect(epoch(loader)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });

  it('drops the short last batch with dropLast', () => {
    const loader = new data.DataLoader([x, y], { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect(epoch(loader)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(new data.DataLoader([x, y], { batchSize: 5, dropLast: true }).length).toBe(2);
    expect(new data.DataLoader([x, y], { batchSize: 11, dropLast: true }).length).toBe(0);
    expect(epoch(new data.DataLoader([x, y], { batchSize: 11, dropLast: true }))).toEqual([]);
  });

  it('visits every sample exactly once per shuffled epoch, in a new order each epoch', () => {
    const loader = new data.DataLoader([x, y], { batchSize: 3, shuffle: true, seed: 5 });
    const orders: number[][] = [];
    for (let e = 0; e < 4; e++) {
      const batches = epoch(loader);
      expect(batches.map((b) => b.length)).toEqual([3, 3, 3, 1]);
      const order = batches.flat();
      expect([...order].sort((a, b) => a - b)).toEqual(iota(n));
      orders.push(order);
    }
    expect(new Set(orders.map((o) => o.join())).size).toBe(4);
    expect(orders[0]).not.toEqual(iota(n));
  });

  it('repeats the same epochs for the same seed, and can restart at an epoch', () => {
    const make = (seed: number) => new data.DataLoader([x, y], { batchSize: 4, shuffle: true, seed });
    const a = make(1), b = make(1), c = make(2);
    const runA = [epoch(a), epoch(a), epoch(a)];
    expect([epoch(b), epoch(b), epoch(b)]).toEqual(runA);
    expect(epoch(c)).not.toEqual(runA[0]);
    const resumed = make(1);
    resumed.epoch = 2;
    expect(epoch(resumed)).toEqual(runA[2]);
    expect(resumed.epoch).toBe(3);
  });

  it('takes its epoch when iteration starts', () => {
    const loader = new data.DataLoader([y], { batchSize: 10, shuffle: true, seed: 9 });
    const first = loader[Symbol.iterator]();
    const second = loader[Symbol.iterator]();
    expect(values(second.next().value![0])).toEqual(Array.from(loader.order(1)));
    expect(values(first.next().value![0])).toEqual(Array.from(loader.order(0)));
  });

  it('keeps the trailing dims of every tensor', () => {
    const images = arange(0, n * 6).reshape([n, 1, 2, 3]).cast('float32');
    const [[batch]] = [...new data.DataLoader([images], { batchSize: 4 })];
    expect(batch!.shape).toEqual([4, 1, 2, 3]);
    expect(values(batch!)).toEqual(iota(24));
  });

  it('rejects bad options and tensors of different lengths', () => {
    expect(() => new data.DataLoader([x, y], { batchSize: 0 })).toThrow(/batchSize must be a positive integer \(got 0\)/);
    expect(() => new data.DataLoader([x, y], { batchSize: 2.5 })).toThrow(ValueError);
    expect(() => new data.DataLoader([x, y], { batchSize: 2, seed: -1 })).toThrow(/DataLoader: seed must be/);
    expect(() => new data.DataLoader([x, arange(0, 3)], { batchSize: 2 })).toThrow(/DataLoader: tensors must have the same size in dim 0/);
    expect(() => new data.DataLoader([x, arange(0, 3)], { batchSize: 2 })).toThrow(ShapeError);
  });
});
