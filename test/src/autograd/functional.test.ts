/** grad, valueAndGrad and vjp: argnums, unused arguments, nesting, and what they leave untouched. */
import { describe, expect, it } from 'vitest';
import { ValueError, grad, isGradEnabled, noGrad, valueAndGrad, vjp, type Tensor } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';
import { f64, t64 } from './inputs.js';

const exact = { rtol: 1e-14, atol: 0 };

describe('grad and valueAndGrad', () => {
  it('differentiate with respect to argument 0 by default', () => {
    const g = grad((x: Tensor) => x.mul(x).sum())(t64([1, -2, 3]));
    expectAllClose(g as Tensor, [2, -4, 6], exact);
  });

  it('return one gradient per entry of an argnums list, in that order', () => {
    const f = (a: Tensor, b: Tensor, c: Tensor) => a.mul(b).add(c.mul(3)).sum();
    const a = t64([1, 2]), b = t64([3, 4]), c = t64([5, 6]);
    const [gc, ga] = grad(f, [2, 0])(a, b, c) as Tensor[];
    expectAllClose(gc!, [3, 3], exact);
    expectAllClose(ga!, [3, 4], exact);
    // A single-element list still returns a list.
    const single = grad(f, [1])(a, b, c);
    expect(Array.isArray(single)).toBe(true);
    expectAllClose((single as Tensor[])[0]!, [1, 2], exact);
  });

  it('give zero gradients, shaped like the argument, to arguments the value does not use', () => {
    const f = (a: Tensor, b: Tensor) => a.exp().sum();
    const [ga, gb] = grad(f, [0, 1])(t64([0, 1]), t64([[1, 2, 3]])) as Tensor[];
    expectAllClose(ga!, [1, Math.E], exact);
    expectAllClose(gb!, [[0, 0, 0]], exact);
    // Nothing in the value depends on the argument at all.
    const g0 = grad((a: Tensor) => t64(5).add(0), 0)(t64([1, 2])) as Tensor;
    expectAllClose(g0, [0, 0], exact);
  });

  it('pass non-tensor arguments through', () => {
    const f = (x: Tensor, scale: number, opts: { shift: number }) => x.mul(scale).add(opts.shift).square().sum();
    const g = grad(f)(t64([1, 2]), 3, { shift: 1 }) as Tensor;
    // d/dx Σ (3x + 1)² = 6(3x + 1)
    expectAllClose(g, [24, 42], exact);
  });

  it('valueAndGrad returns the value, detached, with the gradients', () => {
    const [value, g] = valueAndGrad((x: Tensor) => x.sin().sum())(t64([0.5, 1]));
    expectAllClose(value, Math.sin(0.5) + Math.sin(1), exact);
    expect(value.requiresGrad).toBe(false);
    expectAllClose(g as Tensor, [Math.cos(0.5), Math.cos(1)], exact);
  });

  it('return plain tensors for plain arguments, and never write .grad', () => {
    const c = t64([1, 2]);
    const g = grad((a: Tensor) => a.mul(a).sum())(c) as Tensor;
    expect(g.requiresGrad).toBe(false);
    expect(c.grad).toBeNull();
    expectAllClose(g, [2, 4], exact);
  });

  it('for an argument that requires grad, return a gradient recorded in its graph (grad of grad)', () => {
    const x = t64([1, 2], true);
    const g = grad((a: Tensor) => a.pow(3).sum())(x) as Tensor;
    expect(x.grad).toBeNull();
    expect(g.requiresGrad).toBe(true);
    expectAllClose(g, [3, 12], exact);
    g.sum().backward();
    expectAllClose(x.grad!, [6, 12], exact);
  });

  it('work under noGrad and leave the mode as they found it', () => {
    const g = noGrad(() => {
      const out = grad((a: Tensor) => a.exp().sum())(t64([0, 1])) as Tensor;
      expect(isGradEnabled()).toBe(false);
      return out;
    });
    expectAllClose(g, [1, Math.E], exact);
  });

  it('reject argnums that do not name a tensor, and values with more than one element', () => {
    const f = (x: Tensor, k: number) => x.mul(k).sum();
    expect(() => grad(f, 1)(t64([1]), 2)).toThrow(ValueError);
    expect(() => grad(f, 2)(t64([1]), 2)).toThrow(/argnums 2 must name a tensor argument/);
    expect(() => grad((x: Tensor) => x.mul(2))(t64([1, 2]))).toThrow(/one-element tensor .*use vjp/);
  });
});

describe('nested grad', () => {
  it('grad of grad, in one argument and across two', () => {
    // f = x²y: ∂f/∂x = 2xy, ∂²f/∂x² = 2y, ∂²f/∂y∂x = 2x
    const f = (x: Tensor, y: Tensor) => x.mul(x).mul(y).sum();
    const dfdx = (x: Tensor, y: Tensor) => grad(f, 0)(x, y) as Tensor;
    const x = t64([1, -2]), y = t64([3, 0.5]);
    const [dxx, dxy] = grad((a: Tensor, b: Tensor) => dfdx(a, b).sum(), [0, 1])(x, y) as Tensor[];
    expectAllClose(dxx!, [6, 1], exact);
    expectAllClose(dxy!, [2, -4], exact);
  });

  it('an inner grad over a variable the outer grad tracks only through a closure', () => {
    // d/dx [x · (d/dy (x·y))] = d/dx x² = 2x: the inner gradient is x, and must stay x, not a constant.
    const one = t64([1]);
    const g = grad((x: Tensor) => {
      const inner = grad((y: Tensor) => x.mul(y).sum())(one) as Tensor;
      return x.mul(inner).sum();
    })(t64([3])) as Tensor;
    expectAllClose(g, [6], exact);
  });

  it('a gradient penalty backpropagates into the parameters the inner function closes over', () => {
    // gp = ∂/∂x Σ sin(p·x) = p·cos(p·x); d/dp Σ gp = Σ cos(px) - p·x·sin(px)
    const p = t64([0.7, -1.1], true);
    const x = t64([0.4, 1.3]);
    const gp = grad((a: Tensor) => a.mul(p).sin().sum())(x) as Tensor;
    expect(gp.requiresGrad).toBe(true);
    gp.sum().backward();
    expectAllClose(p.grad!, [0, 1].map((i) => {
      const pv = [0.7, -1.1][i]!, xv = [0.4, 1.3][i]!;
      return Math.cos(pv * xv) - pv * xv * Math.sin(pv * xv);
    }), exact);
  });

  it('valueAndGrad inside grad: the value stays differentiable', () => {
    // h(x) = v + Σg with v = Σ x³ and g = 3x²: dh/dx = 3x² + 6x
    const h = (x: Tensor) => {
      const [v, g] = valueAndGrad((a: Tensor) => a.pow(3).sum())(x);
      return v.add((g as Tensor).sum());
    };
    expectAllClose(grad(h)(t64([1, -2])) as Tensor, [9, 0], exact);
  });
});

describe('vjp', () => {
  it('returns the output and a pullback of cotangents, reusable', () => {
    const a = t64([[1, 2], [3, 4]]), b = t64([0.5, -1]);
    const [out, pullback] = vjp((x, y) => x.mul(y).sin(), a, b);
    expect(out.requiresGrad).toBe(false);
    expectAllClose(out, [[Math.sin(0.5), Math.sin(-2)], [Math.sin(1.5), Math.sin(-4)]], exact);
    const ct = t64([[1, 0], [0, 2]]);
    const [ga, gb] = pullback(ct);
    const c = (v: number) => Math.cos(v);
    expectAllClose(ga!, [[0.5 * c(0.5), 0], [0, 2 * -1 * c(-4)]], exact);
    expectAllClose(gb!, [1 * c(0.5) + 0, 0 + 2 * 4 * c(-4)], exact);
    // A second cotangent through the same graph.
    const [ga2] = pullback(t64([[0, 1], [0, 0]]));
    expectAllClose(ga2!, [[0, -1 * c(-2)], [0, 0]], exact);
  });

  it('gives zeros for primals the output does not use', () => {
    const [, pullback] = vjp((x, _y) => x.exp(), t64([0, 1]), t64([7, 8, 9]));
    const [gx, gy] = pullback(t64([1, 1]));
    expectAllClose(gx!, [1, Math.E], exact);
    expectAllClose(gy!, [0, 0, 0], exact);
  });

  it('pulls back through a matmul: cotangent C gives C·Bᵀ and Aᵀ·C', () => {
    const A = f64([3, 4], 410), B = f64([4, 2], 411), C = f64([3, 2], 412);
    const [, pullback] = vjp((x, y) => x.matmul(y), A, B);
    const [gA, gB] = pullback(C);
    expectAllClose(gA!, C.matmul(B.t()), exact);
    expectAllClose(gB!, A.t().matmul(C), exact);
  });
});
