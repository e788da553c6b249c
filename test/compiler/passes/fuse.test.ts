import { describe, expect, it } from 'vitest';
import * as k from '../../../src/index.js';
import { withSeed } from '../../src/random-inputs.js';

/** Compiles `fn` for `args` and returns its explanation (kernel counts, fusion decisions). */
function compiled(fn: (...xs: k.Tensor[]) => k.Tensor, ...args: k.Tensor[]) {
  const f = k.jit(fn);
  for (let i = 0; i < 3; i++) f(...args);
  expect(f.stats.replays).toBeGreaterThan(0);
  const v = f.explain(...args).variants[0]!;
  return { f, v };
}

function expectSameBits(a: k.Tensor, b: k.Tensor): void {
  const x = a.data(), y = b.data();
  expect(x.length).toBe(y.length);
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) throw new Error(`element ${i}: ${x[i]} vs ${y[i]}`);
}

describe('fusion kernel counts', () => {
  it('gelu(x*a+b) is one kernel, bit-identical to eager', () => {
    const fn = (x: k.Tensor, a: k.Tensor, b: k.Tensor) => k.gelu(x.mul(a).add(b));
    const [x, a, b] = [k.randn([37, 5]), k.randn([37, 5]), k.randn([5])];
    const { f, v } = compiled(fn, x!, a!, b!);
    expect(v.kernelCount).toBe(1);
    expect(v.kernels[0]!.kind).toBe('map');
    expectSameBits(f(x!, a!, b!), fn(x!, a!, b!));
  });

  it('softmax over one axis is one row kernel, over the last or the first axis', () => {
    for (const axis of [-1, 0]) {
      const fn = (x: k.Tensor) => x.softmax(axis);
      const x = k.randn([33, 17]).mul(30);
      const { f, v } = compiled(fn, x);
      expect(v.kernelCount).toBe(1);
      expect(v.kernels[0]!.kind).toBe('row');
      expectSameBits(f(x), fn(x));
    }
  });

  it('layerNorm is at most two kernels; logsumexp and logSoftmax one', () => {
    const x = k.randn([16, 64]);
    const w = k.randn([64]), b = k.randn([64]);
    const cases: [(x: k.Tensor) => k.Tensor, number][] = [
      [(x) => k.nn.layerNorm(x, [64], w, b), 2],
      [(x) => x.logsumexp(1), 1],
      [(x) => x.logSoftmax(1), 1],
    ];
    for (const [fn, most] of cases) {
      const { f, v } = compiled(fn, x);
      expect(v.kernelCount).toBeLessThanOrEqual(most);
      expectSameBits(f(x), fn(x));
    }
  });

  it('fused kernels stay bit-identical to eager on fresh inputs, including NaN and infinities', () => {
    withSeed('fusion differential', (next) => {
      const fn = (x: k.Tensor, y: k.Tensor) => x.mul(y).softmax(1).add(x.exp().sum(1, true)).sqrt();
      const f = k.jit(fn);
      for (let i = 0; i < 8; i++) {
        const data = Float32Array.from({ length: 6 * 7 }, () => (next() - 0.5) * 20);
        if (i === 5) data[3] = NaN;
        if (i === 6) data[10] = Infinity;
        const x = k.tensor(data, { shape: [6, 7] }), y = k.randn([6, 7]);
        expectSameBits(f(x, y), fn(x, y));
      }
      expect(f.stats.replays).toBeGreaterThan(0);
    });
  });

  it('explains rejected fusions with a reason', () => {
    // The intermediate is returned, so it must be stored, and it is also needed by the sum.
    const fn = (x: k.Tensor) => { const e = x.exp(); return [e, e.sum(1)]; };
    const x = k.randn([4, 5]);
    const f = k.jit(fn);
    for (let i = 0; i < 3; i++) f(x);
    const v = f.explain(x).variants[0]!;
    expect(v.kernelCount).toBe(2);
    expect(v.rejectedFusions.join('\n')).toMatch(/not fused into the reduction .*needed elsewhere/);
    expect(String(f.explain(x))).toContain('2 kernels per call');
  });
});

describe('horizontal fusion', () => {
  it('an SGD or Adam update over every parameter of an MLP is a handful of kernels, bit-identical to eager', () => {
    const makers: [string, (ps: k.Tensor[]) => k.optim.Optimizer<{ lr: number }>][] = [
      ['sgd', (ps) => new k.optim.SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4 })],
      ['adam', (ps) => new k.optim.Adam(ps, { lr: 1e-3, weightDecay: 1e-4 })],
    ];
    for (const [, make] of makers) {
      k.manualSeed(3);
      const net = () => new k.nn.Sequential(new k.nn.Linear(12, 16), new k.nn.ReLU(), new k.nn.Linear(16, 16), new k.nn.ReLU(), new k.nn.Linear(16, 4));
      const a = net(), b = net();
      b.loadStateDict(a.stateDict());
      const optA = make(a.parameters()), optB = make(b.parameters());
      const grads = a.parameters().map((p) => k.randn(p.shape));
      const update = (model: k.nn.Sequential, opt: k.optim.Optimizer<{ lr: number }>) => () => {
        model.parameters().forEach((p, i) => (p.grad = grads[i]!.clone()));
        opt.step();
      };
      const jitted = k.jit(update(a, optA)), eager = update(b, optB);
      for (let i = 0; i < 6; i++) {
        jitted();
        eager();
        a.parameters().forEach((p, j) => expectSameBits(p, b.parameters()[j]!));
      }
      const v = jitted.explain().variants[0]!;
      // One merged kernel for the updates, plus the gradient copies that feed .grad.
      expect(v.kernelCount).toBeLessThanOrEqual(2);
    }
  });
});

describe('matmul epilogues', () => {
  it('Linear + bias + ReLU is one matmul kernel with the epilogue fused, bit-identical to eager', () => {
    k.manualSeed(5);
    const lin = new k.nn.Linear(37, 23);
    const fn = (x: k.Tensor) => lin.forward(x).relu();
    for (const shape of [[9, 37], [2, 5, 37]]) {
      const x = k.randn(shape);
      const { f, v } = k.noGrad(() => compiled(fn, x));
      expect(v.kernelCount).toBe(1);
      expect(v.kernels[0]!.kind).toBe('matmul');
      for (let i = 0; i < 3; i++) {
        const xi = k.randn(shape);
        k.noGrad(() => expectSameBits(f(xi), fn(xi)));
      }
    }
  });

  it('a residual add reads its operand at each output element, also for batched and transposed operands', () => {
    const fn = (a: k.Tensor, b: k.Tensor, r: k.Tensor) => a.matmul(b.transpose(1, 2)).add(r).tanh();
    const a = k.randn([3, 6, 5]), b = k.randn([3, 7, 5]), r = k.randn([6, 7]);
    const { f, v } = compiled(fn, a, b, r);
    expect(v.kernelCount).toBe(1);
    expectSameBits(f(a, b, r), fn(a, b, r));
  });
});

describe('memory planning', () => {
  it('reuses internal buffers across calls without touching earlier results, and reports peak memory', () => {
    // exp(x)*2 is fused, stored, and read by the matmul: an intermediate that never leaves the call.
    const fn = (x: k.Tensor, w: k.Tensor) => x.exp().mul(2).matmul(w);
    const w = k.randn([6, 3]);
    const f = k.jit(fn);
    const kept: [k.Tensor, k.Tensor][] = [];
    for (let i = 0; i < 6; i++) {
      const x = k.randn([4, 6]);
      kept.push([f(x, w), fn(x, w)]);
    }
    for (const [a, b] of kept) expectSameBits(a, b);
    const v = f.explain(k.randn([4, 6]), w).variants[0]!;
    // The [4,6] intermediate and the [4,3] result are alive together at the matmul.
    expect(v.peakBytes).toBe(4 * 6 * 4 + 4 * 3 * 4);
    expect(String(f.explain(k.randn([4, 6]), w))).toContain('peak 144 bytes');
  });
});
