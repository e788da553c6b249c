/**
 * Every write a jit'd function makes outside itself is replayed, or the function stays
 * eager with one warning that names the write: `.grad` assignments, `requiresGrad`
 * changes, optimizer state fields and hyper-parameters. Each test runs the same steps
 * under jit and eagerly on separate copies of the state and compares them bit for bit.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Tensor, jit, nn, noGrad, optim, tensor, zeros, type JitFunction } from '../../../src/index.js';
import { withSeed } from '../random-inputs.js';
import { expectSameTensor, expectSameTree, randTensor } from './compare.js';

const CALLS = 6;

afterEach(() => {
  vi.restoreAllMocks();
});

/** The `.grad` of `t` compared with `want`'s: both null, or equal tensors. */
function expectSameGrad(t: Tensor, want: Tensor, what: string): void {
  if (want.grad === null) expect(t.grad, `${what}: .grad`).toBeNull();
  else expectSameTensor(t.grad, want.grad, `${what}: .grad`);
}

/**
 * Runs `make()`'s step CALLS times under jit and eagerly (on two copies of its state) and
 * compares results, tensors and their gradients after every call.
 */
function expectStepsMatch(label: string, make: () => { step: () => unknown; tensors: Tensor[] }): JitFunction<() => unknown> {
  const eager = make(), compiled = make();
  const f = jit(compiled.step);
  for (let call = 1; call <= CALLS; call++) {
    expectSameTree(f(), eager.step(), `${label}, call ${call}: result`);
    eager.tensors.forEach((t, k) => {
      expectSameTensor(compiled.tensors[k], t, `${label}, call ${call}: tensor ${k}`);
      expectSameGrad(compiled.tensors[k]!, t, `${label}, call ${call}: tensor ${k}`);
    });
  }
  return f;
}

describe('.grad assignments', () => {
  it("PyTorch's tutorial step (update, then w.grad = null inside noGrad) equals eager on every call", () => {
    const f = expectStepsMatch('tutorial', () => {
      const w = tensor([1, 2, 3], { requiresGrad: true });
      const step = () => {
        const l = w.mul(w).sum();
        l.backward();
        noGrad(() => { w.sub_(w.grad!.mul(0.1)); w.grad = null; });
        return l.detach();
      };
      return { step, tensors: [w] };
    });
    expect(f.stats.replays).toBeGreaterThanOrEqual(CALLS - 3);
    expect(f.stats.fallbacks).toBe(0);
  });

  it('w.grad = another tensor\'s grad, a computed tensor or a fresh constant is replayed', () => {
    withSeed('grad assignments', (next) => {
      const init = [randTensor(next, [3]), randTensor(next, [3])];
      const f = expectStepsMatch('assignments', () => {
        const a = init[0]!.clone().requiresGrad_(), b = init[1]!.clone().requiresGrad_(), c = zeros([3]).requiresGrad_();
        const step = () => {
          a.mul(b).sum().backward();
          noGrad(() => {
            a.add_(a.grad!.mul(0.5));
            c.grad = b.grad;
            b.grad = a.grad!.mul(2);
            a.grad = tensor([0.25, -0, 4]);
          });
          return [a.clone(), b.clone()];
        };
        return { step, tensors: [a, b, c] };
      });
      expect(f.stats.replays).toBeGreaterThan(0);
    });
  });

  it('a .grad assigned to a tensor the call makes and returns is there after a replay', () => {
    const body = (x: Tensor) => { const h = x.mul(2); h.grad = x.add(1); return h; };
    const f = jit(body);
    for (let call = 1; call <= CALLS; call++) {
      const x = tensor([1, -2, 3].map((v) => v * call));
      const got = f(x), want = body(x);
      expectSameTensor(got, want, `call ${call}`);
      expectSameGrad(got as Tensor, want, `call ${call}`);
    }
    expect(f.stats.replays).toBeGreaterThan(0);
  });

  it('a constant assigned as .grad is the caller\'s own tensor: writing into it changes no later call', () => {
    const make = () => {
      const w = tensor([1, 2, 3], { requiresGrad: true });
      return { w, step: () => { noGrad(() => { w.grad = tensor([1, 1, 1]); }); return w.grad!.sum(); } };
    };
    const eager = make(), compiled = make();
    const f = jit(compiled.step);
    for (let call = 1; call <= CALLS; call++) {
      expectSameTensor(f(), eager.step(), `call ${call}`);
      // The caller scribbles on the gradient it was given.
      noGrad(() => { compiled.w.grad!.fill_(7); eager.w.grad!.fill_(7); });
    }
    expect(f.stats.replays).toBeGreaterThan(0);
  });
});

/** Warnings printed while `fn` runs. */
function warningsOf(fn: () => void): string[] {
  const seen: string[] = [];
  vi.spyOn(console, 'warn').mockImplementation((m: unknown) => { seen.push(String(m)); });
  fn();
  return seen;
}

describe('writes a replay cannot repeat keep the function eager, with one warning naming them', () => {
  it('requiresGrad switched on a tensor from outside the call', () => {
    let f: JitFunction<() => unknown> | undefined;
    const warned = warningsOf(() => {
      f = expectStepsMatch('requiresGrad', () => {
        const w = tensor([1, 2, 3]);
        const step = () => {
          w.requiresGrad = !w.requiresGrad;
          return w.mul(2).sum();
        };
        return { step, tensors: [w] };
      });
    });
    expect(f!.stats.replays).toBe(0);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/set requiresGrad = (true|false) on a tensor from outside the call at .*effects\.test\.ts:\d+/);
  });

  it('requiresGrad set on tensors the call makes itself is no obstacle', () => {
    const f = expectStepsMatch('own requiresGrad', () => {
      const x = tensor([0.5, -1, 2]);
      const step = () => {
        const h = x.mul(3).detach().requiresGrad_();
        const y = h.exp().sum();
        y.backward();
        return h.grad!;
      };
      return { step, tensors: [x] };
    });
    expect(f.stats.replays).toBeGreaterThan(0);
  });

  it('an optimizer state field replaced by a new tensor on every step', () => {
    /** Momentum written out of place: a new buffer each step, assigned to the state field. */
    class OutOfPlaceMomentum extends optim.SGD {
      protected override update(group: optim.SGD['paramGroups'][number]): void {
        for (const p of group.params) {
          const s = this.stateOf(p);
          const buf = s.buf === undefined ? p.grad!.clone() : (s.buf as Tensor).mul(0.9).add(p.grad!);
          s.buf = buf;
          p.sub_(buf.mul(0.1));
        }
      }
    }
    let f: JitFunction<() => unknown> | undefined;
    const warned = warningsOf(() => {
      f = expectStepsMatch('optimizer field', () => {
        const w = tensor([1, -2, 3], { requiresGrad: true });
        const opt = new OutOfPlaceMomentum([w], { lr: 0.1 });
        const step = () => {
          opt.zeroGrad();
          const l = w.mul(w).sum();
          l.backward();
          opt.step();
          return l.detach();
        };
        return { step, tensors: [w] };
      });
    });
    expect(f!.stats.replays).toBe(0);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/assigned the optimizer state field buf at .*effects\.test\.ts:\d+/);
  });

  it('a learning-rate schedule stepped inside the compiled step', () => {
    let f: JitFunction<() => unknown> | undefined;
    const warned = warningsOf(() => {
      f = expectStepsMatch('schedule inside', () => {
        const w = tensor([1, -2, 3], { requiresGrad: true });
        const opt = new optim.SGD([w], { lr: 0.1 });
        // Holds each lr for 3 steps: equal recordings in a row would otherwise compile.
        const schedule = new optim.StepLR(opt, 3, 0.5);
        const step = () => {
          opt.zeroGrad();
          w.mul(w).sum().backward();
          opt.step();
          schedule.step();
          return w.clone();
        };
        return { step, tensors: [w] };
      });
    });
    expect(f!.stats.replays).toBe(0);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/stepped the StepLR learning-rate schedule at .*effects\.test\.ts:\d+/);
  });

  it('an optimizer made inside the call creates its state on every call and still replays', () => {
    const make = () => {
      const w = tensor([1, -2, 3], { requiresGrad: true });
      const step = () => {
        const opt = new optim.SGD([w], { lr: 0.1, momentum: 0.9 });
        opt.zeroGrad();
        w.mul(w).sum().backward();
        opt.step();
        return w.clone();
      };
      return { w, step };
    };
    const eager = make(), compiled = make();
    const f = jit(compiled.step);
    for (let i = 0; i < 5; i++) expectSameTensor(f(), eager.step(), `call ${i + 1}`);
    expect(f.stats.replays).toBe(3);
  });

  it('a learning rate set from a number argument inside the step compiles and follows the argument', () => {
    const make = () => {
      const w = tensor([1, -2, 3], { requiresGrad: true });
      const opt = new optim.SGD([w], { lr: 0.1 });
      const step = (lr: number) => {
        opt.paramGroups[0]!.lr = lr;
        opt.zeroGrad();
        w.mul(w).sum().backward();
        opt.step();
        return w.clone();
      };
      return { w, step };
    };
    const eager = make(), compiled = make();
    const f = jit(compiled.step, { dynamicNumbers: true });
    [0.1, 0.05, 0.2, 0.01, 0.3, 0.07, 0.02, 0.5].forEach((lr, i) => {
      expectSameTensor(f(lr), eager.step(lr), `call ${i + 1} (lr ${lr})`);
    });
    expect(f.stats.replays).toBeGreaterThan(0);
  });

  it('a module switched between train and eval mode inside the call', () => {
    /** Doubles in training, triples in evaluation. */
    class Scale extends nn.Module {
      forward(x: Tensor): Tensor { return x.mul(this.training ? 2 : 3); }
    }
    let f: JitFunction<() => unknown> | undefined;
    const warned = warningsOf(() => {
      f = expectStepsMatch('module mode', () => {
        const m = new Scale();
        const x = tensor([1, 2, 3, 4]);
        const step = () => {
          m.train(!m.training);
          return m.forward(x).sum();
        };
        return { step, tensors: [x] };
      });
    });
    expect(f!.stats.replays).toBe(0);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/switched a Scale to (train|eval) mode/);
  });

  it('Adam creating its state on the first step still compiles, and matches eager', () => {
    withSeed('adam first step', (next) => {
      const init = randTensor(next, [4]);
      const f = expectStepsMatch('adam', () => {
        const w = init.clone().requiresGrad_();
        const opt = new optim.Adam([w], { lr: 0.05 });
        const step = () => {
          opt.zeroGrad();
          const l = w.mul(w).sum();
          l.backward();
          opt.step();
          return l.detach();
        };
        return { step, tensors: [w] };
      });
      expect(f.stats.replays).toBeGreaterThanOrEqual(CALLS - 3);
    });
  });
});
