/**
 * The Module API (names and order of parameters, children, modes, zeroGrad, state dicts),
 * PyTorch's default initializations, Dropout and Embedding.
 */
import { describe, expect, it } from 'vitest';
import { KilnError, ShapeError, ValueError, manualSeed, nn, noGrad, ones, rand, tensor, zeros, type Tensor } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';

class Block extends nn.Module {
  fc = new nn.Linear(3, 4);
  norm = new nn.LayerNorm(4);
  drop = new nn.Dropout(0.5);
  forward(x: Tensor): Tensor { return this.drop.forward(this.norm.forward(this.fc.forward(x))); }
}

class Net extends nn.Module {
  scale = nn.parameter(ones([1]));
  blocks = [new Block(), new Block()];
  head = new nn.Sequential(new nn.Linear(4, 2), new nn.ReLU(), new nn.Linear(2, 1, { bias: false }));
  bn = new nn.BatchNorm1d(1);
}

function values(t: Tensor): number[] {
  return Array.from(t.data(), Number);
}

describe('Module: parameters, children and modes', () => {
  it('names parameters by field path in definition order, Sequential children as 0, 1, … like PyTorch', () => {
    const seq = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU(), new nn.Linear(3, 1));
    expect(seq.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([['0.weight', [3, 2]], ['0.bias', [3]], ['2.weight', [1, 3]], ['2.bias', [1]]]);
    expect(seq.parameters()).toEqual(seq.namedParameters().map(([, p]) => p));
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      'scale',
      'blocks.0.fc.weight', 'blocks.0.fc.bias', 'blocks.0.norm.weight', 'blocks.0.norm.bias',
      'blocks.1.fc.weight', 'blocks.1.fc.bias', 'blocks.1.norm.weight', 'blocks.1.norm.bias',
      'head.0.weight', 'head.0.bias', 'head.2.weight',
      'bn.weight', 'bn.bias',
    ]);
    expect(net.parameters().every((p) => p.requiresGrad && p.isLeaf)).toBe(true);
  });

  it('lists a shared parameter once, under its first name', () => {
    const a = new nn.Linear(2, 2), b = new nn.Linear(2, 2);
    b.weight = a.weight;
    const seq = new nn.Sequential(a, b);
    expect(seq.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '1.bias']);
  });

  it('children are the direct submodules; namedModules walks the whole tree', () => {
    const net = new Net();
    expect(net.namedChildren().map(([n]) => n)).toEqual(['blocks.0', 'blocks.1', 'head', 'bn']);
    expect(net.children()).toEqual([net.blocks[0], net.blocks[1], net.head, net.bn]);
    expect(net.namedModules().map(([n]) => n)).toEqual([
      '', 'blocks.0', 'blocks.0.fc', 'blocks.0.norm', 'blocks.0.drop', 'blocks.1', 'blocks.1.fc', 'blocks.1.norm', 'blocks.1.drop',
      'head', 'head.0', 'head.1', 'head.2', 'bn',
    ]);
  });

  it('train() and eval() reach every module below, and return the module', () => {
    const net = new Net();
    expect(net.namedModules().every(([, m]) => m.training)).toBe(true);
    expect(net.eval()).toBe(net);
    expect(net.namedModules().every(([, m]) => !m.training)).toBe(true);
    net.blocks[1]!.train();
    expect(net.blocks[1]!.drop.training).toBe(true);
    expect(net.blocks[0]!.drop.training).toBe(false);
    net.train();
    expect(net.namedModules().every(([, m]) => m.training)).toBe(true);
    net.train(false);
    expect(net.head.layers[1]!.training).toBe(false);
  });

  it('zeroGrad clears every parameter gradient', () => {
    const seq = new nn.Sequential(new nn.Linear(3, 2), new nn.Tanh(), new nn.Linear(2, 1));
    seq.forward(rand([4, 3])).sum().backward();
    expect(seq.parameters().every((p) => p.grad !== null)).toBe(true);
    seq.zeroGrad();
    expect(seq.parameters().every((p) => p.grad === null)).toBe(true);
  });
});

describe('Module: state dicts', () => {
  it('holds parameters and buffers by dotted name, sharing the module’s tensors', () => {
    const net = new Net();
    const state = net.stateDict();
    expect(Object.keys(state)).toEqual([...net.namedParameters().map(([n]) => n), 'bn.runningMean', 'bn.runningVar', 'bn.numBatchesTracked']);
    expect(state['head.0.weight']).toBe(net.head.layers[0]!.parameters()[0]);
    expect(state['bn.runningVar']).toBe(net.bn.runningVar);
  });

  it('loads values in place: parameters keep their identity and requiresGrad, and do not alias the source', () => {
    manualSeed(1);
    const src = new Net(), dst = new Net();
    const before = dst.parameters();
    const state = src.stateDict();
    dst.loadStateDict(state);
    expect(dst.parameters()).toEqual(before);
    for (const [name, t] of Object.entries(dst.stateDict())) expect(values(t), name).toEqual(values(state[name]!));
    expect(dst.parameters().every((p) => p.requiresGrad)).toBe(true);
    const w = dst.blocks[0]!.fc.weight;
    const copy = values(w);
    noGrad(() => state['blocks.0.fc.weight']!.fill_(7));
    expect(values(w)).toEqual(copy);
  });

  it('strict loading names missing and unexpected keys; non-strict loading skips them', () => {
    const lin = new nn.Linear(2, 3);
    const w = zeros([3, 2]);
    expect(() => lin.loadStateDict({ weight: w })).toThrow(/loadStateDict: missing bias/);
    expect(() => lin.loadStateDict({ weight: w, bias: zeros([3]), extra: zeros([1]) })).toThrow(/loadStateDict: unexpected extra/);
    expect(() => lin.loadStateDict({ weight: w, extra: zeros([1]) })).toThrow(/loadStateDict: missing bias; unexpected extra/);
    // Names of Object.prototype members are ordinary unexpected names, not matches.
    expect(() => lin.loadStateDict({ weight: w, bias: zeros([3]), constructor: zeros([1]) } as Record<string, Tensor>)).toThrow(/unexpected constructor/);
    lin.loadStateDict({ weight: w, extra: zeros([1]), toString: zeros([1]) } as Record<string, Tensor>, false);
    expect(values(lin.weight)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('rejects shape mismatches and non-tensors even when not strict, and a failed load changes nothing', () => {
    const seq = new nn.Sequential(new nn.Linear(2, 3), new nn.Linear(3, 1));
    const snapshot = Object.fromEntries(Object.entries(seq.stateDict()).map(([n, t]) => [n, values(t)]));
    // Every entry but the last is valid: none of them may be written.
    const bad = { '0.weight': ones([3, 2]), '0.bias': ones([3]), '1.weight': ones([1, 3]), '1.bias': ones([2]) };
    expect(() => seq.loadStateDict(bad)).toThrow(ShapeError);
    expect(() => seq.loadStateDict(bad, false)).toThrow(/loadStateDict: 1\.bias has shape \[2\], the module expects \[1\]/);
    expect(() => seq.loadStateDict({ ...bad, '1.bias': [1] as unknown as Tensor })).toThrow(/loadStateDict: 1\.bias is not a tensor/);
    expect(() => seq.loadStateDict({ '0.weight': ones([3, 2]) })).toThrow(ValueError);
    for (const [name, t] of Object.entries(seq.stateDict())) expect(values(t), name).toEqual(snapshot[name]);
  });
});

describe('default initialization', () => {
  it('Linear draws weight and bias from U(-1/√in, 1/√in)', () => {
    manualSeed(5);
    const lin = new nn.Linear(100, 200);
    const bound = 1 / Math.sqrt(100);
    const w = values(lin.weight);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...values(lin.bias!).map(Math.abs))).toBeLessThanOrEqual(bound);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const variance = w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length;
    expect(Math.abs(mean)).toBeLessThan(4 * bound / Math.sqrt(3 * w.length));
    expect(Math.abs(variance / (bound * bound / 3) - 1)).toBeLessThan(0.05);
  });

  it('Embedding draws N(0, 1); LayerNorm starts at weight 1, bias 0', () => {
    manualSeed(6);
    const emb = new nn.Embedding(100, 100);
    const w = values(emb.weight);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const variance = w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length;
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(w.length));
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    const ln = new nn.LayerNorm([2, 3]);
    expect(values(ln.weight!)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(values(ln.bias!)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('the same seed gives the same parameters', () => {
    manualSeed(42);
    const a = new nn.Conv2d(2, 3, 3);
    manualSeed(42);
    const b = new nn.Conv2d(2, 3, 3);
    expect(values(a.weight)).toEqual(values(b.weight));
    expect(values(a.bias!)).toEqual(values(b.bias!));
  });
});

describe('Dropout', () => {
  it('zeroes about p of the elements and scales the rest by 1/(1-p), reproducibly under a seed', () => {
    const x = rand([100, 100]).add(0.5);
    const drop = new nn.Dropout(0.3);
    manualSeed(9);
    const y1 = values(drop.forward(x));
    manualSeed(9);
    const y2 = values(drop.forward(x));
    expect(y1).toEqual(y2);
    const xs = values(x);
    let zerosCount = 0;
    y1.forEach((v, i) => {
      if (v === 0) zerosCount++;
      else expect(Math.abs(v - xs[i]! / 0.7)).toBeLessThanOrEqual(1e-6 * Math.abs(v));
    });
    // 10 000 Bernoulli(0.3) draws: the count is within 5 standard deviations (≈ 46) of 3000.
    expect(Math.abs(zerosCount - 3000)).toBeLessThan(230);
    const y3 = values(drop.forward(x));
    expect(y3).not.toEqual(y1);
  });

  it('is the identity in eval mode and for p = 0; p = 1 gives zeros; p outside [0, 1] is an error', () => {
    const x = rand([5, 6]);
    const drop = new nn.Dropout(0.9).eval();
    expect(values(drop.forward(x))).toEqual(values(x));
    expect(values(new nn.Dropout(0).forward(x))).toEqual(values(x));
    expect(values(new nn.Dropout(1).forward(x)).every((v) => v === 0)).toBe(true);
    expect(() => new nn.Dropout(1.5)).toThrow(/Dropout: p must be in \[0, 1\]/);
    expect(() => nn.dropout(x, -0.1)).toThrow(ValueError);
  });

  it('passes gradients through the kept elements only, scaled', () => {
    const x = rand([20, 20]).requiresGrad_();
    manualSeed(4);
    const y = nn.dropout(x, 0.5);
    y.sum().backward();
    const g = values(x.grad!), out = values(y);
    out.forEach((v, i) => expect(g[i]).toBe(v === 0 ? 0 : 2));
  });
});

describe('Embedding', () => {
  it('looks up rows for indices of any shape, and accumulates gradients of repeated indices', () => {
    const emb = new nn.Embedding(5, 3);
    const w = emb.weight.data();
    const idx = tensor([[0, 4], [4, 2]], { dtype: 'int32' });
    const y = emb.forward(idx);
    expect(y.shape).toEqual([2, 2, 3]);
    const rows = [0, 4, 4, 2];
    expectAllClose(y, rows.flatMap((r) => Array.from(w.subarray(3 * r, 3 * r + 3))), { shape: [2, 2, 3], rtol: 0, atol: 0 });
    y.sum().backward();
    expectAllClose(emb.weight.grad!, [[1, 1, 1], [0, 0, 0], [1, 1, 1], [0, 0, 0], [2, 2, 2]]);
    expect(emb.forward(tensor(3, { dtype: 'int32' })).shape).toEqual([3]);
  });

  it('rejects out-of-range and non-integer indices and bad sizes', () => {
    const emb = new nn.Embedding(5, 3);
    expect(() => emb.forward(tensor([5], { dtype: 'int32' }))).toThrow(KilnError);
    expect(() => emb.forward(tensor([1.5]))).toThrow(/int32/);
    expect(() => new nn.Embedding(0, 3)).toThrow(/Embedding: numEmbeddings must be a positive integer/);
  });
});
