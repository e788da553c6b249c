/**
 * The backward engine and the tape: accumulation, graph freeing, explicit gradients,
 * retained gradients, detach, grad modes, leaves, very deep graphs, and PyTorch's rules
 * for in-place writes (saved values are guarded by version counters; a written non-leaf
 * gets a new history while earlier uses keep the old one).
 */
import { describe, expect, it } from 'vitest';
import {
  AutogradError, DTypeError, ValueError, enableGrad, isGradEnabled, noGrad, tensor, zeros, type Tensor,
} from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';
import { f64, t64 } from './inputs.js';

const exact = { rtol: 1e-14, atol: 0 };

function values(x: Tensor): number[] {
  return Array.from(x.data() as Float64Array);
}

describe('backward', () => {
  it('accumulates into .grad across two backward calls', () => {
    const x = t64([1, -2, 3], true);
    x.mul(x).sum().backward();
    expectAllClose(x.grad!, [2, -4, 6], exact);
    x.mul(3).sum().backward();
    expectAllClose(x.grad!, [5, -1, 9], exact);
  });

  it('sums the gradients of every path where a tensor is used more than once', () => {
    const x = t64([0.5, 2], true);
    const y = x.exp();
    y.mul(y).add(y).sum().backward();
    // d/dx (e^{2x} + e^x) = 2e^{2x} + e^x
    expectAllClose(x.grad!, [0.5, 2].map((v) => 2 * Math.exp(2 * v) + Math.exp(v)), exact);
  });

  it('refuses to run twice through a freed graph, naming retainGraph', () => {
    const x = t64([1, 2], true);
    const loss = x.exp().sum();
    loss.backward();
    let error: unknown;
    try {
      loss.backward();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AutogradError);
    expect((error as Error).message).toMatch(/retainGraph/);
  });

  it('runs twice with retainGraph, accumulating both passes', () => {
    const x = t64([1, 2], true);
    const loss = x.exp().sum();
    loss.backward(undefined, { retainGraph: true });
    loss.backward();
    expectAllClose(x.grad!, [2 * Math.exp(1), 2 * Math.exp(2)], exact);
    expect(() => loss.backward()).toThrow(AutogradError);
  });

  it('needs an explicit gradient for an output with more than one element', () => {
    const x = t64([1, 2], true);
    expect(() => x.mul(2).backward()).toThrow(AutogradError);
    expect(() => x.mul(2).backward()).toThrow(/one-element outputs .* pass backward\(gradient\)/);
  });

  it('takes an explicit gradient: the vector of the vector-Jacobian product', () => {
    const x = t64([1, 2, 3], true);
    x.mul(x).backward(t64([1, 0.5, -2]));
    expectAllClose(x.grad!, [2, 2, -12], exact);
  });

  it('casts an explicit gradient of another dtype to the output\'s, so .grad keeps the leaf\'s dtype', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    x.mul(2).backward(t64([1, 0.5]));
    expect(x.grad!.dtype).toBe('float32');
    expectAllClose(x.grad!, [2, 1], exact);
  });

  it('checks the explicit gradient\'s shape', () => {
    const x = t64([1, 2, 3], true);
    expect(() => x.mul(x).backward(t64([1, 2]))).toThrow(ValueError);
  });

  it('a one-element output that is not a scalar needs no gradient', () => {
    const x = t64([[2]], true);
    x.mul(x).backward();
    expectAllClose(x.grad!, [[4]], exact);
  });

  it('refuses an output that does not require grad', () => {
    expect(() => t64([1, 2]).sum().backward()).toThrow(AutogradError);
  });

  it('leaves no .grad on intermediate tensors unless retainGrad asked for it', () => {
    const x = t64([1, 2], true);
    const y = x.mul(2).retainGrad();
    const z = y.add(1);
    z.mul(z).sum().backward();
    // dL/dy = 2z = 2(2x + 1)
    expectAllClose(y.grad!, [6, 10], exact);
    expect(z.grad).toBeNull();
    expectAllClose(x.grad!, [12, 20], exact);
  });

  it('retainGrad on a leaf keeps its ordinary grad; on a tensor without grad it throws', () => {
    const x = t64([1, 2], true).retainGrad();
    x.sum().backward();
    expectAllClose(x.grad!, [1, 1], exact);
    expect(() => t64([1]).retainGrad()).toThrow(AutogradError);
  });

  it('does not write into the .grad of tensors that do not require grad', () => {
    const x = t64([1, 2], true), c = t64([3, 4]);
    x.mul(c).sum().backward();
    expect(c.grad).toBeNull();
    expectAllClose(x.grad!, [3, 4], exact);
  });

  it('stores a gradient that shares no memory with the graph or with other grads', () => {
    const a = t64([1, 2], true), b = t64([3, 4], true);
    a.add(b).sum().backward();
    a.grad!.add_(10);
    expectAllClose(b.grad!, [1, 1], exact);
  });

  it('backpropagates through a chain of 20,000 ops without overflowing the stack', () => {
    const x = t64([0.5], true);
    let y: Tensor = x;
    for (let i = 0; i < 20000; i++) y = y.mul(1.0001);
    y.sum().backward();
    expect(x.grad!.item()).toBeCloseTo(1.0001 ** 20000, 9);
    // 40,000 eager kernel calls: about a second alone, several on a loaded machine.
  }, 60_000);
});

describe('leaves, detach and requiresGrad', () => {
  it('isLeaf: created tensors and results without grad are leaves; recorded results are not', () => {
    const x = t64([1, 2], true), c = t64([1, 2]);
    expect(x.isLeaf).toBe(true);
    expect(c.isLeaf).toBe(true);
    expect(x.mul(2).isLeaf).toBe(false);
    expect(c.mul(2).isLeaf).toBe(true);
    expect(noGrad(() => x.mul(2)).isLeaf).toBe(true);
    expect(x.mul(2).detach().isLeaf).toBe(true);
  });

  it('detach shares storage but stops gradients', () => {
    const x = t64([1, 2, 3], true);
    const y = x.mul(2);
    const d = y.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.gradFn).toBeNull();
    // Only the direct use of x carries gradient: d(x · stop(2x))/dx = 2x, not 4x.
    x.mul(d).sum().backward();
    expectAllClose(x.grad!, [2, 4, 6], exact);
    d.add_(100);
    expectAllClose(y, [102, 104, 106], exact);
  });

  it('a write through a detached alias is caught when backward needs the old value', () => {
    const x = t64([1, 2], true);
    const y = x.exp();
    y.detach().zero_();
    expect(() => y.sum().backward()).toThrow(/modified by an in-place operation/);
  });

  it('requiresGrad is only for float tensors', () => {
    expect(() => tensor([1, 2], { dtype: 'int32' }).requiresGrad_()).toThrow(DTypeError);
    expect(() => tensor([1, 2], { dtype: 'int32', requiresGrad: true })).toThrow(DTypeError);
    expect(() => { tensor([true]).requiresGrad = true; }).toThrow(DTypeError);
    expect(tensor([1, 2], { requiresGrad: true }).requiresGrad).toBe(true);
  });

  it('integer results of tracked tensors are not recorded', () => {
    const x = t64([1.5, -2.5], true);
    const i = x.cast('int32');
    expect(i.requiresGrad).toBe(false);
    expect(x.argmax().requiresGrad).toBe(false);
  });

  it('requiresGrad cannot be turned off on a non-leaf', () => {
    const y = t64([1], true).mul(2);
    expect(() => { y.requiresGrad = false; }).toThrow(AutogradError);
  });
});

describe('grad mode', () => {
  it('noGrad records nothing; enableGrad inside it records again; each restores on exit', () => {
    const x = t64([1, 2], true);
    expect(isGradEnabled()).toBe(true);
    noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      expect(x.mul(2).requiresGrad).toBe(false);
      enableGrad(() => {
        expect(isGradEnabled()).toBe(true);
        expect(x.mul(2).requiresGrad).toBe(true);
        noGrad(() => expect(isGradEnabled()).toBe(false));
        expect(isGradEnabled()).toBe(true);
      });
      expect(isGradEnabled()).toBe(false);
    });
    expect(isGradEnabled()).toBe(true);
  });

  it('returns the function\'s value', () => {
    expect(noGrad(() => 42)).toBe(42);
    expect(enableGrad(() => 'x')).toBe('x');
  });

  it('is restored after an exception, at every level of nesting', () => {
    expect(() => noGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
    noGrad(() => {
      expect(() => enableGrad(() => { throw new Error('inner'); })).toThrow('inner');
      expect(isGradEnabled()).toBe(false);
    });
    expect(isGradEnabled()).toBe(true);
  });

  it('rejects async functions, whose awaits would run outside the scope, and restores the mode', () => {
    expect(() => noGrad(async () => 1)).toThrow(TypeError);
    expect(isGradEnabled()).toBe(true);
  });
});

describe('in-place operations', () => {
  it('modifying a tensor saved for backward (exp saves its result) throws the version error', () => {
    const x = t64([1, 2], true);
    const y = x.exp();
    y.add_(1);
    let error: unknown;
    try {
      y.sum().backward();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AutogradError);
    expect((error as Error).message).toMatch(/result of exp\b.*modified by an in-place operation.*version 0, now 1/);
  });

  it('modifying an operand saved for backward (mul saves its operands) throws too', () => {
    const x = t64([1, 2], true);
    const a = x.add(0);
    const y = a.mul(x);
    a.mul_(2);
    expect(() => y.sum().backward()).toThrow(/operand 0 of mul/);
  });

  it('add_ on a tensor no rule saved is fine, with the correct gradient', () => {
    const x = t64([1, 2, 3], true);
    const y = x.add(1);
    y.add_(1);
    expectAllClose(y, [3, 4, 5], exact);
    y.sum().backward();
    expectAllClose(x.grad!, [1, 1, 1], exact);
  });

  it('add_ of a tracked tensor sends gradient to both', () => {
    const x = t64([1, 2], true), w = t64([3, 5], true);
    const y = x.mul(2);
    y.add_(w.mul(w));
    y.sum().backward();
    expectAllClose(x.grad!, [2, 2], exact);
    expectAllClose(w.grad!, [6, 10], exact);
  });

  it('mul_ on a non-leaf: the history is rebased, gradients are correct', () => {
    const x = t64([1, 2, 3], true);
    const y = x.add(1);
    y.mul_(3);
    y.sum().backward();
    expectAllClose(x.grad!, [3, 3, 3], exact);

    // d/dx (sin x · x) = cos x · x + sin x; sin saved x, which was not written.
    const u = t64([0.3, -1.2], true);
    const s = u.sin();
    s.mul_(u);
    s.sum().backward();
    expectAllClose(u.grad!, [0.3, -1.2].map((v) => Math.cos(v) * v + Math.sin(v)), exact);
  });

  it('a use recorded before the write keeps the old value\'s history', () => {
    const x = t64([1, 2], true);
    const y = x.mul(2);
    const before = y.sum(); // sums the old y = 2x; saves nothing, so the later write is allowed
    y.add_(x); // y = 3x from here on
    before.add(y.mul(y).sum()).backward();
    // d/dx [Σ 2x + Σ (3x)²] = 2 + 18x
    expectAllClose(x.grad!, [20, 38], exact);
  });

  it('chained writes compose: ((x + 1)·2 - x)/4', () => {
    const x = t64([1, 5], true);
    const y = x.add(1);
    y.mul_(2).sub_(x).div_(4);
    expectAllClose(y, [0.75, 1.75], exact);
    y.sum().backward();
    expectAllClose(x.grad!, [0.25, 0.25], exact);
  });

  it('retainGrad follows the tensor\'s current value after a write', () => {
    const x = t64([1, 2], true);
    const y = x.mul(2).retainGrad();
    y.mul_(3);
    y.mul(y).sum().backward();
    // L = Σ y², y = 6x after the write: dL/dy = 2y = 12x, dL/dx = 72x
    expectAllClose(y.grad!, [12, 24], exact);
    expectAllClose(x.grad!, [72, 144], exact);
  });

  it('copy_ of a tracked value into a plain tensor makes it tracked', () => {
    const x = t64([1, 2], true);
    const z = zeros([2], { dtype: 'float64' });
    z.copy_(x.mul(x));
    expect(z.requiresGrad).toBe(true);
    z.sum().backward();
    expectAllClose(x.grad!, [2, 4], exact);
  });

  it('a leaf that requires grad cannot be written in place while recording, nor through a view', () => {
    const p = t64([1, 2, 3], true);
    expect(() => p.add_(1)).toThrow(AutogradError);
    expect(() => p.mul_(2)).toThrow(/leaf tensor that requires grad/);
    expect(() => p.slice(0, 0, 2).zero_()).toThrow(/or a view of one/);
    expectAllClose(p, [1, 2, 3], exact);
  });

  it('inside noGrad the leaf is updated and no history is recorded', () => {
    const p = t64([1, 2, 3], true);
    noGrad(() => p.sub_(t64([0.5, 0.5, 0.5])));
    expectAllClose(p, [0.5, 1.5, 2.5], exact);
    expect(p.isLeaf).toBe(true);
    expect(p.requiresGrad).toBe(true);
    p.mul(p).sum().backward();
    expectAllClose(p.grad!, [1, 3, 5], exact);
  });

  it('an in-place write into a view of a tracked non-leaf is refused', () => {
    const y = t64([1, 2, 3], true).mul(2);
    expect(() => y.slice(0, 0, 2).add_(1)).toThrow(AutogradError);
  });

  it('float64 values stay exact through the in-place arithmetic', () => {
    const x = f64([4], 400).requiresGrad_();
    const y = x.mul(1);
    y.add_(0.1);
    expectAllClose(y, values(x).map((v) => v + 0.1), exact);
  });
});
