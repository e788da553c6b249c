/**
 * Layers and utilities a PyTorch user reaches for early: containers, Module.to, Embedding's
 * padding index, multi-head attention, recurrent cells, gradient clipping and max pooling's
 * gradient on ties.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../../../src/index.js';
import { DeviceError, ShapeError, ValueError, manualSeed, nn, tensor, type Tensor } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';

describe('containers', () => {
  it('ModuleList and ModuleDict register their modules and parameters with dotted names', () => {
    class Net extends nn.Module {
      readonly blocks = new nn.ModuleList([new nn.Linear(2, 3), new nn.Identity(), new nn.Linear(3, 1)]);
      readonly heads = new nn.ModuleDict({ a: new nn.Linear(1, 1, { bias: false }) });
    }
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual(['blocks.0.weight', 'blocks.0.bias', 'blocks.2.weight', 'blocks.2.bias', 'heads.a.weight']);
    expect(net.blocks.length).toBe(3);
    expect([...net.blocks].map((m) => m.constructor.name)).toEqual(['Linear', 'Identity', 'Linear']);
    expect(net.blocks.get(-1)).toBe(net.blocks.get(2));
    expect(net.heads.keys()).toEqual(['a']);
    expect(() => net.heads.get('b')).toThrow("ModuleDict: no module named \"b\" (keys: a)");
    expect(() => net.blocks.append(3 as never)).toThrow(ValueError);
  });
});

describe('Module.to', () => {
  it('casts float parameters and buffers to a dtype and returns the module', () => {
    const bn = new nn.BatchNorm1d(3);
    const model = new nn.Sequential(new nn.Linear(2, 3), bn);
    expect(model.to('float64')).toBe(model);
    expect(model.parameters().every((p) => p.dtype === 'float64' && p.requiresGrad && p.isLeaf)).toBe(true);
    expect(nn.isParameter(model.parameters()[0])).toBe(true);
    expect(model.forward(k.randn([4, 2], { dtype: 'float64' })).dtype).toBe('float64');
  });
  it('names the valid devices and dtypes for anything else', () => {
    expect(() => new nn.Linear(1, 1).to('cuda' as never)).toThrow('Module.to: unknown device or dtype cuda (devices: cpu, webgpu; dtypes: float32, float64, int32, uint8, bool)');
  });
  it('is a no-op on the device the module is already on, keeping the tensors', () => {
    const lin = new nn.Linear(2, 2);
    const w = lin.weight;
    lin.to('cpu');
    expect(lin.weight).toBe(w);
    expect(() => new nn.Linear(1, 1).to('cpu')).not.toThrow(DeviceError);
  });
});

describe('Embedding with paddingIdx', () => {
  it('starts the padding row at zero and gives it no gradient', () => {
    manualSeed(3);
    const emb = new nn.Embedding(5, 3, { paddingIdx: -1 });
    expect(emb.paddingIdx).toBe(4);
    expect(emb.weight.index(4).toArray()).toEqual([0, 0, 0]);
    const idx = tensor([[4, 1], [4, 4]], { dtype: 'int32' });
    emb.forward(idx).sum().backward();
    const g = emb.weight.grad!;
    expect(g.index(4).toArray()).toEqual([0, 0, 0]);
    expect(g.index(1).toArray()).toEqual([1, 1, 1]);
    expect(() => new nn.Embedding(5, 3, { paddingIdx: 5 })).toThrow(ValueError);
  });
});

describe('MultiheadAttention', () => {
  it('equals per-head scaledDotProductAttention over the packed projections', () => {
    manualSeed(4);
    const mha = new nn.MultiheadAttention(8, 2);
    const x = k.randn([2, 5, 8], { dtype: 'float64' });
    mha.to('float64');
    const { output, weights } = mha.forward(x, x, x, { isCausal: true });
    const [wq, wk, wv] = mha.inProjWeight.chunk(3, 0);
    const heads = (w: Tensor) => x.matmul(w.t()).reshape([2, 5, 2, 4]).transpose(1, 2);
    const attn = nn.scaledDotProductAttention(heads(wq!), heads(wk!), heads(wv!), { isCausal: true });
    const want = attn.transpose(1, 2).reshape([2, 5, 8]).matmul(mha.outProjWeight.t());
    expectAllClose(output, want, { rtol: 1e-12, atol: 1e-12 });
    expect(weights!.shape).toEqual([2, 5, 5]);
    // Causal: no weight on later keys.
    expect(weights!.triu(1).abs().max().item()).toBe(0);
  });
  it('ignores padded keys', () => {
    const mha = new nn.MultiheadAttention(4, 1);
    const x = k.randn([1, 3, 4]);
    const pad = tensor([[false, false, true]]);
    const { weights } = mha.forward(x, x, x, { keyPaddingMask: pad });
    expect(weights!.index(':', ':', 2).abs().max().item()).toBe(0);
    expect(() => mha.forward(k.randn([1, 3, 5]))).toThrow(ShapeError);
  });
});

describe('recurrent cells', () => {
  it('LSTMCell follows the i, f, g, o gate equations', () => {
    manualSeed(5);
    const cell = new nn.LSTMCell(3, 2).to('float64');
    const x = k.randn([4, 3], { dtype: 'float64' }), h = k.randn([4, 2], { dtype: 'float64' }), c = k.randn([4, 2], { dtype: 'float64' });
    const [h2, c2] = cell.forward(x, [h, c]);
    const z = x.matmul(cell.weightIh.t()).add(cell.biasIh!).add(h.matmul(cell.weightHh.t())).add(cell.biasHh!);
    const gate = (i: number) => z.index(':', `${2 * i}:${2 * i + 2}`);
    const cWant = gate(1).sigmoid().mul(c).add(gate(0).sigmoid().mul(gate(2).tanh()));
    expectAllClose(c2, cWant, { rtol: 1e-12, atol: 1e-12 });
    expectAllClose(h2, gate(3).sigmoid().mul(cWant.tanh()), { rtol: 1e-12, atol: 1e-12 });
  });
  it('LSTM and GRU layers return PyTorch-shaped outputs and states', () => {
    const lstm = new nn.LSTM(3, 4, { numLayers: 2 });
    const [out, [h, c]] = lstm.forward(k.randn([6, 2, 3]));
    expect([out.shape, h.shape, c.shape]).toEqual([[6, 2, 4], [2, 2, 4], [2, 2, 4]]);
    const gru = new nn.GRU(3, 4, { batchFirst: true });
    const [o2, h2] = gru.forward(k.randn([2, 6, 3]));
    expect([o2.shape, h2.shape]).toEqual([[2, 6, 4], [1, 2, 4]]);
    // The last output is the final hidden state.
    expectAllClose(o2.index(':', -1), h2.index(0), { rtol: 0, atol: 0 });
  });
});

describe('gradient clipping', () => {
  it('clipGradNorm scales all gradients together and returns the norm before clipping', () => {
    const a = tensor([3, 0], { requiresGrad: true }), b = tensor([4], { requiresGrad: true });
    a.grad = tensor([3, 0]);
    b.grad = tensor([4]);
    const total = nn.clipGradNorm([a, b], 1);
    expect(total.item()).toBeCloseTo(5, 6);
    expectAllClose(a.grad, [0.6, 0], { rtol: 1e-5 });
    expectAllClose(b.grad, [0.8], { rtol: 1e-5 });
    // Under the bound nothing changes.
    nn.clipGradNorm([a, b], 10);
    expectAllClose(b.grad, [0.8], { rtol: 1e-5 });
    expect(nn.clipGradNorm([a, b], 1, Infinity).item()).toBeCloseTo(0.8, 6);
  });
  it('clipGradValue clamps each element', () => {
    const a = tensor([1, 1], { requiresGrad: true });
    a.grad = tensor([-3, 0.5]);
    nn.clipGradValue([a], 1);
    expect(a.grad.toArray()).toEqual([-1, 0.5]);
    expect(() => nn.clipGradValue([a], -1)).toThrow(ValueError);
  });
});

describe('max pooling and max over one axis on ties', () => {
  it('maxPool2d sends the gradient to the first largest element of each window, as PyTorch', () => {
    for (const stride of [2, 1]) {
      const x = tensor([[[[1, 1, 0, 2], [1, 0, 2, 2], [3, 3, 1, 1], [3, 3, 1, 1]]]], { requiresGrad: true });
      nn.maxPool2d(x, 2, { stride }).sum().backward();
      const want = stride === 2
        ? [[1, 0, 0, 1], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
        : [[1, 0, 0, 1], [0, 0, 2, 0], [2, 2, 1, 0], [0, 0, 0, 0]];
      expectAllClose(x.grad!, [[want]], { rtol: 0, atol: 0 });
    }
  });
  it('maxWithIndices and max(axis) agree; indices are the first of ties', () => {
    const x = tensor([[2, 5, 5], [7, 7, 1]]);
    const { values, indices } = x.maxWithIndices(1);
    expect(values.toArray()).toEqual(x.max(1).toArray());
    expect(indices.toArray()).toEqual([1, 0]);
    expect(x.minWithIndices(0, true).indices.toArray()).toEqual([[0, 0, 1]]);
    expect(() => k.zeros([0, 2]).maxWithIndices(0)).toThrow(ShapeError);
  });
});
