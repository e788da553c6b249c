/**
 * float16 stored as 2-byte halves on a WebGPU device with shader-f16: every half pattern and
 * every rounding case through the GPU against runtime/half.ts, odd lengths and odd element
 * offsets (which cannot be copied as whole 4-byte words), writes into views, reductions,
 * matmul and casts giving the CPU's bits, and 2 bytes per element in the memory counters.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type Tensor, jit, memory, tensor, webgpu } from '../../../src/index.js';
import { floatToHalf, halfToFloat } from '../../../runtime/half.js';
import { initEagerForTests } from '../../webgpu.js';

const GPU_TIMEOUT = 120_000;
const gpuReady = await initEagerForTests('float16 storage on webgpu');
const hasF16 = gpuReady && webgpu.supportsFloat16();
if (gpuReady && !hasF16) console.warn('float16 storage on webgpu: skipped: this adapter has no shader-f16');
afterAll(() => webgpu.destroy());

const half = (values: ArrayLike<number>): Tensor => tensor(Float32Array.from(values), { dtype: 'float16' });
/** Half bits with every NaN as one pattern: a NaN's sign and payload are the hardware's. */
const canonical = (h: ArrayLike<number>): number[] =>
  Array.from(h, (x) => ((x & 0x7c00) === 0x7c00 && (x & 0x3ff) !== 0 ? 0x7e00 : x));
const withNaN = (v: ArrayLike<number>): (number | string)[] => Array.from(v, (x) => (Number.isNaN(x) ? 'NaN' : x));
/** Halves of mixed scales, subnormals, ±0, ±Inf and NaN, `n` of them. */
const mixed = (n: number, seed = 1): Tensor => half(Array.from({ length: n }, (_, i) => {
  const specials = [0, -0, 2 ** -24, -(2 ** -20), 65504, Infinity, -Infinity, NaN];
  if (i % 11 === 7) return specials[(i + seed) % specials.length]!;
  return Math.sin(i * 12.9898 + seed) * 2 ** ((i * seed) % 17 - 8);
}));

async function expectSameBits(gpu: Tensor, cpu: Tensor, what: string): Promise<void> {
  expect(gpu.device, what).toBe('webgpu');
  expect(gpu.dtype, what).toBe(cpu.dtype);
  expect(gpu.shape, what).toEqual(cpu.shape);
  const got = await gpu.dataAsync(), want = cpu.data();
  if (cpu.dtype === 'float16') expect(canonical(got), what).toEqual(canonical(want));
  else expect(withNaN(got), what).toEqual(withNaN(want));
}

describe.skipIf(!hasF16)('float16 storage on webgpu', () => {
  it('moves every half pattern to the GPU and back unchanged, and widens each to its float32 value', async () => {
    const all = Uint16Array.from({ length: 65536 }, (_, h) => h);
    const t = tensor(all, { dtype: 'float16' });
    const g = t.to('webgpu');
    expect(Array.from(await g.dataAsync<'float16'>())).toEqual(Array.from(all));
    const wide = await g.to('float32').dataAsync<'float32'>();
    for (let h = 0; h < 65536; h++) {
      const want = halfToFloat(h);
      if (Number.isNaN(want) ? !Number.isNaN(wide[h]!) : !Object.is(wide[h], want)) {
        throw new Error(`half 0x${h.toString(16)}: gpu ${wide[h]}, cpu ${want}`);
      }
    }
  }, GPU_TIMEOUT);

  it('rounds float32 to half to nearest even as runtime/half.ts does, at and between every pair of halves', async () => {
    // For every finite half: itself, the tie halfway to the next half up in magnitude, and the
    // float32 values just below and above that tie.
    const f32 = new Float32Array(1), bits = new Uint32Array(f32.buffer);
    const nudge = (x: number, by: number) => {
      f32[0] = x;
      bits[0]! += by;
      return f32[0]!;
    };
    const xs: number[] = [];
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      const x = halfToFloat(h), next = (h & 0x7fff) === 0x7bff ? Math.sign(x || 1) * 65536 : halfToFloat(h + 1);
      const tie = (x + next) / 2;
      xs.push(x, tie, nudge(tie, -1), nudge(tie, 1));
    }
    const input = tensor(Float32Array.from(xs));
    const got = await input.to('webgpu').half().dataAsync<'float16'>();
    const cpu = input.half().data<'float16'>();
    for (let i = 0; i < xs.length; i++) {
      const want = floatToHalf(xs[i]!);
      if (got[i] !== want || cpu[i] !== want) {
        const hex = (h: number) => `0x${h.toString(16)}`;
        throw new Error(`float32 ${xs[i]}: gpu ${hex(got[i]!)}, cpu ${hex(cpu[i]!)}, half.ts ${hex(want)}`);
      }
    }
  }, GPU_TIMEOUT);

  it('gives the CPU bits at odd lengths', async () => {
    for (const n of [1, 3, 5, 1023]) {
      const a = mixed(n, 1), b = mixed(n, 2);
      const ga = a.to('webgpu'), gb = b.to('webgpu');
      await expectSameBits(ga, a, `upload of ${n}`);
      await expectSameBits(ga.add(gb), a.add(b), `add of ${n}`);
      await expectSameBits(ga.mul(gb).sub(ga), a.mul(b).sub(a), `mul, sub of ${n}`);
      await expectSameBits(ga.exp(), a.exp(), `exp of ${n}`);
      await expectSameBits(ga.neg().abs().sqrt(), a.neg().abs().sqrt(), `neg, abs, sqrt of ${n}`);
    }
  }, GPU_TIMEOUT);

  it('reads, copies and computes on views that start at odd elements', async () => {
    const a = mixed(64, 3), ga = a.to('webgpu');
    for (const [start, length] of [[1, 1], [1, 2], [3, 5], [5, 30], [7, 57], [2, 3]] as const) {
      const view = (t: Tensor) => t.narrow(0, start, length);
      await expectSameBits(view(ga), view(a), `narrow(${start}, ${length})`);
      await expectSameBits(view(ga).contiguous(), view(a).contiguous(), `copy of narrow(${start}, ${length})`);
      await expectSameBits(view(ga).mul(3), view(a).mul(3), `mul of narrow(${start}, ${length})`);
      const back = await view(ga).cpu();
      expect(canonical(back.data()), `cpu() of narrow(${start}, ${length})`).toEqual(canonical(view(a).data()));
    }
    const m = mixed(35, 4).reshape([5, 7]), gm = m.to('webgpu');
    const odd = (t: Tensor) => t.slice(1, 1, 7, 2).slice(0, 1, 5);
    await expectSameBits(odd(gm), odd(m), 'strided view at an odd offset');
    const copied = (t: Tensor) => odd(t).transpose(0, 1).contiguous();
    await expectSameBits(copied(gm), copied(m), 'its transposed copy');
  }, GPU_TIMEOUT);

  it('writes into views at odd offsets without touching the neighbouring halves', async () => {
    const base = mixed(41, 5);
    const on = (t: Tensor, values: number[]) => half(values).to(t.device);
    const cases: [string, (t: Tensor) => void][] = [
      ['copy_ of one element at 1', (t) => t.narrow(0, 1, 1).copy_(on(t, [1.5]))],
      ['copy_ of 3 at 3', (t) => t.narrow(0, 3, 3).copy_(on(t, [-2, 0.25, 7]))],
      ['fill_ of 5 at 9', (t) => t.narrow(0, 9, 5).fill_(0.1)],
      ['add_ on a step-3 slice from 1', (t) => t.slice(0, 1, 41, 3).add_(1)],
      ['mul_ on the odd tail', (t) => t.narrow(0, 30, 11).mul_(on(t, Array.from({ length: 11 }, (_, i) => i - 5)))],
    ];
    for (const [name, write] of cases) {
      const cpu = base.clone(), gpu = base.to('webgpu');
      write(cpu);
      write(gpu);
      await expectSameBits(gpu, cpu, name);
    }
  }, GPU_TIMEOUT);

  it('reduces, multiplies matrices and casts to the CPU bits', async () => {
    // Multiples of 2^-6 below 4: every sum and product of these is exact in float32, so the
    // GPU's order of accumulation cannot show before the one rounding to half.
    const grid = (n: number, seed: number) =>
      half(Array.from({ length: n }, (_, i) => (((i * 37 + seed * 11) % 512) - 256) / 64));
    const a = grid(7 * 33, 1).reshape([7, 33]), w = grid(33 * 9, 2).reshape([33, 9]);
    const ga = a.to('webgpu'), gw = w.to('webgpu');
    const reductions: [string, (t: Tensor) => Tensor][] = [
      ['sum', (t) => t.sum()], ['sum(1)', (t) => t.sum(1)],
      ['sum(0) at an odd offset', (t) => t.narrow(1, 1, 31).sum(0)],
      ['max(1)', (t) => t.max(1)], ['min(0)', (t) => t.min(0)], ['argmax(1)', (t) => t.argmax(1)],
      ['mean(1)', (t) => t.mean(1)], ['softmax rows', (t) => t.mul(0.125).softmax(-1)],
    ];
    for (const [name, f] of reductions) await expectSameBits(f(ga), f(a), name);
    await expectSameBits(ga.matmul(gw), a.matmul(w), 'matmul');
    const oddViews = (x: Tensor, y: Tensor) => x.narrow(1, 1, 32).matmul(y.narrow(0, 1, 32));
    await expectSameBits(oddViews(ga, gw), oddViews(a, w), 'matmul of odd-offset views');
    const x = mixed(1023, 6), gx = x.to('webgpu');
    await expectSameBits(gx.to('float32'), x.to('float32'), 'float16 to float32');
    await expectSameBits(gx.to('int32'), x.to('int32'), 'float16 to int32');
    const i32 = tensor(Int32Array.from({ length: 1023 }, (_, i) => (i - 511) * 131));
    await expectSameBits(i32.to('webgpu').half(), i32.half(), 'int32 to float16');
    const f = tensor(Float32Array.from({ length: 1023 }, (_, i) => Math.tan(i) * 1000));
    await expectSameBits(f.to('webgpu').half(), f.half(), 'float32 to float16');
  }, GPU_TIMEOUT);

  it('accumulates scatters into neighbouring halves of one word', async () => {
    const target = half(Array.from({ length: 9 }, (_, i) => i / 4));
    const idx = tensor(Int32Array.of(0, 1, 1, 2, 3, 8, 7, 7, 7));
    const values = half([0.5, 1, 2, -3, 0.25, 8, 1, 1, 1]);
    const cpu = target.clone().indexPut_([idx], values, true);
    const gpu = target.to('webgpu').indexPut_([idx.to('webgpu')], values.to('webgpu'), true);
    await expectSameBits(gpu, cpu, 'indexPut_ with accumulate');
  }, GPU_TIMEOUT);

  it('runs a jit step on float16 with the bits eager gives', async () => {
    const a = mixed(5 * 7, 7).reshape([5, 7]).to('webgpu'), b = mixed(7, 8).to('webgpu');
    const f = (x: Tensor, y: Tensor) => x.mul(y).add(y).relu().narrow(1, 1, 5);
    const g = jit(f);
    const want = f(a, b);
    for (let call = 0; call < 3; call++) await expectSameBits(g(a, b), await want.cpu(), `jit call ${call}`);
  }, GPU_TIMEOUT);

  it('counts 2 bytes per float16 element', () => {
    const before = memory().webgpu.bytes;
    const t = tensor(new Float32Array(1001), { dtype: 'float16' }).to('webgpu');
    expect(memory().webgpu.bytes - before).toBe(2002);
    const f = t.to('float32');
    expect(memory().webgpu.bytes - before).toBe(2002 + 4004);
    t.dispose();
    f.dispose();
    expect(memory().webgpu.bytes).toBe(before);
  });
});
