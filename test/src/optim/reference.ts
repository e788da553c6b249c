/**
 * Float64 reference updates written from PyTorch's single-tensor (for-loop) implementations
 * of torch.optim.SGD, Adam and AdamW, on plain arrays, plus the fixed gradients they are fed.
 */
import { rng, uniform } from '../../helpers.js';

export interface SgdSettings {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/**
 * PyTorch's SGD: d = g + wd·p; the momentum buffer starts as a copy of the first d (no
 * dampening on that step), then buf = μ·buf + (1 - τ)·d; Nesterov uses d + μ·buf; p -= lr·d.
 * Returns the parameters after every step.
 */
export function sgdReference(p0: readonly number[], grads: readonly number[][], s: SgdSettings): number[][] {
  const { lr, momentum = 0, dampening = 0, nesterov = false, weightDecay = 0 } = s;
  let p = p0.slice();
  let buf: number[] | null = null;
  const trajectory: number[][] = [];
  for (const g of grads) {
    let d = g.map((gi, i) => gi + weightDecay * p[i]!);
    if (momentum !== 0) {
      const b: number[] = buf === null ? d.slice() : buf.map((bi, i) => momentum * bi + (1 - dampening) * d[i]!);
      buf = b;
      d = nesterov ? d.map((di, i) => di + momentum * b[i]!) : b.slice();
    }
    p = p.map((pi, i) => pi - lr * d[i]!);
    trajectory.push(p.slice());
  }
  return trajectory;
}

export interface AdamSettings {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  /** AdamW: p *= 1 - lr·wd before the update, instead of adding wd·p to the gradient. */
  decoupled: boolean;
}

/**
 * PyTorch's Adam/AdamW: m = β1·m + (1-β1)·g, v = β2·v + (1-β2)·g², AMSGrad keeps the running
 * max of v; denom = √v̂ / √(1-β2^t) + ε; p -= lr/(1-β1^t) · m/denom. Returns every step's p.
 */
export function adamReference(p0: readonly number[], grads: readonly number[][], s: AdamSettings): number[][] {
  const [b1, b2] = s.betas;
  let p = p0.slice();
  let m = p.map(() => 0), v = p.map(() => 0), vMax = p.map(() => 0);
  const trajectory: number[][] = [];
  grads.forEach((g0, k) => {
    const t = k + 1;
    let g = g0.slice();
    if (s.weightDecay !== 0) {
      if (s.decoupled) p = p.map((pi) => pi * (1 - s.lr * s.weightDecay));
      else g = g.map((gi, i) => gi + s.weightDecay * p[i]!);
    }
    m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]!);
    v = v.map((vi, i) => b2 * vi + (1 - b2) * g[i]! * g[i]!);
    if (s.amsgrad) vMax = vMax.map((x, i) => Math.max(x, v[i]!));
    const vHat = s.amsgrad ? vMax : v;
    const stepSize = s.lr / (1 - b1 ** t);
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    p = p.map((pi, i) => pi - (stepSize * m[i]!) / (Math.sqrt(vHat[i]!) / bc2Sqrt + s.eps));
    trajectory.push(p.slice());
  });
  return trajectory;
}

/** Initial parameters and five fixed gradients, large first and then small, so AMSGrad's max matters. */
export function fixedProblem(seed: number, n = 6): { p0: number[]; grads: number[][] } {
  const next = rng(seed);
  const p0 = uniform(next, n, -1, 1);
  const grads = [3, 1, 0.2, 2, 0.05].map((scale) => uniform(next, n, -1, 1).map((g) => g * scale));
  return { p0, grads };
}
