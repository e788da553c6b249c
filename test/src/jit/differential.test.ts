/**
 * Differential battery: each function runs eagerly and under jit on the same fresh random
 * inputs, call after call; on the CPU every result must be equal bit for bit. Eager and jit
 * runs start from the same random seed, so functions that draw random numbers must consume
 * the stream identically. Inputs written in place are compared too.
 */
import { describe, expect, it } from 'vitest';
import {
  Tensor, cat, clamp, gather, jit, manualSeed, matmul, nn, pad, rand, randint, randn, scatterAdd, stack, tensor, where,
} from '../../../src/index.js';
import { withSeed } from '../random-inputs.js';
import { expectSameTree, randIndex, randTensor, snapshot } from './compare.js';

const CALLS = 12;

interface Case {
  name: string;
  /** Fresh arguments for one call. */
  args: (next: () => number) => unknown[];
  fn: (...args: any[]) => unknown;
}

/** A deep copy of arguments: tensors are copied, so eager and jit each write their own. */
function copyArgs(x: unknown): unknown {
  if (x instanceof Tensor) return snapshot(x);
  if (Array.isArray(x)) return x.map(copyArgs);
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, copyArgs(v)]));
  return x;
}

/** A tensor with NaN, ±Inf, -0 and ordinary values mixed in. */
function special(next: () => number, shape: number[]): Tensor {
  const pool = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 1e-30, -1e30];
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, () => (next() < 0.4 ? pool[Math.floor(next() * pool.length)]! : next() * 4 - 2));
  return tensor(Float32Array.from(values), { shape });
}

/** A uint8 tensor of `shape` with every byte value possible. */
function bytes(next: () => number, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Uint8Array.from({ length: n }, () => Math.floor(next() * 256)), { shape });
}

const cases: Case[] = [
  {
    name: 'elementwise chain with broadcasting',
    args: (next) => [randTensor(next, [3, 1, 4]), randTensor(next, [5, 1]), randTensor(next, [4])],
    fn: (x: Tensor, y: Tensor, z: Tensor) => x.mul(y).add(z).tanh().sub(x.exp().mul(0.5)).div(y.abs().add(1)).pow(2).sqrt(),
  },
  {
    name: 'reductions over various axes',
    args: (next) => [randTensor(next, [4, 5, 3])],
    fn: (x: Tensor) => [x.sum(1), x.mean([0, 2], true), x.max(-1), x.min(0), x.prod(2), x.argmax(1), x.argmin(), x.var(1), x.std(0, true), x.sum()],
  },
  {
    name: 'softmax and logSoftmax',
    args: (next) => [randTensor(next, [6, 7], -5, 5)],
    fn: (x: Tensor) => [x.softmax(-1), x.logSoftmax(0), x.softmax(0).mul(x).sum(0)],
  },
  {
    name: 'layerNorm',
    args: (next) => [randTensor(next, [4, 3, 6]), randTensor(next, [6]), randTensor(next, [6])],
    fn: (x: Tensor, w: Tensor, b: Tensor) => [nn.layerNorm(x, [6], w, b), nn.layerNorm(x, [3, 6])],
  },
  {
    name: 'logsumexp',
    args: (next) => [randTensor(next, [3, 8], -30, 30)],
    fn: (x: Tensor) => [x.logsumexp(1), x.logsumexp([0, 1], true), x.mul(10).logsumexp(0)],
  },
  {
    name: 'matmul: matrix, batched, vector',
    args: (next) => [randTensor(next, [3, 4]), randTensor(next, [4, 5]), randTensor(next, [2, 3, 4]), randTensor(next, [4])],
    fn: (a: Tensor, b: Tensor, c: Tensor, v: Tensor) => [a.matmul(b), matmul(c, b).relu(), a.matmul(v), c.matmul(a.t())],
  },
  {
    name: 'gather, indexSelect and scatterAdd',
    args: (next) => [randTensor(next, [5, 6]), randIndex(next, [5, 3], 6), randIndex(next, [4], 5)],
    fn: (x: Tensor, idx: Tensor, sel: Tensor) => [gather(x, 1, idx), x.indexSelect(0, sel), scatterAdd(x, 1, idx, gather(x, 1, idx).mul(2))],
  },
  {
    name: 'cat and stack',
    args: (next) => [randTensor(next, [2, 3]), randTensor(next, [4, 3]), randTensor(next, [2, 3])],
    fn: (a: Tensor, b: Tensor, c: Tensor) => [cat([a, b], 0).exp(), stack([a, c], 1), cat([a.t(), c.t()], 1).sum(0), pad(a, [1, 2], -1)],
  },
  {
    name: 'views: slicing with steps, transpose, reshape, expand, squeeze',
    args: (next) => [randTensor(next, [6, 8]), randTensor(next, [1, 4, 1])],
    fn: (x: Tensor, y: Tensor) => {
      const s = x.slice(0, 1, 5, 2).transpose(0, 1); // [8, 2]
      const r = s.reshape([4, 4]).add(y.squeeze().unsqueeze(0));
      const e = y.expand([3, 4, 2]).mul(x.narrow(1, 2, 2).slice(0, 0, 3).unsqueeze(1));
      const [u, w] = x.split([3, 5], 1);
      return [s, r, e, u!.sum(1), w!.flatten(), x.permute([1, 0]).contiguous(), x.chunk(2, 0)[1]!.slice(1, null, null, 3)];
    },
  },
  {
    name: 'dropout and rand draw from the seeded stream',
    args: (next) => [randTensor(next, [8, 8])],
    fn: (x: Tensor) => nn.dropout(x.mul(2), 0.3).add(rand([8])).sub(nn.dropout(x, 0.5)),
  },
  {
    name: 'randn and randint draws',
    args: (next) => [randTensor(next, [3, 4])],
    fn: (x: Tensor) => [x.add(randn([3, 4])), randint(0, 10, [5]), randn([2]).mul(x.sum())],
  },
  {
    name: 'composites: gelu (exact and tanh), silu, sigmoid, clamp, erf and erfc',
    args: (next) => [randTensor(next, [5, 4], -4, 4)],
    fn: (x: Tensor) => [x.gelu(), x.gelu('tanh'), x.silu(), x.sigmoid().mul(x), clamp(x, -0.5, 0.25), x.erf(), x.erfc()],
  },
  {
    name: 'comparisons, where and casts',
    args: (next) => [randTensor(next, [4, 4]), randTensor(next, [4])],
    fn: (x: Tensor, y: Tensor) => [where(x.gt(y), x, y.clamp(-0.5, 0.5)), x.le(0).logicalOr(y.eq(y)).cast('float32'), x.mul(100).round().cast('int32').remainder(7)],
  },
  {
    name: 'uint8 images: wrapping arithmetic, casts and reductions',
    args: (next) => [bytes(next, [3, 4, 5]), bytes(next, [4, 5]), randTensor(next, [4, 5], -300, 300)],
    fn: (img: Tensor, other: Tensor, x: Tensor) => [
      img.add(other), img.sub(other).mul(3), img.neg().maximum(other), img.pow(2).add(7), x.cast('uint8').add(img),
      img.cast('float32').div(255).sub(x), img.sum(0), img.max(-1), img.prod(2), where(img.gt(128), img, other),
    ],
  },
  {
    name: 'NaN, infinities and -0 flow through unchanged',
    args: (next) => [special(next, [4, 5]), special(next, [5])],
    fn: (x: Tensor, y: Tensor) => [x.div(y), x.mul(y).max(1), x.add(y).exp(), x.isnan(), x.neg(), x.maximum(y), x.sub(x)],
  },
  {
    name: 'a nested object of tensors and numbers',
    args: (next) => [randTensor(next, [3]), randTensor(next, [3])],
    fn: (x: Tensor, y: Tensor) => ({ a: x.add(y), nested: { list: [x.mul(2), 3, 'label', null], n: 7 }, b: [y.sum(), { c: y.neg() }] }),
  },
  {
    name: 'crossEntropy with label smoothing and mseLoss',
    args: (next) => [randTensor(next, [5, 4], -3, 3), randIndex(next, [5], 4), randTensor(next, [5, 4])],
    fn: (logits: Tensor, target: Tensor, soft: Tensor) => [nn.crossEntropy(logits, target, { labelSmoothing: 0.1 }), nn.mseLoss(logits, soft), nn.crossEntropy(logits, target, { reduction: 'none' })],
  },
  {
    name: 'in-place writes to inputs and to views of them',
    args: (next) => [randTensor(next, [4, 3]), randTensor(next, [4, 3])],
    fn: (acc: Tensor, x: Tensor) => {
      acc.mul_(0.5).add_(x);
      acc.narrow(0, 1, 2).sub_(1);
      x.slice(1, 0, 3, 2).copy_(acc.slice(1, 0, 3, 2).neg());
      return acc.sum(0);
    },
  },
  {
    name: 'a backward pass inside the function',
    args: (next) => [randTensor(next, [3, 4]), randTensor(next, [4, 2])],
    fn: (x: Tensor, w: Tensor) => {
      const p = w.detach().requiresGrad_();
      const loss = x.matmul(p).tanh().square().sum();
      loss.backward();
      return [loss.detach(), p.grad!];
    },
  },
];

describe('jit agrees with eager bit for bit', () => {
  it.each(cases)('$name', ({ name, args, fn }) => {
    withSeed(`jit battery ${name}`, (next) => {
      const inputs = Array.from({ length: CALLS }, () => args(next));
      const eagerArgs = inputs.map((a) => copyArgs(a) as unknown[]);
      manualSeed(1234);
      const want = eagerArgs.map((a) => fn(...a));
      const f = jit(fn);
      manualSeed(1234);
      inputs.forEach((a, i) => {
        const got = f(...a);
        expectSameTree(got, want[i], `call ${i + 1}`);
        expectSameTree(a, eagerArgs[i], `arguments after call ${i + 1}`);
      });
      // Every call after the confirming second one replayed the compiled graph.
      expect(f.stats).toMatchObject({ calls: CALLS, traces: 2, replays: CALLS - 2, fallbacks: 0, variants: 1 });
    });
  });

  it('has at least twelve functions', () => {
    expect(cases.length).toBeGreaterThanOrEqual(12);
  });
});
