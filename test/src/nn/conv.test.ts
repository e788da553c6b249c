/**
 * conv2d and the pools against plain float64 loops over random geometries (stride, padding,
 * dilation, groups, bias), their errors, and the Conv2d / pool layers.
 */
import { describe, expect, it } from 'vitest';
import { DTypeError, ShapeError, Tensor, ValueError, manualSeed, nn, rand, tensor, transpose } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';
import { randInt, withSeed } from '../random-inputs.js';

type Quad = [number, number, number, number];

/** Random float64 values in [-1, 1) and the tensor holding them. */
function randomTensor(next: () => number, shape: number[], dtype: 'float32' | 'float64' = 'float64'): { values: number[]; t: Tensor } {
  const values = Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => 2 * next() - 1);
  return { values, t: tensor(Float64Array.from(values), { shape, dtype }) };
}

const outLen = (n: number, k: number, s: number, p: number, d: number): number => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;

/** Direct convolution: out[n][o][i][j] = b[o] + Σ x[n][g·cg + c][i·s - p + a·d][j·s - p + b·d] · w[o][c][a][b]. */
function convRef(x: number[], xs: Quad, w: number[], ws: Quad, bias: number[] | null, s: [number, number], p: [number, number], d: [number, number], groups: number): number[] {
  const [n, c, h, wd] = xs;
  const [o, cg, kh, kw] = ws;
  const ho = outLen(h, kh, s[0], p[0], d[0]), wo = outLen(wd, kw, s[1], p[1], d[1]);
  const og = o / groups;
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let oc = 0; oc < o; oc++) {
      const g = Math.floor(oc / og);
      for (let i = 0; i < ho; i++) {
        for (let j = 0; j < wo; j++) {
          let acc = bias ? bias[oc]! : 0;
          for (let ci = 0; ci < cg; ci++) {
            for (let a = 0; a < kh; a++) {
              for (let e = 0; e < kw; e++) {
                const y = i * s[0] - p[0] + a * d[0], z = j * s[1] - p[1] + e * d[1];
                if (y < 0 || y >= h || z < 0 || z >= wd) continue;
                acc += x[((b * c + g * cg + ci) * h + y) * wd + z]! * w[((oc * cg + ci) * kh + a) * kw + e]!;
              }
            }
          }
          out.push(acc);
        }
      }
    }
  }
  void c;
  return out;
}

/** Pooling over windows: max with -Infinity padding, or the mean (optionally of real elements only). */
function poolRef(kind: 'max' | 'avg', x: number[], xs: Quad, k: [number, number], s: [number, number], p: [number, number], d: [number, number], countIncludePad = true): number[] {
  const [n, c, h, w] = xs;
  const ho = outLen(h, k[0], s[0], p[0], d[0]), wo = outLen(w, k[1], s[1], p[1], d[1]);
  const out: number[] = [];
  for (let b = 0; b < n * c; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        let m = -Infinity, total = 0, real = 0;
        for (let a = 0; a < k[0]; a++) {
          for (let e = 0; e < k[1]; e++) {
            const y = i * s[0] - p[0] + a * d[0], z = j * s[1] - p[1] + e * d[1];
            if (y < 0 || y >= h || z < 0 || z >= w) continue;
            const v = x[(b * h + y) * w + z]!;
            m = Math.max(m, v);
            total += v;
            real++;
          }
        }
        out.push(kind === 'max' ? m : total / (countIncludePad ? k[0] * k[1] : real));
      }
    }
  }
  return out;
}

describe('conv2d', () => {
  it('matches a direct float64 loop over random shapes, strides, paddings, dilations, groups and biases', () => {
    withSeed('conv2d random geometries', (next) => {
      let checked = 0;
      while (checked < 40) {
        const groups = next() < 0.25 ? 2 : 1;
        const n = randInt(next, 1, 3), c = groups * randInt(next, 1, 3), o = groups * randInt(next, 1, 3);
        const h = randInt(next, 1, 9), w = randInt(next, 1, 9);
        const kh = randInt(next, 1, 3), kw = randInt(next, 1, 3);
        const s: [number, number] = [randInt(next, 1, 3), randInt(next, 1, 3)];
        const p: [number, number] = [randInt(next, 0, 2), randInt(next, 0, 2)];
        const d: [number, number] = [randInt(next, 1, 2), randInt(next, 1, 2)];
        if (outLen(h, kh, s[0], p[0], d[0]) <= 0 || outLen(w, kw, s[1], p[1], d[1]) <= 0) continue;
        const x = randomTensor(next, [n, c, h, w]);
        const wt = randomTensor(next, [o, c / groups, kh, kw]);
        const b = next() < 0.5 ? randomTensor(next, [o]) : null;
        const y = nn.conv2d(x.t, wt.t, b?.t, { stride: s, padding: p, dilation: d, groups });
        const expected = convRef(x.values, [n, c, h, w], wt.values, [o, c / groups, kh, kw], b?.values ?? null, s, p, d, groups);
        expectAllClose(y, expected, { shape: [n, o, outLen(h, kh, s[0], p[0], d[0]), outLen(w, kw, s[1], p[1], d[1])], dtype: 'float64', rtol: 1e-12, atol: 1e-12 });
        checked++;
      }
    });
  });

  it('computes float32 within float32 rounding, and takes scalar options for both dims', () => {
    withSeed('conv2d float32', (next) => {
      const x = randomTensor(next, [2, 3, 10, 8], 'float32');
      const w = randomTensor(next, [5, 3, 3, 3], 'float32');
      const b = randomTensor(next, [5], 'float32');
      const y = nn.conv2d(x.t, w.t, b.t, { stride: 2, padding: 1, dilation: 1 });
      const expected = convRef(x.values.map(Math.fround), [2, 3, 10, 8], w.values.map(Math.fround), [5, 3, 3, 3], b.values.map(Math.fround), [2, 2], [1, 1], [1, 1], 1);
      expectAllClose(y, expected, { shape: [2, 5, 5, 4], dtype: 'float32', rtol: 1e-5, atol: 1e-5 });
    });
  });

  it('reads strided (non-contiguous) inputs and weights', () => {
    withSeed('conv2d strided operands', (next) => {
      const x = randomTensor(next, [2, 3, 6, 5]);
      const w = randomTensor(next, [4, 3, 2, 3]);
      // Transposed twice: same values, non-contiguous strides.
      const xt = transpose(transpose(x.t, 2, 3).contiguous(), 2, 3);
      const wt = transpose(transpose(w.t, 0, 1).contiguous(), 0, 1);
      expect(xt.isContiguous).toBe(false);
      expectAllClose(nn.conv2d(xt, wt, null, { padding: [1, 0] }), convRef(x.values, [2, 3, 6, 5], w.values, [4, 3, 2, 3], null, [1, 1], [1, 0], [1, 1], 1), { shape: [2, 4, 7, 3], rtol: 1e-12, atol: 1e-12 });
    });
  });

  it('takes an unbatched [C, H, W] input and returns [O, Ho, Wo]', () => {
    withSeed('conv2d unbatched', (next) => {
      const x = randomTensor(next, [2, 5, 5]);
      const w = randomTensor(next, [3, 2, 3, 3]);
      const y = nn.conv2d(x.t, w.t, null, { padding: 1 });
      expectAllClose(y, convRef(x.values, [1, 2, 5, 5], w.values, [3, 2, 3, 3], null, [1, 1], [1, 1], [1, 1], 1), { shape: [3, 5, 5], rtol: 1e-12, atol: 1e-12 });
    });
  });

  it('rejects bad ranks, channel mismatches, empty outputs and bad options with errors naming the shapes', () => {
    const w = rand([4, 3, 3, 3]);
    expect(() => nn.conv2d(rand([3, 8]), w)).toThrow(ShapeError);
    expect(() => nn.conv2d(rand([3, 8]), w)).toThrow(/conv2d: expects input \[N,C,H,W\] or \[C,H,W\] \(got \[3,8\]\)/);
    expect(() => nn.conv2d(rand([1, 1, 3, 8, 8]), w)).toThrow(/conv2d: .*\[1,1,3,8,8\]/);
    expect(() => nn.conv2d(rand([2, 5, 8, 8]), w)).toThrow(/conv2d: input \[2,5,8,8\] has 5 channels but weight \[4,3,3,3\] expects 3/);
    expect(() => nn.conv2d(rand([2, 3, 2, 8]), w)).toThrow(/conv2d: input \[2,3,2,8\] is too small .*output would be 0×6/);
    expect(() => nn.conv2d(rand([2, 3, 8, 8]), rand([4, 3, 3]))).toThrow(/conv2d: weight must be .*\(got \[4,3,3\]\)/);
    expect(() => nn.conv2d(rand([2, 3, 8, 8]), w, rand([3]))).toThrow(/conv2d: bias must be \[4\]/);
    expect(() => nn.conv2d(rand([2, 3, 8, 8]), w, null, { stride: 0 })).toThrow(ValueError);
    expect(() => nn.conv2d(rand([2, 3, 8, 8]), w, null, { padding: -1 })).toThrow(/conv2d: padding must be an integer ≥ 0/);
    expect(() => nn.conv2d(rand([2, 3, 8, 8]), w, null, { dilation: [1, 1, 1] as unknown as [number, number] })).toThrow(/conv2d: dilation/);
    expect(() => nn.conv2d(rand([2, 3, 8, 8], { dtype: 'float64' }), w)).toThrow(DTypeError);
    expect(() => nn.conv2d(rand([2, 4, 8, 8]), rand([3, 2, 3, 3]), null, { groups: 2 })).toThrow(/divisible by groups 2/);
  });
});

describe('Conv2d', () => {
  it('registers weight [O, C, kh, kw] and bias [O], and computes conv2d with its options', () => {
    manualSeed(3);
    const conv = new nn.Conv2d(3, 5, [3, 2], { stride: 2, padding: [1, 0], dilation: [1, 2] });
    expect(conv.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([['weight', [5, 3, 3, 2]], ['bias', [5]]]);
    const x = rand([2, 3, 9, 9]);
    expectAllClose(conv.forward(x), nn.conv2d(x, conv.weight, conv.bias, { stride: 2, padding: [1, 0], dilation: [1, 2] }), { rtol: 0, atol: 0 });
    const noBias = new nn.Conv2d(3, 5, 3, { bias: false });
    expect(noBias.bias).toBeNull();
    expect(noBias.namedParameters().map(([n]) => n)).toEqual(['weight']);
    expect(() => new nn.Conv2d(3, 5, 0)).toThrow(/Conv2d: kernelSize/);
    expect(() => new nn.Conv2d(4, 6, 3, { groups: 4 })).toThrow(/Conv2d: groups/);
  });

  it('initializes weight and bias from U(-1/√fanIn, 1/√fanIn) with fanIn = C·kh·kw', () => {
    manualSeed(11);
    const conv = new nn.Conv2d(16, 64, 5);
    const bound = 1 / Math.sqrt(16 * 25);
    for (const p of [conv.weight, conv.bias!]) {
      const v = Array.from(p.data());
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(p.requiresGrad).toBe(true);
    }
    const v = Array.from(conv.weight.data());
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
    // U(-b, b) has variance b²/3; with 25 600 draws the sample mean is within 4 standard errors.
    expect(Math.abs(mean)).toBeLessThan(4 * bound / Math.sqrt(3 * v.length));
    expect(variance / (bound * bound / 3)).toBeGreaterThan(0.95);
    expect(variance / (bound * bound / 3)).toBeLessThan(1.05);
    // The extremes come close to the bound: the draws span the whole interval.
    expect(Math.max(...v)).toBeGreaterThan(0.99 * bound);
    expect(Math.min(...v)).toBeLessThan(-0.99 * bound);
    // With groups, fanIn counts the channels of one group.
    const grouped = new nn.Conv2d(8, 4, 3, { groups: 4 });
    expect(grouped.weight.shape).toEqual([4, 2, 3, 3]);
    expect(Math.max(...Array.from(grouped.weight.data()).map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(2 * 9));
  });
});

describe('maxPool2d and avgPool2d', () => {
  it('match window loops over random kernels, strides, paddings and dilations', () => {
    withSeed('pools random geometries', (next) => {
      let checked = 0;
      while (checked < 40) {
        const k: [number, number] = [randInt(next, 1, 3), randInt(next, 1, 3)];
        // Half the cases take the default stride (= kernel), the reshape path.
        const s: [number, number] = next() < 0.5 ? k : [randInt(next, 1, 3), randInt(next, 1, 3)];
        const p: [number, number] = [randInt(next, 0, Math.floor(k[0] / 2)), randInt(next, 0, Math.floor(k[1] / 2))];
        const d: [number, number] = next() < 0.7 ? [1, 1] : [randInt(next, 1, 2), randInt(next, 1, 2)];
        const shape: Quad = [randInt(next, 1, 2), randInt(next, 1, 3), randInt(next, 1, 9), randInt(next, 1, 9)];
        if (outLen(shape[2], k[0], s[0], p[0], d[0]) <= 0 || outLen(shape[3], k[1], s[1], p[1], d[1]) <= 0) continue;
        const x = randomTensor(next, shape);
        const outShape = [shape[0], shape[1], outLen(shape[2], k[0], s[0], p[0], d[0]), outLen(shape[3], k[1], s[1], p[1], d[1])];
        const stride = s === k && next() < 0.5 ? undefined : s;
        expectAllClose(nn.maxPool2d(x.t, k, { stride, padding: p, dilation: d }), poolRef('max', x.values, shape, k, s, p, d), { shape: outShape, rtol: 0, atol: 0 });
        const one = [1, 1] as [number, number];
        const ho = outLen(shape[2], k[0], s[0], p[0], 1), wo = outLen(shape[3], k[1], s[1], p[1], 1);
        if (ho > 0 && wo > 0) {
          expectAllClose(nn.avgPool2d(x.t, k, { stride, padding: p }), poolRef('avg', x.values, shape, k, s, p, one), { shape: [shape[0], shape[1], ho, wo], rtol: 1e-12, atol: 1e-12 });
          expectAllClose(nn.avgPool2d(x.t, k, { stride, padding: p, countIncludePad: false }), poolRef('avg', x.values, shape, k, s, p, one, false), { shape: [shape[0], shape[1], ho, wo], rtol: 1e-12, atol: 1e-12 });
        }
        checked++;
      }
    });
  });

  it('pool a known 4×5 input: the default stride is the kernel, leftover rows and columns drop', () => {
    const x = tensor([[[
      [1, 2, 3, 4, 5],
      [6, 7, 8, 9, 10],
      [11, 12, 13, 14, 15],
      [16, 17, 18, 19, 20],
    ]]]);
    expectAllClose(nn.maxPool2d(x, 2), [[[[7, 9], [17, 19]]]]);
    expectAllClose(nn.avgPool2d(x, 2), [[[[4, 6], [14, 16]]]]);
    expectAllClose(nn.maxPool2d(x, 3, { stride: 1 }), [[[[13, 14, 15], [18, 19, 20]]]]);
    // Padding counts as zeros in the divisor by default: the corner window holds only the 1.
    expectAllClose(nn.avgPool2d(x, 2, { padding: 1 }).slice(3, 0, 1).slice(2, 0, 1), [[[[0.25]]]]);
    expectAllClose(nn.avgPool2d(x, 2, { padding: 1, countIncludePad: false }).slice(3, 0, 1).slice(2, 0, 1), [[[[1]]]]);
    // -Infinity padding never wins a max, even over negative inputs.
    expectAllClose(nn.maxPool2d(x.neg(), 2, { padding: 1 }).slice(3, 0, 1).slice(2, 0, 1), [[[[-1]]]]);
  });

  it('take unbatched inputs and reject bad ranks, dtypes, paddings and empty outputs', () => {
    expect(nn.maxPool2d(rand([3, 6, 6]), 2).shape).toEqual([3, 3, 3]);
    expect(nn.avgPool2d(rand([3, 6, 6]), 3, { stride: 1 }).shape).toEqual([3, 4, 4]);
    expect(() => nn.maxPool2d(rand([6, 6]), 2)).toThrow(/maxPool2d: expects input \[N,C,H,W\] or \[C,H,W\] \(got \[6,6\]\)/);
    expect(() => nn.avgPool2d(rand([1, 1, 1, 6, 6]), 2)).toThrow(ShapeError);
    expect(() => nn.maxPool2d(rand([1, 1, 6, 6]), 2, { padding: 2 })).toThrow(/maxPool2d: padding \[2,2\] must be at most half of the kernel size \[2,2\]/);
    expect(() => nn.avgPool2d(rand([1, 1, 1, 6]), 2)).toThrow(/avgPool2d: input \[1,1,1,6\] is too small .*output would be 0×3/);
    expect(() => nn.maxPool2d(rand([1, 1, 6, 6]), 0)).toThrow(/maxPool2d: kernelSize must be an integer ≥ 1/);
    expect(() => nn.avgPool2d(tensor([[[[1, 2], [3, 4]]]], { dtype: 'int32' }), 2)).toThrow(DTypeError);
  });

  it('MaxPool2d and AvgPool2d are layers without parameters', () => {
    const x = rand([2, 3, 7, 7]);
    const mp = new nn.MaxPool2d(2);
    const ap = new nn.AvgPool2d(3, { stride: 2, padding: 1 });
    expect(mp.parameters()).toEqual([]);
    expect(ap.parameters()).toEqual([]);
    expectAllClose(mp.forward(x), nn.maxPool2d(x, 2), { rtol: 0, atol: 0 });
    expectAllClose(ap.forward(x), nn.avgPool2d(x, 3, { stride: 2, padding: 1 }), { rtol: 0, atol: 0 });
    expect(mp.forward(x).shape).toEqual([2, 3, 3, 3]);
    expect(ap.forward(x).shape).toEqual([2, 3, 4, 4]);
  });
});

describe('a small CNN', () => {
  it('runs forward and backward on a batch of 28×28 images and fills every gradient', () => {
    manualSeed(0);
    const model = new nn.Sequential(
      new nn.Conv2d(1, 8, 3), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(8, 16, 3), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(400, 10),
    );
    const x = rand([16, 1, 28, 28]);
    const target = tensor(Int32Array.from({ length: 16 }, (_, i) => i % 10));
    const logits = model.forward(x);
    expect(logits.shape).toEqual([16, 10]);
    nn.crossEntropy(logits, target).backward();
    for (const [name, p] of model.namedParameters()) {
      expect(p.grad, name).not.toBeNull();
      expect(p.grad!.shape, name).toEqual(p.shape);
      expect(Array.from(p.grad!.data()).some((v) => v !== 0), name).toBe(true);
    }
    expect(model.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '3.weight', '3.bias', '7.weight', '7.bias']);
  });
});
