/**
 * Every write a jit'd function makes outside itself is replayed, or the function stays
 * eager with one warning that names the write: `.grad` assignments, `requiresGrad`
 * changes, optimizer state fields and hyper-parameters. Each test runs the same steps
 * under jit and eagerly on separate copies of the state and compares them bit for bit.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Tensor, jit, noGrad, tensor, zeros, type JitFunction } from '../../../src/index.js';
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
