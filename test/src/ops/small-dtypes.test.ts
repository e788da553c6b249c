/**
 * uint8 (images) and int64 casts, by hand-worked values: PyTorch's promotion for uint8,
 * arithmetic modulo 256, float -> uint8 truncating then wrapping as PyTorch's CPU does,
 * safetensors U8, and int64 casts stored as int32 with a range check (eagerly and under jit).
 */
import { describe, expect, it } from 'vitest';
import * as k from '../../../src/index.js';
import { DTypeError, ValueError, jit, nn, tensor } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';

const u8 = (...v: number[]) => tensor(Uint8Array.from(v));
const exact = { rtol: 0, atol: 0 };

describe('uint8', () => {
  it('a Uint8Array makes a uint8 tensor, stored one byte per element apart from bool', () => {
    const t = u8(0, 7, 255);
    expect(t.dtype).toBe('uint8');
    expect(t.data()).toBeInstanceOf(Uint8Array);
    expect(t.toArray()).toEqual([0, 7, 255]);
    expect(tensor([true, false]).dtype).toBe('bool');
    expect(t.cast('bool').toArray()).toEqual([false, true, true]);
    expect(tensor([true, false]).cast('uint8').toArray()).toEqual([1, 0]);
  });

  it('creation with dtype uint8 truncates then wraps', () => {
    expect(tensor([-1, 256, 300.7, 255.9], { dtype: 'uint8' }).toArray()).toEqual([255, 0, 44, 255]);
    expect(k.full([2], -3, { dtype: 'uint8' }).toArray()).toEqual([253, 253]);
  });

  it('promotes as PyTorch does', () => {
    const x = u8(1, 2);
    expect(x.add(tensor([1, 2], { dtype: 'int32' })).dtype).toBe('int32');
    expect(x.add(tensor([1, 2])).dtype).toBe('float32');
    expect(x.add(tensor([1, 2], { dtype: 'float64' })).dtype).toBe('float64');
    expect(x.add(tensor([true, false])).dtype).toBe('uint8');
    expect(x.add(3).dtype).toBe('uint8');
    expect(x.add(true).dtype).toBe('uint8');
    expect(x.mul(0.5).dtype).toBe('float32');
    expect(x.div(2).dtype).toBe('float32');
    expect(x.gt(1).dtype).toBe('bool');
  });

  it('arithmetic wraps modulo 256', () => {
    expectAllClose(u8(250, 3).add(u8(10, 5)), [4, 8], { dtype: 'uint8', ...exact });
    expectAllClose(u8(3, 0).sub(u8(5, 1)), [254, 255], { dtype: 'uint8', ...exact });
    expectAllClose(u8(16, 15).mul(u8(16, 17)), [0, 255], { dtype: 'uint8', ...exact });
    expectAllClose(u8(1, 0, 128).neg(), [255, 0, 128], { dtype: 'uint8', ...exact });
    expectAllClose(u8(2, 3).pow(u8(9, 5)), [0, 243], { dtype: 'uint8', ...exact });
    expectAllClose(u8(200).add(100), [44], { dtype: 'uint8', ...exact });
  });

  it('casts from floats truncate toward zero, then wrap (PyTorch on the CPU)', () => {
    const x = tensor([-1, 255.9, 256, 300.5, -0.5, -255.5, 1e10, NaN, Infinity, -Infinity]);
    expectAllClose(x.cast('uint8'), [255, 255, 0, 44, 0, 1, 0, 0, 0, 0], { dtype: 'uint8', ...exact });
    expectAllClose(tensor([-1, 257, -256], { dtype: 'int32' }).cast('uint8'), [255, 1, 0], { dtype: 'uint8', ...exact });
    expectAllClose(u8(0, 200, 255).cast('float32').div(255), [0, Math.fround(200 / 255), 1], { dtype: 'float32', ...exact });
  });

  it('sums and products count in int32, max and min stay uint8', () => {
    const x = k.full([300], 255, { dtype: 'uint8' });
    expect(x.sum().dtype).toBe('int32');
    expect(x.sum().item()).toBe(76500);
    expect(u8(16, 16, 16).prod().item()).toBe(4096);
    expect(u8(3, 250, 7).max().dtype).toBe('uint8');
    expect(u8(3, 250, 7).max().item()).toBe(250);
    expect(u8(3, 250, 7).argmax().item()).toBe(1);
  });

  it('prints as an integer tensor with its dtype', () => {
    expect(String(u8(1, 200))).toContain('dtype=uint8');
    expect(String(u8(1, 200))).toContain('200');
  });

  it('matmul names the dtypes it takes', () => {
    const x = tensor(Uint8Array.of(1, 2, 3, 4), { shape: [2, 2] });
    expect(() => k.matmul(x, x)).toThrow(DTypeError);
    expect(() => k.matmul(x, x)).toThrow('matmul: uint8 operands are not supported (valid: float16, float32, float64, int32); cast them first');
  });

  it('round-trips through safetensors as U8', () => {
    const img = tensor(Uint8Array.of(0, 1, 128, 255, 9, 17), { shape: [2, 3] });
    const bytes = nn.serializeSafetensors({ img });
    const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, { dtype: string }>;
    expect(header.img!.dtype).toBe('U8');
    const back = nn.deserializeSafetensors(bytes).tensors.img!;
    expect(back.dtype).toBe('uint8');
    expect(back.toArray()).toEqual([[0, 1, 128], [255, 9, 17]]);
  });
});

describe('casting to int64', () => {
  it('stores int32, truncating floats toward zero', () => {
    const t = tensor([1.9, -2.9, -2147483648, 2147483647.5], { dtype: 'float64' }).cast('int64');
    expect(t.dtype).toBe('int32');
    expect(t.toArray()).toEqual([1, -2, -2147483648, 2147483647]);
    expect(tensor([-2147483648]).to('int64').toArray()).toEqual([-2147483648]);
    expect(u8(255).cast('int64').toArray()).toEqual([255]);
    expect(tensor([true]).to('int64').dtype).toBe('int32');
    expect(k.cast(tensor([2.5]), 'int64').toArray()).toEqual([2]);
  });

  it('is an error beyond int32, never a wrap', () => {
    const message = 'cast: int64 value 3000000000 at index 1 does not fit int32, which kiln stores int64 as (valid: -2147483648..2147483647)';
    expect(() => tensor([1, 3e9], { dtype: 'float64' }).cast('int64')).toThrow(message);
    expect(() => tensor([-2147483649], { dtype: 'float64' }).to('int64')).toThrow(ValueError);
    expect(() => tensor([-2147483904]).cast('int64')).toThrow(ValueError);
    expect(() => tensor([0, NaN]).cast('int64')).toThrow('cast: int64 value NaN at index 1');
    expect(() => tensor([Infinity]).cast('int64')).toThrow(ValueError);
  });

  it('under jit, a call whose values leave the range runs eagerly and throws', () => {
    const f = jit((x: k.Tensor) => x.cast('int64').add(1));
    expect(f(tensor([1.5, 2])).toArray()).toEqual([2, 3]);
    expect(f(tensor([7, -3])).toArray()).toEqual([8, -2]);
    // The first call traces, the second confirms the trace, the third replays it.
    expect(f(tensor([0, 9.5])).toArray()).toEqual([1, 10]);
    expect(f.stats.replays).toBe(1);
    expect(() => f(tensor([7, 5e9]))).toThrow(ValueError);
    expect(f(tensor([4, 5])).toArray()).toEqual([5, 6]);
  });
});
