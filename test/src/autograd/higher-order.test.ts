/**
 * Second (and third) derivatives: VJP rules are recorded kiln computations, so the gradient
 * of a gradient is itself differentiable. Each case is compared with a hand-derived
 * formula and with finite differences of the first gradient.
 */
import { describe, expect, it } from 'vitest';
import { grad, gradcheck, matmul, nn, softmax, type GradcheckOptions, type Tensor } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';
import { f64, i32, t64 } from './inputs.js';

const F = nn;
const tight = { rtol: 1e-10, atol: 1e-12 };

function check(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): void {
  const result = gradcheck(fn, inputs, { ...options, raise: false });
  expect(result.ok, result.report).toBe(true);
}

/** Elementwise map of a float64 tensor's values, for hand-written formulas. */
function map(x: Tensor, f: (v: number, i: number) => number): number[] {
  return Array.from(x.data() as Float64Array, f);
}

/** d/dx of Σ f'(x): the diagonal of the Hessian of Σ f, i.e. f'' elementwise. */
const second = (f: (x: Tensor) => Tensor) => grad((x: Tensor) => (grad((y: Tensor) => f(y).sum())(x) as Tensor).sum());

describe('second derivatives of unary ops', () => {
  const cases: [string, (x: Tensor) => Tensor, (v: number) => number, Tensor][] = [
    ['exp', (x) => x.exp(), (v) => Math.exp(v), f64([7], 300, -2, 2)],
    ['log', (x) => x.log(), (v) => -1 / (v * v), f64([7], 301, 0.3, 3)],
    ['sin', (x) => x.sin(), (v) => -Math.sin(v), f64([7], 302, -3, 3)],
    ['tanh', (x) => x.tanh(), (v) => { const t = Math.tanh(v); return -2 * t * (1 - t * t); }, f64([7], 303, -2, 2)],
    ['sigmoid', (x) => x.sigmoid(), (v) => { const s = 1 / (1 + Math.exp(-v)); return s * (1 - s) * (1 - 2 * s); }, f64([7], 304, -3, 3)],
  ];

  it.each(cases)('%s: grad(grad(f)) equals the hand-derived f″', (_name, f, f2, x) => {
    expectAllClose(second(f)(x) as Tensor, map(x, f2), tight);
  });

  it.each(cases)('%s: finite differences of a function that itself calls grad', (_name, f, _f2, x) => {
    check((y) => grad((z: Tensor) => f(z).sum())(y) as Tensor, [x]);
  });

  it('a third derivative: d³/dx³ sin = -cos', () => {
    const x = f64([5], 305, -3, 3);
    const d1 = (y: Tensor) => grad((z: Tensor) => z.sin().sum())(y) as Tensor;
    const d2 = (y: Tensor) => grad((z: Tensor) => d1(z).sum())(y) as Tensor;
    const d3 = grad((z: Tensor) => d2(z).sum());
    expectAllClose(d3(x) as Tensor, map(x, (v) => -Math.cos(v)), tight);
  });
});

describe('second derivatives of binary ops, mixed partials included', () => {
  const a = f64([6], 310, 0.5, 2);
  const b = f64([6], 311, -1.5, 1.5);
  const bPos = f64([6], 312, 0.5, 2);

  /** The gradient, in both operands, of Σ ∂f/∂(operand `wrt`). */
  const hess = (f: (x: Tensor, y: Tensor) => Tensor, wrt: number) =>
    grad((x: Tensor, y: Tensor) => (grad((u: Tensor, v: Tensor) => f(u, v).sum(), wrt)(x, y) as Tensor).sum(), [0, 1]);

  it('mul: f = Σ a·a·b gives ∂f/∂a = 2ab, then ∂/∂a = 2b and ∂/∂b = 2a', () => {
    const [da, db] = hess((x, y) => x.mul(x).mul(y), 0)(a, b) as Tensor[];
    expectAllClose(da!, map(b, (v) => 2 * v), tight);
    expectAllClose(db!, map(a, (v) => 2 * v), tight);
    check((x, y) => (grad((u: Tensor, v: Tensor) => u.mul(u).mul(v).sum(), [0, 1])(x, y) as Tensor[])[0]!, [a, b]);
  });

  it('div: f = Σ a/b gives ∂f/∂b = -a/b², then ∂/∂a = -1/b² and ∂/∂b = 2a/b³', () => {
    const [da, db] = hess((x, y) => x.div(y), 1)(a, bPos) as Tensor[];
    const bv = bPos.data() as Float64Array;
    expectAllClose(da!, map(a, (_, i) => -1 / bv[i]! ** 2), tight);
    expectAllClose(db!, map(a, (v, i) => (2 * v) / bv[i]! ** 3), tight);
    check((x, y) => grad((u: Tensor, v: Tensor) => u.div(v).sum(), 1)(x, y) as Tensor, [a, bPos]);
  });

  it('pow: all second partials of Σ a^b', () => {
    const bv = b.data() as Float64Array;
    // From ∂f/∂a = b·a^(b-1): ∂/∂a = b(b-1)a^(b-2), ∂/∂b = a^(b-1)(1 + b ln a).
    const [daa, dab] = hess((x, y) => x.pow(y), 0)(a, b) as Tensor[];
    expectAllClose(daa!, map(a, (v, i) => bv[i]! * (bv[i]! - 1) * v ** (bv[i]! - 2)), tight);
    expectAllClose(dab!, map(a, (v, i) => v ** (bv[i]! - 1) * (1 + bv[i]! * Math.log(v))), tight);
    // From ∂f/∂b = a^b ln a: ∂/∂a is the same mixed partial, ∂/∂b = a^b ln² a.
    const [dba, dbb] = hess((x, y) => x.pow(y), 1)(a, b) as Tensor[];
    expectAllClose(dba!, dab!, tight);
    expectAllClose(dbb!, map(a, (v, i) => v ** bv[i]! * Math.log(v) ** 2), tight);
    check((x, y) => (grad((u: Tensor, v: Tensor) => u.pow(v).sum(), [0, 1])(x, y) as Tensor[])[1]!, [a, b]);
    check((x) => grad((u: Tensor) => u.pow(3).sum())(x) as Tensor, [f64([5], 313, -2, 2)]);
  });
});

describe('second derivatives through matmul and the losses', () => {
  it('matmul: for f(A, B) = Σ (AB)², h = Σ V ⊙ ∂f/∂A has ∂h/∂A = 2V·BBᵀ and ∂h/∂B = 2(VᵀA + AᵀV)B', () => {
    const A = f64([3, 4], 320), B = f64([4, 2], 321), V = f64([3, 4], 322);
    const dfdA = (x: Tensor, y: Tensor) => grad((u: Tensor, v: Tensor) => matmul(u, v).square().sum(), 0)(x, y) as Tensor;
    const [hA, hB] = grad((x: Tensor, y: Tensor) => dfdA(x, y).mul(V).sum(), [0, 1])(A, B) as Tensor[];
    // The same expressions in float64 kiln ops without autograd: plain matrix algebra.
    const Bt = B.t(), Vt = V.t(), At = A.t();
    expectAllClose(hA!, V.matmul(B).matmul(Bt).mul(2), tight);
    expectAllClose(hB!, Vt.matmul(A).add(At.matmul(V)).matmul(B).mul(2), tight);
    check(dfdA, [A, B]);
  });

  it('softmax + crossEntropy: the Hessian in the logits is (diag(p) - ppᵀ)/N', () => {
    const z = f64([4, 5], 330, -2, 2), v = f64([4, 5], 331);
    const target = i32([1, 4, 0, 4]);
    const N = 4;
    const dz = (x: Tensor) => grad((u: Tensor) => F.crossEntropy(u, target))(x) as Tensor;
    const hv = grad((x: Tensor) => dz(x).mul(v).sum())(z) as Tensor;
    // (diag(p) - ppᵀ) v = p ⊙ v - p (p·v), row by row.
    const p = softmax(z, 1).data() as Float64Array, vv = v.data() as Float64Array;
    const expected: number[] = [];
    for (let r = 0; r < N; r++) {
      let pv = 0;
      for (let c = 0; c < 5; c++) pv += p[r * 5 + c]! * vv[r * 5 + c]!;
      for (let c = 0; c < 5; c++) expected.push((p[r * 5 + c]! * vv[r * 5 + c]! - p[r * 5 + c]! * pv) / N);
    }
    expectAllClose(hv, expected, { ...tight, shape: [4, 5] });
    check(dz, [z]);
    check((x) => grad((u: Tensor) => F.crossEntropy(u, target, { labelSmoothing: 0.1 }))(x) as Tensor, [z]);
  });

  it('mseLoss: the Hessian is 2I/n in the input and -2I/n across input and target', () => {
    const x = f64([3, 4], 340), t = f64([3, 4], 341), v = f64([3, 4], 342);
    const n = 12;
    const dx = (a: Tensor, b: Tensor) => grad((u: Tensor, w: Tensor) => F.mseLoss(u, w))(a, b) as Tensor;
    const [hx, ht] = grad((a: Tensor, b: Tensor) => dx(a, b).mul(v).sum(), [0, 1])(x, t) as Tensor[];
    expectAllClose(hx!, map(v, (e) => (2 * e) / n), { ...tight, shape: [3, 4] });
    expectAllClose(ht!, map(v, (e) => (-2 * e) / n), { ...tight, shape: [3, 4] });
    check(dx, [x, t]);
  });
});

describe('createGraph through Tensor.backward', () => {
  it('x.grad is itself differentiable: d/dx (3x²) = 6x', () => {
    const x = t64([0.5, -1.5, 2], true);
    x.pow(3).sum().backward(undefined, { createGraph: true });
    const g = x.grad!;
    expect(g.requiresGrad).toBe(true);
    expectAllClose(g, [0.75, 6.75, 12], tight);
    x.grad = null;
    g.sum().backward();
    expectAllClose(x.grad!, [3, -9, 12], tight);
  });

  it('createGraph keeps the forward graph by default, which the recorded gradient runs through', () => {
    // exp's gradient reads exp's result, so d/dx of the recorded e^x goes back through that node.
    const x = t64([0.5, 1], true);
    x.exp().sum().backward(undefined, { createGraph: true });
    const g = x.grad!;
    x.grad = null;
    g.sum().backward();
    expectAllClose(x.grad!, [Math.exp(0.5), Math.E], tight);
  });
});
