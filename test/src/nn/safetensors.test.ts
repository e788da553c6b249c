/**
 * safetensors: files kiln writes are parsed by hand against the format's rules, round trips
 * (bytes, files, modules), conversions of the dtypes kiln reads but does not store, and the
 * errors for malformed files.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, ValueError, arange, manualSeed, nn, rand, tensor, transpose, zeros } from '../../../src/node.js';
import { expectAllClose } from '../../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-safetensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const encoder = new TextEncoder();

/** A file from a header object (or raw header text) and data bytes, with no padding. */
function buildFile(header: unknown, data: ArrayLike<number> = [], headerLength?: bigint): Uint8Array {
  const json = encoder.encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(Array.from(data), 8 + json.length);
  return out;
}

function bytesOf(view: ArrayBufferView): number[] {
  return Array.from(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
}

describe('files kiln writes', () => {
  it('follow the format: u64 LE header length, JSON header, 8-byte aligned data, contiguous offsets, LE bytes', () => {
    const tensors: Record<string, Tensor> = {
      'encoder.weight': tensor([[1, -2.5, 3], [0.125, 5, -6]]),
      'μ/σ names': tensor([1.5, -0.25], { dtype: 'float64' }),
      'steps': tensor([7, -1, 2147483647], { dtype: 'int32' }),
      'mask': tensor([true, false, true]),
      'scalar': tensor(3.25),
      'empty': zeros([0, 4]),
    };
    const file = nn.serializeSafetensors(tensors, { format: 'pt', note: 'ünïcode' });
    const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
    const n = Number(view.getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const text = new TextDecoder().decode(file.subarray(8, 8 + n));
    // Padding is spaces after the JSON object.
    expect(text.trimEnd().endsWith('}')).toBe(true);
    expect(/^[ ]*$/.test(text.slice(text.trimEnd().length))).toBe(true);
    const header = JSON.parse(text) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & { __metadata__: Record<string, string> };
    expect(header.__metadata__).toEqual({ format: 'pt', note: 'ünïcode' });
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    expect(names).toEqual(Object.keys(tensors));
    const expectDtype: Record<string, string> = { 'encoder.weight': 'F32', 'μ/σ names': 'F64', steps: 'I32', mask: 'BOOL', scalar: 'F32', empty: 'F32' };
    const data = file.subarray(8 + n);
    let end = 0;
    for (const name of names) {
      const info = header[name]!;
      expect(info.dtype, name).toBe(expectDtype[name]);
      expect(info.shape, name).toEqual(tensors[name]!.shape);
      expect(info.data_offsets[0], name).toBe(end);
      end = info.data_offsets[1];
      expect(bytesOf(data.subarray(info.data_offsets[0], end)), name).toEqual(bytesOf(tensors[name]!.data()));
    }
    expect(end).toBe(data.length);
    // Little-endian bytes, checked on known values rather than through the host's typed arrays.
    const w = header['encoder.weight']!.data_offsets[0];
    expect(Array.from(data.subarray(w, w + 8))).toEqual([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0]); // 1, -2.5
    const s = header.steps!.data_offsets[0];
    expect(Array.from(data.subarray(s, s + 8))).toEqual([7, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    const m = header.mask!.data_offsets[0];
    expect(Array.from(data.subarray(m, m + 3))).toEqual([1, 0, 1]);
    expect(header.empty!.data_offsets).toEqual([header.empty!.data_offsets[0], header.empty!.data_offsets[0]]);
  });

  it('write views in row-major order, and an empty dict as a header-only file', () => {
    const x = transpose(arange(6).reshape([2, 3]), 0, 1);
    const file = nn.serializeSafetensors({ x });
    const { tensors } = nn.deserializeSafetensors(file);
    expect(tensors['x']!.toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    const empty = nn.serializeSafetensors({});
    const n = Number(new DataView(empty.buffer).getBigUint64(0, true));
    expect(empty.length).toBe(8 + n);
    expect(JSON.parse(new TextDecoder().decode(empty.subarray(8)))).toEqual({});
    expect(nn.deserializeSafetensors(empty)).toEqual({ tensors: {}, metadata: {} });
  });

  it('reject a tensor named __metadata__, non-tensors and non-string metadata', () => {
    expect(() => nn.serializeSafetensors({ __metadata__: zeros([1]) })).toThrow(/__metadata__ is reserved/);
    expect(() => nn.serializeSafetensors({ a: [1, 2] as unknown as Tensor })).toThrow(/serializeSafetensors: "a" is not a tensor/);
    expect(() => nn.serializeSafetensors({}, { epoch: 3 } as unknown as Record<string, string>)).toThrow(/values must be strings/);
  });
});

describe('round trips', () => {
  it('bytes → tensors keep dtype, shape, values and metadata, and the loaded tensors are fresh', () => {
    const tensors: Record<string, Tensor> = {
      a: tensor([[1.5, -0], [Infinity, NaN]]),
      b: tensor([Math.PI, -1e300, 5e-324], { dtype: 'float64' }),
      c: tensor([[[-2147483648, 0, 5]]], { dtype: 'int32' }),
      d: tensor([[true], [false]]),
      e: tensor(-1),
      f: zeros([2, 0, 3], { dtype: 'int32' }),
      constructor: tensor([3]),
    };
    // `__proto__` in an object literal would set the prototype; define it as an own key instead.
    Object.defineProperty(tensors, '__proto__', { value: tensor([1, 2]), enumerable: true });
    const { tensors: back, metadata } = nn.deserializeSafetensors(nn.serializeSafetensors(tensors, { k: 'v' }));
    expect(metadata).toEqual({ k: 'v' });
    expect(Object.keys(back)).toEqual(Object.keys(tensors));
    for (const [name, t] of Object.entries(tensors)) {
      const u = back[name]!;
      expect(u.dtype, name).toBe(t.dtype);
      expect(u.shape, name).toEqual(t.shape);
      expect(bytesOf(u.data()), name).toEqual(bytesOf(t.data()));
      expect(u.requiresGrad).toBe(false);
    }
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });

  it('files on disk, through saveSafetensors and loadSafetensors', () => {
    const path = join(dir, 'plain.safetensors');
    const w = rand([3, 4]);
    nn.saveSafetensors(path, { w }, { author: 'kiln' });
    const { tensors, metadata } = nn.loadSafetensors(path);
    expect(metadata).toEqual({ author: 'kiln' });
    expectAllClose(tensors['w']!, w, { rtol: 0, atol: 0 });
    expect(readFileSync(path)).toEqual(Buffer.from(nn.serializeSafetensors({ w }, { author: 'kiln' })));
  });

  it('modules, through saveModule and loadModule, buffers included; strict loading names what is missing', () => {
    const make = () => new nn.Sequential(new nn.Linear(4, 3), new nn.BatchNorm1d(3), new nn.ReLU(), new nn.Linear(3, 2));
    manualSeed(1);
    const a = make();
    a.forward(rand([5, 4]));
    a.forward(rand([5, 4]));
    const path = join(dir, 'model.safetensors');
    nn.saveModule(a, path, { epoch: '2' });
    manualSeed(2);
    const b = make();
    expect(nn.loadModule(b, path)).toEqual({ epoch: '2' });
    for (const [name, t] of Object.entries(b.stateDict())) expect(bytesOf(t.data()), name).toEqual(bytesOf(a.stateDict()[name]!.data()));
    expect(b.stateDict()['1.numBatchesTracked']!.item()).toBe(2);
    a.eval();
    b.eval();
    const x = rand([3, 4]);
    expectAllClose(b.forward(x), a.forward(x), { rtol: 0, atol: 0 });

    const bigger = new nn.Sequential(new nn.Linear(4, 3), new nn.BatchNorm1d(3), new nn.ReLU(), new nn.Linear(3, 2), new nn.Linear(2, 1));
    expect(() => nn.loadModule(bigger, path)).toThrow(/loadStateDict: missing 4\.weight, 4\.bias/);
    nn.loadModule(bigger, path, false);
    expect(bytesOf(bigger.stateDict()['3.weight']!.data())).toEqual(bytesOf(a.stateDict()['3.weight']!.data()));
  });
});

describe('dtypes kiln reads but does not store', () => {
  it('F16 is float16 with the same bits; BF16 becomes float32 (normals, subnormals, ±0, ±Infinity, NaN)', () => {
    const half = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3555];
    const bf = [0x3f80, 0xc020, 0x7f80, 0x0001, 0x8000, 0x7fc0];
    const le = (words: number[]) => words.flatMap((w) => [w & 0xff, w >> 8]);
    const file = buildFile(
      { h: { dtype: 'F16', shape: [9], data_offsets: [0, 18] }, b: { dtype: 'BF16', shape: [2, 3], data_offsets: [18, 30] } },
      [...le(half), ...le(bf)],
    );
    const { tensors } = nn.deserializeSafetensors(file);
    expect(tensors['h']!.dtype).toBe('float16');
    expect(Array.from(tensors['h']!.data())).toEqual(half);
    const h = (tensors['h']!.toArray() as number[]);
    expect(h.slice(0, 7)).toEqual([1, -2, 65504, 2 ** -24, -0, Infinity, -Infinity]);
    expect(Object.is(h[4], -0)).toBe(true);
    expect(Number.isNaN(h[7])).toBe(true);
    expect(h[8]).toBeCloseTo(1 / 3, 3);
    expect(tensors['b']!.dtype).toBe('float32');
    expect(tensors['b']!.shape).toEqual([2, 3]);
    const b = Array.from(tensors['b']!.data());
    expect(b.slice(0, 3)).toEqual([1, -2.5, Infinity]);
    expect(b[3]).toBe(new Float32Array(new Uint32Array([0x00010000]).buffer)[0]);
    expect(Object.is(b[4], -0)).toBe(true);
    expect(Number.isNaN(b[5])).toBe(true);
  });

  it('I64, I16 and I8 become int32, U8 is uint8; an I64 outside the int32 range is an error', () => {
    const i64 = new DataView(new ArrayBuffer(24));
    i64.setBigInt64(0, -2147483648n, true);
    i64.setBigInt64(8, 2147483647n, true);
    i64.setBigInt64(16, -5n, true);
    const small = [0x00, 0x80, 0xff, 0x7f, /* I16 -32768, 32767 */ 0x80, 0x7f, 0xff, /* I8 -128, 127, -1 */ 0xff, 0x00, /* U8 255, 0 */ 0, 0, 0];
    const file = buildFile({
      __metadata__: { source: 'test' },
      big: { dtype: 'I64', shape: [3], data_offsets: [0, 24] },
      i16: { dtype: 'I16', shape: [2], data_offsets: [24, 28] },
      i8: { dtype: 'I8', shape: [3], data_offsets: [28, 31] },
      u8: { dtype: 'U8', shape: [2], data_offsets: [31, 33] },
      pad: { dtype: 'U8', shape: [3], data_offsets: [33, 36] },
    }, [...new Uint8Array(i64.buffer), ...small]);
    const { tensors, metadata } = nn.deserializeSafetensors(file);
    expect(metadata).toEqual({ source: 'test' });
    expect(tensors['big']!.dtype).toBe('int32');
    expect(tensors['big']!.toArray()).toEqual([-2147483648, 2147483647, -5]);
    expect(tensors['i16']!.toArray()).toEqual([-32768, 32767]);
    expect(tensors['i8']!.toArray()).toEqual([-128, 127, -1]);
    expect(tensors['u8']!.toArray()).toEqual([255, 0]);
    expect(tensors['u8']!.dtype).toBe('uint8');

    i64.setBigInt64(8, 2147483648n, true);
    const tooBig = buildFile({ big: { dtype: 'I64', shape: [3], data_offsets: [0, 24] } }, new Uint8Array(i64.buffer));
    expect(() => nn.deserializeSafetensors(tooBig)).toThrow(/tensor "big" \(I64\) holds 2147483648 at element 1, outside the int32 range/);
  });

  it('BOOL bytes other than 0 and 1 read as true; data at unaligned offsets is read correctly', () => {
    const f32 = new Uint8Array(new Float32Array([1.5, -3]).buffer);
    const file = buildFile({ m: { dtype: 'BOOL', shape: [3], data_offsets: [0, 3] }, x: { dtype: 'F32', shape: [2], data_offsets: [3, 11] } }, [0, 2, 255, ...f32]);
    const { tensors } = nn.deserializeSafetensors(file);
    expect(tensors['m']!.toArray()).toEqual([false, true, true]);
    expect(tensors['x']!.toArray()).toEqual([1.5, -3]);
  });
});

describe('malformed files', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const eight = [0, 0, 128, 63, 0, 0, 0, 64];
  const load = (bytes: Uint8Array) => () => nn.deserializeSafetensors(bytes);

  it('a well-formed control file loads', () => {
    expect(nn.deserializeSafetensors(buildFile(ok, eight)).tensors['a']!.toArray()).toEqual([1, 2]);
  });

  it('header length: too short a file, too large, past the end', () => {
    expect(load(new Uint8Array(5))).toThrow(/fewer than the 8 of the header length/);
    expect(load(buildFile(ok, eight, 2n ** 40n))).toThrow(/deserializeSafetensors: the header length 1099511627776 is too large/);
    expect(load(buildFile(ok, eight, 2n ** 64n - 1n))).toThrow(/too large/);
    expect(load(buildFile(ok, eight, 1000n))).toThrow(/the header length 1000 runs past the end/);
  });

  it('header text: not UTF-8, not JSON, not an object', () => {
    const bad = buildFile('{"a":1}');
    bad[9] = 0xff;
    expect(load(bad)).toThrow(/not valid UTF-8/);
    expect(load(buildFile('{"a": '))).toThrow(/not valid JSON/);
    expect(load(buildFile('[1, 2]'))).toThrow(/must be a JSON object starting with '\{'/);
    expect(load(buildFile(' {}'))).toThrow(ValueError);
  });

  it('entries: unknown dtype, bad shape, bad offsets, shape/size mismatch, bad metadata', () => {
    expect(load(buildFile({ a: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }, eight))).toThrow(/tensor "a" has unknown or unsupported dtype "Q4"/);
    expect(load(buildFile({ a: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }, eight))).toThrow(/invalid shape/);
    expect(load(buildFile({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, eight))).toThrow(/invalid data_offsets \[8,0\]/);
    expect(load(buildFile({ a: { dtype: 'F32', shape: [2] } }, eight))).toThrow(/invalid data_offsets/);
    expect(load(buildFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, eight))).toThrow(/tensor "a" of shape \[3\] and dtype F32 needs 12 bytes, but data_offsets \[0, 8\] span 8/);
    expect(load(buildFile({ a: [1] }, eight))).toThrow(/must be described by an object/);
    expect(load(buildFile({ ...ok, __metadata__: { epoch: 3 } }, eight))).toThrow(/values must be strings/);
  });

  it('offsets: overlapping, out of bounds, gaps, uncovered trailing bytes', () => {
    const two = (a: [number, number], b: [number, number], data: number[]) => buildFile({
      a: { dtype: 'F32', shape: [(a[1] - a[0]) / 4], data_offsets: a },
      b: { dtype: 'F32', shape: [(b[1] - b[0]) / 4], data_offsets: b },
    }, data);
    const sixteen = [...eight, ...eight];
    expect(load(two([0, 8], [4, 12], sixteen))).toThrow(/tensor "b" at bytes \[4, 12\] overlaps the tensor before it/);
    expect(load(two([0, 8], [8, 24], sixteen))).toThrow(/tensor "b" at bytes \[8, 24\] runs past the end of the 16-byte data section/);
    expect(load(two([0, 4], [8, 16], sixteen))).toThrow(/bytes \[4, 8\] of the data belong to no tensor/);
    expect(load(buildFile(ok, [...eight, 0, 0, 0, 0]))).toThrow(/the data section has 12 bytes but the tensors cover 8/);
    expect(load(buildFile(ok, [1, 2, 3]))).toThrow(/runs past the end/);
  });
});
