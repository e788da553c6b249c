/**
 * Hand-written JavaScript for the workloads of bench/fused.ts: what a careful programmer
 * writes directly over Float32Arrays, with no library in between. These loops are the
 * reference a fused jit kernel is measured against, since scalar JS cannot do much better.
 *
 * Rules they follow, so that the comparison is like for like:
 *   - the same math as kiln (the same formula, and divisions where kiln divides), fused
 *     into as few passes as the data dependencies allow;
 *   - intermediates stay float64 (plain JS numbers) and only the stored result is rounded
 *     to float32, as anyone writing the loop by hand would do; kiln instead rounds after
 *     every op so that its fused kernels reproduce eager bits. The checks in fused.ts bound
 *     the difference;
 *   - every call returns a freshly allocated output, as every library in the comparison
 *     does: allocating (and zero-filling) the result is part of the cost of an op.
 */
import { erf as erfF32, exp as expF32, tanh as tanhF32 } from '../compiler/scalar/f32-math.js';

// GELU.

/**
 * erf(x) from Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7, a couple of float32 ulps
 * near 1), built on Math.exp: the usual way to get erf when only Math is at hand. It is
 * also the formula TensorFlow.js uses.
 */
export function erfMath(x: number): number {
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return x < 0 ? -y : y;
}

/** gelu(x*a + b), exact erf form, in one pass with kiln's float32 erf (within 1 ulp). */
export function geluKiln(x: Float32Array, a: Float32Array, b: Float32Array): Float32Array {
  const n = x.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const y = x[i]! * a[i]! + b[i]!;
    out[i] = 0.5 * y * (1 + erfF32(y * Math.SQRT1_2));
  }
  return out;
}

/** gelu(x*a + b) in one pass with the Math.exp-based erf above. */
export function geluMath(x: Float32Array, a: Float32Array, b: Float32Array): Float32Array {
  const n = x.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const y = x[i]! * a[i]! + b[i]!;
    out[i] = 0.5 * y * (1 + erfMath(y * Math.SQRT1_2));
  }
  return out;
}

// Softmax over the last axis.

/**
 * Three passes per row: the max, then exp(x - max) stored into the output while summing,
 * then the division (as kiln divides; a reciprocal multiply would round differently).
 * A row of 1024 floats stays in L1 between passes. The max is the stable shift kiln uses;
 * it is finite for the finite inputs here, so kiln's guard for infinite rows is not needed.
 * The two variants differ only in the exp they call. Each is written out in full: a shared
 * loop taking exp as a parameter would see two callees at one call site and stop V8 from
 * inlining either.
 */
export function softmaxKiln(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    const end = base + cols;
    let m = -Infinity;
    for (let i = base; i < end; i++) {
      const v = x[i]!;
      if (v > m) m = v;
    }
    let sum = 0;
    for (let i = base; i < end; i++) {
      const e = expF32(x[i]! - m);
      out[i] = e;
      sum += e;
    }
    for (let i = base; i < end; i++) out[i] = out[i]! / sum;
  }
  return out;
}

/** Softmax rows as above, with Math.exp. */
export function softmaxMath(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    const end = base + cols;
    let m = -Infinity;
    for (let i = base; i < end; i++) {
      const v = x[i]!;
      if (v > m) m = v;
    }
    let sum = 0;
    for (let i = base; i < end; i++) {
      const e = Math.exp(x[i]! - m);
      out[i] = e;
      sum += e;
    }
    for (let i = base; i < end; i++) out[i] = out[i]! / sum;
  }
  return out;
}

// LayerNorm over the last axis.

/**
 * Two-pass statistics per row (the mean, then the mean of squared deviations: the biased
 * variance kiln uses, without the cancellation of the one-pass sum of squares), then one
 * pass writing (x - mean) / sqrt(var + eps) * weight + bias. Like kiln it divides by the
 * standard deviation rather than multiplying by its reciprocal.
 */
export function layerNorm(x: Float32Array, weight: Float32Array, bias: Float32Array, rows: number, cols: number, eps: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    const end = base + cols;
    let s = 0;
    for (let i = base; i < end; i++) s += x[i]!;
    const mean = s / cols;
    let ss = 0;
    for (let i = base; i < end; i++) {
      const d = x[i]! - mean;
      ss += d * d;
    }
    const std = Math.sqrt(ss / cols + eps);
    for (let i = base, j = 0; i < end; i++, j++) out[i] = ((x[i]! - mean) / std) * weight[j]! + bias[j]!;
  }
  return out;
}

// Matmul.

/** Packed panels, grown on demand and reused: scratch a hand-tuned routine keeps around. */
let packA = new Float64Array(0);
let packB = new Float64Array(0);

/**
 * C = A·B for float32 A [m, k] and B [k, n] given by strides (so transposed operands need
 * no copy), into the row-major C [m, n]. Cache- and register-blocked:
 *   - all of B is packed once into 4-column panels, each a contiguous run of k rows of 4
 *     float64s, so the inner loop reads B sequentially and without float32 conversions;
 *   - A is packed 4 rows at a time the same way (transposed to [k][4]) and then swept
 *     across every B panel while it sits in L1;
 *   - a 4x4 block of C is accumulated in 16 locals, so each k step does 8 loads for 16
 *     multiply-adds. (3x4, 4x3 and 2x6 blocks measured within a few percent of this on
 *     x64, 2x4 and 4x2 about 10% slower, and blocking for L2 made no difference: at about
 *     6 GFLOP/s the loop is bound by scalar float throughput, not by memory.)
 * Each C element is the float64 sum over k in order, rounded once when stored, so the
 * result equals kiln's matmul bit for bit. Ragged edges are packed as zeros and not stored.
 */
export function matmulInto(
  c: Float32Array, a: Float32Array, sam: number, sak: number, b: Float32Array, sbk: number, sbn: number,
  m: number, n: number, k: number,
): void {
  const panels = (n + 3) >> 2;
  if (packB.length < panels * 4 * k) packB = new Float64Array(panels * 4 * k);
  if (packA.length < 4 * k) packA = new Float64Array(4 * k);
  const pb = packB, pa = packA;
  for (let p = 0, q = 0; p < panels; p++) {
    const j0 = p * 4, w = Math.min(4, n - j0);
    for (let kk = 0, src = j0 * sbn; kk < k; kk++, src += sbk, q += 4) {
      pb[q] = b[src]!;
      pb[q + 1] = w > 1 ? b[src + sbn]! : 0;
      pb[q + 2] = w > 2 ? b[src + 2 * sbn]! : 0;
      pb[q + 3] = w > 3 ? b[src + 3 * sbn]! : 0;
    }
  }
  for (let i = 0; i < m; i += 4) {
    const h = Math.min(4, m - i);
    for (let kk = 0, q = 0, src = i * sam; kk < k; kk++, q += 4, src += sak) {
      pa[q] = a[src]!;
      pa[q + 1] = h > 1 ? a[src + sam]! : 0;
      pa[q + 2] = h > 2 ? a[src + 2 * sam]! : 0;
      pa[q + 3] = h > 3 ? a[src + 3 * sam]! : 0;
    }
    for (let p = 0; p < panels; p++) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let kk = 0, qa = 0, qb = p * 4 * k; kk < k; kk++, qa += 4, qb += 4) {
        const b0 = pb[qb]!, b1 = pb[qb + 1]!, b2 = pb[qb + 2]!, b3 = pb[qb + 3]!;
        const a0 = pa[qa]!;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        const a1 = pa[qa + 1]!;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        const a2 = pa[qa + 2]!;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        const a3 = pa[qa + 3]!;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      const j0 = p * 4;
      if (h === 4 && j0 + 4 <= n) {
        let o = i * n + j0;
        c[o] = c00; c[o + 1] = c01; c[o + 2] = c02; c[o + 3] = c03; o += n;
        c[o] = c10; c[o + 1] = c11; c[o + 2] = c12; c[o + 3] = c13; o += n;
        c[o] = c20; c[o + 1] = c21; c[o + 2] = c22; c[o + 3] = c23; o += n;
        c[o] = c30; c[o + 1] = c31; c[o + 2] = c32; c[o + 3] = c33;
      } else {
        const block = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
        for (let r = 0; r < h; r++) for (let s = 0; s < 4 && j0 + s < n; s++) c[(i + r) * n + j0 + s] = block[r * 4 + s]!;
      }
    }
  }
}

/** Row-major A [m, k] times row-major B [k, n]. */
export function matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const c = new Float32Array(m * n);
  matmulInto(c, a, k, 1, b, n, 1, m, n, k);
  return c;
}

// The per-call overhead workload.

/** The 10-op chain of fused.ts on two vectors in one loop: the least any call can cost. */
export function chain(a: Float32Array, b: Float32Array): Float32Array {
  const n = a.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = a[i]!, y = b[i]!;
    let v = (x + y) * y - x;
    v = v * 0.5 + 1;
    v = v > x ? v : x;
    v = (v * v - 0.25) * y;
    out[i] = tanhF32(v);
  }
  return out;
}

// An MLP training step.

/** One fully connected layer: weight [out, in] as in kiln's Linear, bias [out]. */
export interface HandLinear {
  weight: Float32Array;
  bias: Float32Array;
  inFeatures: number;
  outFeatures: number;
}

/** y[rows, out] = x[rows, in] · weightᵀ + bias, optionally through ReLU. */
function linearForward(l: HandLinear, x: Float32Array, rows: number, relu: boolean): Float32Array {
  const { inFeatures: fi, outFeatures: fo } = l;
  const y = new Float32Array(rows * fo);
  // weightᵀ is B [in, out]: element (kk, j) sits at j * in + kk.
  matmulInto(y, x, fi, 1, l.weight, 1, fi, rows, fo, fi);
  for (let r = 0, o = 0; r < rows; r++) {
    for (let j = 0; j < fo; j++, o++) {
      const v = y[o]! + l.bias[j]!;
      y[o] = relu && v < 0 ? 0 : v;
    }
  }
  return y;
}

/**
 * Gradients of a layer from dy [rows, out] and its input x [rows, in]: dW = dyᵀ·x and
 * db = Σ_rows dy, and (when asked) dx = dy·W, masked by the ReLU that produced x.
 */
function linearBackward(l: HandLinear, x: Float32Array, dy: Float32Array, rows: number, wantDx: boolean) {
  const { inFeatures: fi, outFeatures: fo } = l;
  const dW = new Float32Array(fo * fi);
  matmulInto(dW, dy, 1, fo, x, fi, 1, fo, fi, rows);
  const db = new Float32Array(fo);
  for (let j = 0; j < fo; j++) {
    let s = 0;
    for (let r = 0, o = j; r < rows; r++, o += fo) s += dy[o]!;
    db[j] = s;
  }
  let dx: Float32Array | undefined;
  if (wantDx) {
    dx = new Float32Array(rows * fi);
    matmulInto(dx, dy, fo, 1, l.weight, fi, 1, rows, fi, fo);
    // x is a ReLU output: its gradient passes only where it was positive.
    for (let i = 0; i < dx.length; i++) if (!(x[i]! > 0)) dx[i] = 0;
  }
  return { dW, db, dx };
}

/**
 * One SGD step of a ReLU MLP under mean cross entropy, by hand: forward, the loss and its
 * gradient in one pass over the logits, backward through every layer, then the update.
 * Returns the loss. Layers between the first and the last are followed by ReLU.
 */
export function mlpStep(layers: readonly HandLinear[], x: Float32Array, labels: Int32Array, rows: number, lr: number): number {
  const acts: Float32Array[] = [x];
  for (let i = 0; i < layers.length; i++) acts.push(linearForward(layers[i]!, acts[i]!, rows, i < layers.length - 1));
  const logits = acts[layers.length]!;
  const classes = layers[layers.length - 1]!.outFeatures;
  // Loss: mean of logsumexp(z) - z[label]; gradient: (softmax(z) - onehot(label)) / rows.
  const grad = new Float32Array(rows * classes);
  let loss = 0;
  for (let r = 0, base = 0; r < rows; r++, base += classes) {
    let m = -Infinity;
    for (let j = 0; j < classes; j++) m = Math.max(m, logits[base + j]!);
    let s = 0;
    for (let j = 0; j < classes; j++) s += Math.exp(logits[base + j]! - m);
    const label = labels[r]!;
    loss += m + Math.log(s) - logits[base + label]!;
    for (let j = 0; j < classes; j++) grad[base + j] = (Math.exp(logits[base + j]! - m) / s - (j === label ? 1 : 0)) / rows;
  }
  let dy: Float32Array = grad;
  const updates: { dW: Float32Array; db: Float32Array }[] = [];
  for (let i = layers.length - 1; i >= 0; i--) {
    const g = linearBackward(layers[i]!, acts[i]!, dy, rows, i > 0);
    updates[i] = g;
    if (g.dx) dy = g.dx;
  }
  // The update comes last: the backward pass above needs the weights as they were.
  layers.forEach((l, i) => {
    const { dW, db } = updates[i]!;
    for (let j = 0; j < dW.length; j++) l.weight[j] = l.weight[j]! - lr * dW[j]!;
    for (let j = 0; j < db.length; j++) l.bias[j] = l.bias[j]! - lr * db[j]!;
  });
  return loss / rows;
}
