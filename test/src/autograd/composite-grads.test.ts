/**
 * Gradients of composite ops (softmax, norms, losses, views, assembly, matmul variants…)
 * against central finite differences in float64. Composites carry no gradient code of
 * their own, so these check that the primitives' rules compose, including broadcasting,
 * strided views and the numerically stabilized forms.
 */
import { describe, expect, it } from 'vitest';
import {
  broadcastTo, cat, chunk, clamp, gather, gelu, grad, gradcheck, indexSelect, logSoftmax, logsumexp, maximum, minimum,
  nn, pad, pow, remainder, scatterAdd, softmax, split, stack, std, tensor, where, type GradcheckOptions, type Tensor,
} from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';
import { f64, f64AwayFromZero, f64Distinct, i32, t64 } from './inputs.js';

const F = nn;

/** gradcheck that fails the test with gradcheck's own report. */
function check(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): void {
  const result = gradcheck(fn, inputs, { ...options, raise: false });
  expect(result.ok, result.report).toBe(true);
}

// Rows spread over ±1e3, so exp of the unshifted values would overflow or vanish; the
// stabilized forms must still give finite values and exact gradients.
const extreme = t64([
  [1000, 999.5, -1000, 0, 1000.3],
  [-1000, -999, -1001, -1000.5, -2000],
  [3, -997, 1.5, 2.5, -1000],
]);

describe('softmax, logSoftmax, logsumexp', () => {
  it('softmax along the last axis and along axis 0', () => {
    check((x) => softmax(x, -1), [f64([3, 5], 100, -2, 2)]);
    check((x) => softmax(x, 0), [f64([3, 5], 101, -2, 2)]);
  });
  it('logSoftmax along axis 1 of a 3-D tensor', () => {
    check((x) => logSoftmax(x, 1), [f64([2, 4, 3], 102, -2, 2)]);
  });
  it('logsumexp over several axes, with and without keepdim', () => {
    check((x) => logsumexp(x, [0, 2]), [f64([2, 3, 4], 103, -2, 2)]);
    check((x) => logsumexp(x, [-1, -3], true), [f64([2, 3, 4], 104, -2, 2)]);
    check((x) => logsumexp(x), [f64([3, 4], 105, -2, 2)]);
  });
  it('stay finite and exact on rows with 1e3 spreads', () => {
    for (const f of [(x: Tensor) => softmax(x, 1), (x: Tensor) => logSoftmax(x, 1), (x: Tensor) => logsumexp(x, 1)]) {
      const y = f(extreme);
      expect(Array.from(y.data()).every(Number.isFinite)).toBe(true);
      check(f, [extreme]);
    }
    // Row 0: 1000.3 and 1000 dominate; the others contribute below 1e-300.
    const m = 1000.3;
    expectAllClose(logsumexp(extreme, 1).slice(0, 0, 1), [m + Math.log(1 + Math.exp(-0.3) + Math.exp(-0.8))], { rtol: 1e-14, atol: 0 });
  });
});

describe('statistics over several axes', () => {
  it('mean', () => {
    check((x) => x.mean([0, 2]), [f64([2, 3, 4], 110)]);
    check((x) => x.mean([-1, 1], true), [f64([2, 3, 4], 111)]);
  });
  it('var with and without Bessel correction', () => {
    check((x) => x.var([1, 2]), [f64([2, 3, 4], 112)]);
    check((x) => x.var([0, 2], true, 0), [f64([2, 3, 4], 113)]);
    check((x) => x.var(), [f64([3, 4], 114)]);
  });
  it('std', () => {
    check((x) => std(x, [0, 1], true), [f64([2, 3, 4], 115)]);
    check((x) => x.std(-1), [f64([3, 5], 116)]);
  });
  it('sum, max, min, prod, logsumexp reduce over non-adjacent axes', () => {
    check((x) => x.sum([0, 2], true), [f64([2, 3, 4], 117)]);
    check((x) => x.max([0, 2]), [f64Distinct([2, 3, 4], 118)]);
    check((x) => x.min([-1, 0], true), [f64Distinct([2, 3, 4], 119)]);
    check((x) => x.prod([0, 2]), [f64AwayFromZero([2, 3, 4], 120, 0.7, 1.3)]);
  });
});

describe('activations', () => {
  it('gelu, exact and tanh forms', () => {
    check((x) => gelu(x), [f64([3, 4], 130, -3, 3)]);
    check((x) => x.gelu('tanh'), [f64([3, 4], 131, -3, 3)]);
  });
  it('silu', () => check((x) => x.silu(), [f64([3, 4], 132, -4, 4)]));
  it('relu away from 0', () => check((x) => x.relu(), [f64AwayFromZero([3, 4], 133)]));
  it('clamp with both bounds, and with one, away from the bounds', () => {
    // Values at least 0.05 from -0.5 and 0.7, on both sides of each.
    const x = t64([[-1.2, -0.6, -0.4, 0.1], [0.65, 0.8, 1.5, -0.9], [0.3, -0.2, 0.75, 0.0]]);
    check((a) => clamp(a, -0.5, 0.7), [x]);
    check((a) => a.clamp(-0.5), [x]);
    check((a) => a.clamp(null, 0.7), [x]);
  });
});

describe('broadcasting binary ops', () => {
  it('sum gradients back to each operand shape', () => {
    for (const f of [
      (a: Tensor, b: Tensor) => a.add(b),
      (a: Tensor, b: Tensor) => a.sub(b),
      (a: Tensor, b: Tensor) => a.mul(b),
      (a: Tensor, b: Tensor) => a.div(b),
    ]) check(f, [f64([3, 1, 4], 140), f64AwayFromZero([2, 1], 141)]);
  });
  it('with a hand-computed sum: [3,1,4] + [2,1] broadcasts to [3,2,4]', () => {
    const a = f64([3, 1, 4], 142).requiresGrad_();
    const b = f64([2, 1], 143).requiresGrad_();
    a.mul(b).sum().backward();
    // d/da = Σ over the broadcast dim of b; d/db = Σ of a over everything it met.
    const [b0, b1] = Array.from(b.data());
    expectAllClose(a.grad!, new Array(12).fill(b0! + b1!), { shape: [3, 1, 4], rtol: 1e-14 });
    const aSum = Array.from(a.data()).reduce((p, v) => p + v, 0);
    expectAllClose(b.grad!, [[aSum], [aSum]], { rtol: 1e-14 });
  });
  it('0-d tensors and JS scalars', () => {
    check((a, s) => a.mul(s).add(s.exp()), [f64([3, 4], 144), t64(0.7)]);
    check((a) => a.mul(2.5).sub(1).div(3), [f64([3, 4], 145)]);
  });
  it('where with a broadcast condition and branches', () => {
    const cond = tensor([[true, false, false, true]]);
    check((a, b) => where(cond, a, b), [f64([3, 4], 146), f64([4], 147)]);
    check((a) => where(cond, a, 0.5), [f64([3, 1], 148)]);
  });
  it('maximum and minimum without ties, broadcasting', () => {
    const both = f64Distinct([16], 149);
    const a = both.slice(0, 0, 12).reshape([3, 4]).clone(), b = both.slice(0, 12, 16).clone();
    check((x, y) => maximum(x, y), [a, b]);
    check((x, y) => minimum(x, y), [a, b]);
  });
  it('pow in both operands: tensor exponents, scalar exponents, scalar bases', () => {
    check((a, b) => pow(a, b), [f64([3, 4], 150, 0.5, 2), f64([4], 151, -2, 2)]);
    // Integer exponents are smooth for negative bases too.
    check((a) => a.pow(3), [f64([3, 4], 152, -2, 2)]);
    check((b) => pow(2, b), [f64([3, 4], 153, -2, 2)]);
  });
  it('remainder in both operands, away from its jumps, with a broadcast divisor', () => {
    const b = t64([0.7, -1.3, 1.1]);
    // a/b = k + 0.3 … k + 0.7 for each column's divisor.
    const a = t64([[0.7 * 2.3, -1.3 * 0.4, 1.1 * -1.6], [0.7 * -0.5, -1.3 * 3.6, 1.1 * 0.35]]);
    check((x, y) => remainder(x, y), [a, b]);
  });
});

describe('matmul', () => {
  it('1-D · 1-D, 1-D @ 2-D, 2-D @ 1-D', () => {
    check((a, b) => a.matmul(b), [f64([4], 160), f64([4], 161)]);
    check((a, b) => a.matmul(b), [f64([4], 162), f64([4, 3], 163)]);
    check((a, b) => a.matmul(b), [f64([3, 4], 164), f64([4], 165)]);
  });
  it('batched, with broadcast batch dims', () => {
    check((a, b) => a.matmul(b), [f64([2, 1, 3, 4], 166), f64([5, 4, 2], 167)]);
    check((a, b) => a.matmul(b), [f64([2, 3, 4], 168), f64([4, 2], 169)]);
    check((a, b) => a.matmul(b), [f64([3], 170), f64([2, 3, 2], 171)]);
  });
  it('against a transposed right operand (x @ Wᵀ)', () => {
    check((x, w) => x.matmul(w.t()), [f64([3, 4], 172), f64([5, 4], 173)]);
  });
});

describe('views', () => {
  it('reshape, including of a non-contiguous tensor', () => {
    check((x) => x.reshape([6, 2]), [f64([3, 4], 180)]);
    check((x) => x.permute([1, 0, 2]).reshape([3, -1]), [f64([2, 3, 4], 181)]);
    check((x) => x.flatten(1), [f64([2, 3, 4], 182)]);
  });
  it('permute, transpose, t', () => {
    check((x) => x.permute([2, 0, 1]).mul(x.permute([2, 0, 1])), [f64([2, 3, 4], 183)]);
    check((x) => x.transpose(0, 2), [f64([2, 3, 4], 184)]);
    check((x) => x.t(), [f64([3, 4], 185)]);
  });
  it('expand and broadcastTo, then a non-linear use', () => {
    check((x) => x.expand([2, 3, 4]).sin(), [f64([3, 1], 186)]);
    check((x) => broadcastTo(x, [3, 2, 4]).exp(), [f64([4], 187)]);
    check((x) => x.expand([5, 3]).mul(2), [f64([], 188)]);
  });
  it('slice with steps 2 and 3 and offsets, on one and several dims', () => {
    const x = f64([5, 7], 189);
    check((a) => a.slice(1, 0, null, 2), [x]);
    check((a) => a.slice(1, 1, null, 2), [x]);
    check((a) => a.slice(1, 0, null, 3), [x]);
    // Starting at 2 in 7 with step 3 takes 2 and 5; the gradient's spread (6) overhangs by one.
    check((a) => a.slice(1, 2, null, 3), [x]);
    check((a) => a.slice(1, 1, 6, 3), [x]);
    check((a) => a.slice(0, -4, -1, 2).slice(1, 1, null, 3), [x]);
    check((a) => a.slice(0, 1, 4).slice(1, 2, 5).exp(), [x]);
  });
  it('narrow, squeeze, unsqueeze', () => {
    check((x) => x.narrow(1, 1, 2), [f64([3, 4], 190)]);
    check((x) => x.narrow(0, -2, 2), [f64([3, 4], 191)]);
    check((x) => x.squeeze().unsqueeze(0).unsqueeze(-1), [f64([3, 1, 4], 192)]);
    check((x) => x.squeeze(1), [f64([3, 1, 4], 193)]);
  });
});

describe('assembling and splitting', () => {
  it('cat of three along axis 0 and along the last axis', () => {
    check((a, b, c) => cat([a, b, c], 0), [f64([1, 3], 200), f64([2, 3], 201), f64([3, 3], 202)]);
    check((a, b) => cat([a, b], -1).sin(), [f64([2, 2, 3], 203), f64([2, 2, 1], 204)]);
  });
  it('stack along a middle axis', () => {
    check((a, b, c) => stack([a, b, c], 1), [f64([2, 3], 205), f64([2, 3], 206), f64([2, 3], 207)]);
  });
  it('split and chunk: each piece used differently', () => {
    check((x) => {
      const [p, q, r] = split(x, [1, 3, 2], 1);
      return cat([p!.exp(), q!.mul(3), r!.sin()], 1);
    }, [f64([2, 6], 208)]);
    check((x) => {
      const pieces = chunk(x, 3, 0);
      return stack(pieces.map((p, i) => p.mul(i + 1).sum(0)), 0);
    }, [f64([7, 2], 209)]);
  });
  it('pad: growing, cropping with negative amounts, mixed, with a fill value', () => {
    const x = f64([4, 5], 210);
    check((a) => pad(a, [2, 1]), [x]);
    check((a) => pad(a, [-1, -2, 0, -1]), [x]);
    check((a) => pad(a, [-1, 2, 1, -2]).exp(), [x]);
    check((a) => pad(a, [1, 1, 1, 1], 3), [x]);
  });
  it('gather, indexSelect and scatterAdd with repeated indices', () => {
    const rows = i32([2, 0, 2, 1, 2]);
    check((x) => indexSelect(x, 0, rows), [f64([3, 4], 211)]);
    check((x) => indexSelect(x, 1, i32([3, 3, 0])), [f64([3, 4], 212)]);
    check((x) => gather(x, 0, i32([[0, 2, 2, 1], [0, 0, 1, 1]])), [f64([3, 4], 213)]);
    check((b, s) => scatterAdd(b, 0, i32([[0, 2, 2, 1], [0, 0, 1, 1]]), s), [f64([3, 4], 214), f64([2, 4], 215)]);
  });
});

describe('products with zeros and extrema with ties', () => {
  // Row 0 has one zero, row 1 two zeros, row 2 none: each case of the prod rule.
  const withZeros = t64([[1.5, 0, 2, -0.7], [0, 1.2, 0, 0.9], [0.8, -1.1, 1.3, 0.6]]);

  it('prod with one zero and two zeros in a group (gradcheck; prod is multilinear, so smooth there)', () => {
    check((x) => x.prod(1), [withZeros]);
    check((x) => x.prod(0), [withZeros]);
    check((x) => x.prod(), [withZeros]);
  });
  it('prod with zeros: the gradient by hand', () => {
    const g = grad((x: Tensor) => x.prod(1).sum())(withZeros) as Tensor;
    expectAllClose(g, [
      [0, 1.5 * 2 * -0.7, 0, 0], // only the zero gets the product of the others
      [0, 0, 0, 0], // two zeros: every product of the others contains a zero
      [-1.1 * 1.3 * 0.6, 0.8 * 1.3 * 0.6, 0.8 * -1.1 * 0.6, 0.8 * -1.1 * 1.3],
    ], { rtol: 1e-14 });
  });
  it('max and min over a list of axes (or all) split the gradient evenly between tied elements', () => {
    const x = t64([[1, 3, 3, 2], [5, 5, 5, 0], [-1, -4, -4, 7]]);
    const gMax = grad((a: Tensor) => a.max([1]).sum())(x) as Tensor;
    expectAllClose(gMax, [[0, 0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3, 0], [0, 0, 0, 1]], { rtol: 1e-14 });
    const gMin = grad((a: Tensor) => a.min([1]).mul(t64([1, 2, 3])).sum())(x) as Tensor;
    expectAllClose(gMin, [[1, 0, 0, 0], [0, 0, 0, 2], [0, 1.5, 1.5, 0]], { rtol: 1e-14 });
    const gAll = grad((a: Tensor) => a.max())(x) as Tensor;
    expectAllClose(gAll, [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]], { rtol: 1e-14 });
  });
  it('max and min over one axis send the gradient to the first extreme element, as PyTorch', () => {
    const x = t64([[1, 3, 3, 2], [5, 5, 5, 0], [-1, -4, -4, 7]]);
    const gMax = grad((a: Tensor) => a.max(1).sum())(x) as Tensor;
    expectAllClose(gMax, [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], { rtol: 1e-14 });
    const gMin = grad((a: Tensor) => a.min(1).mul(t64([1, 2, 3])).sum())(x) as Tensor;
    expectAllClose(gMin, [[1, 0, 0, 0], [0, 0, 0, 2], [0, 3, 0, 0]], { rtol: 1e-14 });
  });
  it('a two-way tie matches the central difference, which also splits evenly', () => {
    check((a) => a.max([1]), [t64([[1, 3, 3, 2], [0.5, -1, 0.25, 0.5]])]);
    check((a) => a.min([0]), [t64([[1, 3, -2], [1, 4, -2]])]);
  });
  it('maximum and minimum split a tie evenly between the operands', () => {
    const a = t64([1, 2, 3], true), b = t64([1, 5, 0], true);
    maximum(a, b).sum().backward();
    expectAllClose(a.grad!, [0.5, 0, 1]);
    expectAllClose(b.grad!, [0.5, 1, 0]);
    const c = t64([1, 2, 3], true), d = t64([1, 5, 0], true);
    minimum(c, d).sum().backward();
    expectAllClose(c.grad!, [0.5, 1, 0]);
    expectAllClose(d.grad!, [0.5, 0, 1]);
  });
});

describe('losses', () => {
  const target = i32([2, 0, 3, 3, 1]);

  it('crossEntropy with class targets, mean, sum and none', () => {
    check((z) => F.crossEntropy(z, target), [f64([5, 4], 220, -2, 2)]);
    check((z) => F.crossEntropy(z, target, { reduction: 'sum' }), [f64([5, 4], 221, -2, 2)]);
    check((z) => F.crossEntropy(z, target, { reduction: 'none' }), [f64([5, 4], 222, -2, 2)]);
  });
  it('crossEntropy with label smoothing', () => {
    check((z) => F.crossEntropy(z, target, { labelSmoothing: 0.1 }), [f64([5, 4], 223, -2, 2)]);
  });
  it('crossEntropy over extra dims [N, C, L] with targets [N, L]', () => {
    check((z) => F.crossEntropy(z, i32([[0, 2, 1], [1, 1, 0]])), [f64([2, 3, 3], 224, -2, 2)]);
  });
  it('crossEntropy with probability targets, in logits and targets, with and without smoothing', () => {
    const probs = softmax(f64([5, 4], 225), 1);
    check((z, p) => F.crossEntropy(z, p), [f64([5, 4], 226, -2, 2), probs]);
    check((z, p) => F.crossEntropy(z, p, { labelSmoothing: 0.2 }), [f64([5, 4], 227, -2, 2), probs]);
  });
  it('crossEntropy on logits with 1e3 spreads', () => {
    check((z) => F.crossEntropy(z, i32([2, 0, 1])), [extreme]);
  });
  it('nllLoss of log-probabilities', () => {
    check((z) => F.nllLoss(logSoftmax(z, 1), target), [f64([5, 4], 228, -2, 2)]);
    check((lp) => F.nllLoss(lp, target, { reduction: 'sum' }), [f64([5, 4], 229, -3, 0)]);
  });
  it('mseLoss in input and target', () => {
    check((x, t) => F.mseLoss(x, t), [f64([3, 4], 230), f64([3, 4], 231)]);
    check((x, t) => F.mseLoss(x, t, { reduction: 'none' }), [f64([3, 4], 232), f64([3, 4], 233)]);
  });
  it('binaryCrossEntropyWithLogits, with and without posWeight (logits away from 0, where |x| kinks each term)', () => {
    const y = t64([[1, 0, 0.3, 1], [0, 0.5, 1, 0], [1, 1, 0, 0.8]]);
    check((z, t) => F.binaryCrossEntropyWithLogits(z, t), [f64AwayFromZero([3, 4], 234, 0.2, 3), y]);
    check((z, t, w) => F.binaryCrossEntropyWithLogits(z, t, { posWeight: w }), [f64AwayFromZero([3, 4], 235, 0.2, 3), y, t64([0.5, 2, 1, 3])]);
    check((z) => F.binaryCrossEntropyWithLogits(z, y, { posWeight: 2.5, reduction: 'sum' }), [f64AwayFromZero([3, 4], 236, 0.2, 3)]);
  });
});

describe('layers', () => {
  it('layerNorm over the last dim and the last two, with and without affine parameters', () => {
    check((x, w, b) => F.layerNorm(x, [4], w, b), [f64([3, 4], 240, -2, 2), f64([4], 241), f64([4], 242)]);
    check((x) => F.layerNorm(x, [3, 4]), [f64([2, 3, 4], 243, -2, 2)]);
    check((x, w) => F.layerNorm(x, [3, 4], w, null, 1e-3), [f64([2, 3, 4], 244, -2, 2), f64([3, 4], 245)]);
  });
  it('linear with and without bias, on 2-D and 3-D inputs', () => {
    check((x, w, b) => F.linear(x, w, b), [f64([5, 4], 250), f64([3, 4], 251), f64([3], 252)]);
    check((x, w) => F.linear(x, w), [f64([2, 5, 4], 253), f64([3, 4], 254)]);
  });
});
