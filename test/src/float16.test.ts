/**
 * float16: IEEE half storage on the CPU, arithmetic in float32 rounded to half after every
 * op (PyTorch's CPU half), jit bitwise equal to eager, PyTorch's promotion, and its
 * readers, printing, safetensors, and webgpu giving the CPU's bits.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, jit, nn, tensor, webgpu, zeros } from '../../src/index.js';
import { expectAllClose } from '../helpers.js';
import { initEagerForTests } from '../webgpu.js';
import { floatToHalf, halfToFloat, roundToHalf } from '../../runtime/half.js';

const half = (values: number[]): Tensor => tensor(values, { dtype: 'float16' });
const bits = (t: Tensor): number[] => Array.from(t.data());

describe('half conversions', () => {
  it('every finite half pattern round-trips through its value', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = halfToFloat(h);
      if (Number.isNaN(v)) expect(Number.isNaN(halfToFloat(floatToHalf(v))), `0x${h.toString(16)}`).toBe(true);
      else expect(floatToHalf(v), `0x${h.toString(16)}`).toBe(h);
    }
  });

  it('rounds to nearest even, keeps subnormals, overflows to ±Inf and keeps NaN', () => {
    // 2049 lies halfway between 2048 and 2050: the even mantissa wins; 2051 goes up to 2052.
    expect([2049, 2051, 2049.01].map(roundToHalf)).toEqual([2048, 2052, 2050]);
    expect(roundToHalf(1 + 2 ** -11)).toBe(1);
    expect(roundToHalf(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    // 65519 rounds down to the largest half, 65520 (halfway to 2^16) up to Inf.
    expect([65519, 65520, -65520, 1e6].map(roundToHalf)).toEqual([65504, Infinity, -Infinity, Infinity]);
    expect([2 ** -24, 2 ** -25, 1.5 * 2 ** -25, 3 * 2 ** -25].map(roundToHalf)).toEqual([2 ** -24, 0, 2 ** -24, 2 ** -23]);
    expect(Object.is(roundToHalf(-(2 ** -26)), -0)).toBe(true);
    expect(floatToHalf(NaN) & 0x7e00).toBe(0x7e00);
    expect(floatToHalf(-NaN) >= 0 && Number.isNaN(roundToHalf(NaN))).toBe(true);
  });
});

describe('float16 tensors', () => {
  it('store half bits: data() gives them, toArray() and item() the values', () => {
    const t = half([1, -2, 65504, 2 ** -24, -0, 70000, 0.1]);
    expect(t.dtype).toBe('float16');
    expect(t.data()).toBeInstanceOf(Uint16Array);
    expect(bits(t)).toEqual([0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x2e66]);
    expect(t.toArray()).toEqual([1, -2, 65504, 2 ** -24, -0, Infinity, 0.0999755859375]);
    expect(t.index(6).item()).toBe(0.0999755859375);
    expect(tensor(Float32Array.of(0.1, 3), { dtype: 'float16' }).toArray()).toEqual([0.0999755859375, 3]);
  });

  it('print with their dtype, as PyTorch prints them', () => {
    expect(String(half([1, 2.5]))).toBe('tensor([1.0000, 2.5000], dtype=float16)');
  });

  it('.half() and .to(dtype) cast; casts back to float32 are exact', () => {
    const x = tensor([0.1, 1e5, -3.75, 1e-8]);
    const h = x.half();
    expect(h.dtype).toBe('float16');
    expect(h.to('float32').toArray()).toEqual([0.0999755859375, Infinity, -3.75, 0]);
    expect(tensor([300.7, -1.5], { dtype: 'float16' }).to('int32').toArray()).toEqual([300, -1]);
  });

  it('promote as PyTorch: with float32 to float32, with integers and bool to float16, with float64 to float64', () => {
    const h = half([1, 2]);
    expect(h.add(tensor([1, 2])).dtype).toBe('float32');
    expect(h.add(tensor([1, 2], { dtype: 'int32' })).dtype).toBe('float16');
    expect(h.add(tensor([true, false])).dtype).toBe('float16');
    expect(h.add(tensor([1, 2], { dtype: 'float64' })).dtype).toBe('float64');
    expect(h.mul(2.5).dtype).toBe('float16');
    expect(tensor([1, 2], { dtype: 'int32' }).div(2).dtype).toBe('float32');
  });

  it('round every op result to half', () => {
    // 2048 + 1 is a tie between 2048 and 2050; (1 + 2^-10) * (1 + 2^-10) loses its 2^-20 term.
    expect(half([2048]).add(1).toArray()).toEqual([2048]);
    const a = half([1 + 2 ** -10]);
    expect(a.mul(a).toArray()).toEqual([1 + 2 ** -9]);
    expect(half([60000]).add(half([10000])).toArray()).toEqual([Infinity]);
    expect(half([1]).div(3).toArray()).toEqual([roundToHalf(1 / 3)]);
    expect(half([2]).sqrt().toArray()).toEqual([roundToHalf(Math.SQRT2)]);
  });

  it('reduce in float32 or wider and round once: a sum of 4096 ones is 4096, not 2048', () => {
    // Adding one at a time in half would stop at 2048 (2048 + 1 rounds back to 2048).
    const ones = tensor(new Float32Array(4096).fill(1), { dtype: 'float16' });
    expect(ones.sum().toArray()).toBe(4096);
    expect(ones.sum().dtype).toBe('float16');
    expect(ones.mean().toArray()).toBe(1);
    expect(half([3, -7, 2]).max().toArray()).toBe(3);
  });

  it('matmul accumulates wide and rounds each output once', () => {
    const a = tensor(new Float32Array(3000).fill(1), { dtype: 'float16' }).reshape([1, 3000]);
    const b = tensor(new Float32Array(3000).fill(1), { dtype: 'float16' }).reshape([3000, 1]);
    const c = a.matmul(b);
    expect(c.dtype).toBe('float16');
    expect(c.toArray()).toEqual([[3000]]);
    const x = half([0.1, 0.2, 0.3, 0.4]).reshape([2, 2]);
    const want = x.to('float32').matmul(x.to('float32')).toArray() as number[][];
    expect(x.matmul(x).toArray()).toEqual(want.map((r) => r.map(roundToHalf)));
  });

  it('jit gives the bits eager gives', () => {
    const f = (x: Tensor, w: Tensor) => x.matmul(w).add(0.1).exp().softmax(-1).mul(x.sum()).sub(x.max());
    const g = jit(f);
    const x = half([0.5, -1.25, 2, 0.1, 3.5, -0.7]).reshape([2, 3]);
    const w = half([0.3, -0.2, 0.9, 1.1, -0.4, 0.05]).reshape([3, 2]);
    const eager = bits(f(x, w));
    // The first two calls trace (the second confirms the first), the third replays.
    for (let call = 0; call < 3; call++) expect(bits(g(x, w)), `call ${call}`).toEqual(eager);
    expect(g.stats.replays).toBe(1);
  });

  it('gradients match float64 finite differences within float16 tolerance', () => {
    const x = half([0.5, -1.25, 2, 0.1]).requiresGrad_();
    const y = x.mul(x).add(x.exp()).sum();
    y.backward();
    const g = x.grad!;
    expect(g.dtype).toBe('float16');
    const x64 = (x.toArray() as number[]);
    const fd = x64.map((v) => {
      const h = 1e-6;
      const f = (u: number) => u * u + Math.exp(u);
      return (f(v + h) - f(v - h)) / (2 * h);
    });
    (g.toArray() as number[]).forEach((got, i) => expect(Math.abs(got - fd[i]!)).toBeLessThanOrEqual(2 ** -9 * Math.abs(fd[i]!) + 2 ** -14));
  });

  it('round-trip through safetensors as F16 with the same bits', () => {
    const t = half([1, -2, 65504, 2 ** -24, 0.1]);
    const bytes = nn.serializeSafetensors({ t });
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true))));
    expect(JSON.parse(header).t.dtype).toBe('F16');
    const back = nn.deserializeSafetensors(bytes).tensors['t']!;
    expect(back.dtype).toBe('float16');
    expect(bits(back)).toEqual(bits(t));
  });

  it('an unknown dtype names float16 among the valid ones', () => {
    expect(() => zeros([2], { dtype: 'half' as never })).toThrow(/valid: float16, float32/);
  });
});

const gpuReady = await initEagerForTests('float16 on webgpu');
afterAll(() => webgpu.destroy());

// Without shader-f16 a float16 tensor on webgpu is an error (test/src/webgpu/float16-unsupported.test.ts).
describe.skipIf(!gpuReady || !webgpu.supportsFloat16())('float16 on webgpu', () => {
  const GPU_TIMEOUT = 60_000;
  // Halves of every scale: subnormals, values whose sums and products overflow, ties, NaN.
  const values = [0.1, -2.5, 65504, 2 ** -24, 3 * 2 ** -20, 2049, -0, 1 / 3, 300.7, -60000, NaN, Infinity, 1e-5, 7.75];
  const other = [3, 0.2, 2, -(2 ** -24), 1e-3, 1, 5, -1 / 3, 1e-4, -30000, 1, -Infinity, 3e-5, -7.75];

  it('+ - * / and casts give the CPU bits', async () => {
    const a = half(values), b = half(other);
    const ga = a.to('webgpu'), gb = b.to('webgpu');
    const ops: [string, (x: Tensor, y: Tensor) => Tensor][] = [
      ['add', (x, y) => x.add(y)], ['sub', (x, y) => x.sub(y)], ['mul', (x, y) => x.mul(y)], ['div', (x, y) => x.div(y)],
      ['cast float32 and back', (x, y) => x.to('float32').mul(y.to('float32')).half()],
      ['cast int32', (x) => x.to('int32')], ['scalar', (x) => x.mul(1.1).add(0.3)],
    ];
    // A NaN's sign is the hardware's (x86 makes Inf - Inf negative, JS positive): NaN matches NaN.
    const canonical = (h: Uint16Array) => Array.from(h, (x) => ((x & 0x7c00) === 0x7c00 && (x & 0x3ff) !== 0 ? 0x7e00 : x));
    for (const [name, f] of ops) {
      const got = await f(ga, gb).dataAsync<'float16'>();
      expect(canonical(got), name).toEqual(canonical(f(a, b).data<'float16'>()));
    }
  }, GPU_TIMEOUT);

  it('reductions, matmul and a jit step agree with the CPU within half precision', async () => {
    const a = tensor(Float32Array.from({ length: 96 }, (_, i) => Math.sin(i) * 4), { dtype: 'float16' }).reshape([8, 12]);
    const w = tensor(Float32Array.from({ length: 60 }, (_, i) => Math.cos(i)), { dtype: 'float16' }).reshape([12, 5]);
    const f = (x: Tensor, y: Tensor) => [x.sum(1), x.max(0), x.matmul(y).add(1).relu(), x.softmax(-1)];
    const g = jit(f);
    const want = f(a, w);
    const ga = a.to('webgpu'), gw = w.to('webgpu');
    for (const got of [f(ga, gw), g(ga, gw), g(ga, gw), g(ga, gw)]) {
      for (const [i, t] of got.entries()) {
        expect(t.dtype).toBe('float16');
        const cpu = await t.cpu();
        expectAllClose(cpu, want[i]!, { rtol: 2 ** -9, atol: 2 ** -10 });
      }
    }
  }, GPU_TIMEOUT);
});
