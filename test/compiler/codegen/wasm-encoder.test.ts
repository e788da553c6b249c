/**
 * The WebAssembly encoder: LEB128 and section bytes, instruction encodings checked against
 * the core specification's opcode numbers, every instruction class run for real in a tiny
 * module (so a wrong opcode computes the wrong thing), and every gemm variant validating.
 */
import { describe, expect, it } from 'vitest';
import { Code, ModuleBuilder, signedLeb, unsignedLeb } from '../../../compiler/codegen/wasm/encoder.js';
import { renderGemm } from '../../../compiler/codegen/wasm/gemm.js';
import { PLAIN, SIMD, type SimdOp } from '../../../compiler/codegen/wasm/opcodes.js';
import { wasmApi } from '../../../runtime/wasm/api.js';
import { wasmFeatures } from '../../../runtime/wasm/features.js';
import { InternalError } from '../../../runtime/errors.js';

const api = wasmApi!;

function leb(write: (out: number[], n: number) => void, n: number): number[] {
  const out: number[] = [];
  write(out, n);
  return out;
}

/** A module whose exported `f` (three i32 pointers) is written by `build`, over a fresh memory. */
function instantiate(build: (c: Code) => void, params = 3): { f: (...args: number[]) => void; memory: ArrayBuffer } {
  const module = new ModuleBuilder({ initial: 1, shared: false });
  module.func('f', Array.from({ length: params }, () => 'i32' as const), [], build);
  const bytes = module.encode();
  expect(api.validate(bytes)).toBe(true);
  const memory = new api.Memory({ initial: 1 });
  const instance = new api.Instance(new api.Module(bytes), { env: { memory } });
  return { f: instance.exports.f as (...args: number[]) => void, memory: memory.buffer as ArrayBuffer };
}

describe('LEB128', () => {
  it('encodes unsigned and signed integers as the spec examples do', () => {
    expect(leb(unsignedLeb, 0)).toEqual([0x00]);
    expect(leb(unsignedLeb, 127)).toEqual([0x7f]);
    expect(leb(unsignedLeb, 128)).toEqual([0x80, 0x01]);
    expect(leb(unsignedLeb, 624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(leb(unsignedLeb, 0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(leb(signedLeb, -1)).toEqual([0x7f]);
    expect(leb(signedLeb, 63)).toEqual([0x3f]);
    expect(leb(signedLeb, 64)).toEqual([0xc0, 0x00]);
    expect(leb(signedLeb, -64)).toEqual([0x40]);
    expect(leb(signedLeb, -65)).toEqual([0xbf, 0x7f]);
    expect(leb(signedLeb, -123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(leb(signedLeb, -0x80000000)).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
  });

  it('rejects what is not a 32-bit integer', () => {
    expect(() => leb(unsignedLeb, -1)).toThrow(InternalError);
    expect(() => leb(unsignedLeb, 2 ** 32)).toThrow(InternalError);
    expect(() => leb(signedLeb, 2 ** 31)).toThrow(InternalError);
    expect(() => leb(signedLeb, 1.5)).toThrow(InternalError);
  });
});

describe('instruction encodings', () => {
  it('match the specification opcode numbers', () => {
    // Core spec, binary format: numeric and SIMD instruction tables.
    const scalar: [keyof typeof PLAIN, number][] = [
      ['i32.add', 0x6a], ['i32.mul', 0x6c], ['i32.lt_s', 0x48], ['i32.eqz', 0x45], ['select', 0x1b],
      ['f32.add', 0x92], ['f32.mul', 0x94], ['f64.add', 0xa0], ['f64.promote_f32', 0xbb], ['f32.demote_f64', 0xb6],
    ];
    for (const [op, code] of scalar) expect(new Code([]).op(op).bytes, op).toEqual([code]);
    const simd: [SimdOp, number[]][] = [
      ['f32x4.splat', [0xfd, 0x13]], ['f32x4.add', [0xfd, 0xe4, 0x01]], ['f32x4.mul', [0xfd, 0xe6, 0x01]],
      ['f64x2.add', [0xfd, 0xf0, 0x01]], ['i32x4.add', [0xfd, 0xae, 0x01]], ['v128.bitselect', [0xfd, 0x52]],
      ['f32x4.relaxed_madd', [0xfd, 0x85, 0x02]], ['f64x2.relaxed_nmadd', [0xfd, 0x88, 0x02]],
    ];
    for (const [op, bytes] of simd) expect(new Code([]).simd(op).bytes, op).toEqual(bytes);
    expect(new Code([]).simdMem('v128.load', 16).bytes).toEqual([0xfd, 0x00, 0x04, 0x10]);
    expect(new Code([]).simdMem('v128.store').bytes).toEqual([0xfd, 0x0b, 0x04, 0x00]);
    expect(new Code([]).simdMem('v128.load32_splat', 4).bytes).toEqual([0xfd, 0x09, 0x02, 0x04]);
    expect(new Code([]).lane('f32x4.extract_lane', 3).bytes).toEqual([0xfd, 0x1f, 0x03]);
    expect(new Code([]).memLane('v128.store32_lane', 8, 2).bytes).toEqual([0xfd, 0x5a, 0x02, 0x08, 0x02]);
    expect(new Code([]).i32(-1).bytes).toEqual([0x41, 0x7f]);
  });

  it('reject bad immediates and unbalanced blocks', () => {
    expect(() => new Code([]).lane('f32x4.extract_lane', 4)).toThrow(InternalError);
    expect(() => new Code([]).shuffle([0, 1, 2])).toThrow(InternalError);
    expect(() => new Code([]).shuffle(new Array<number>(16).fill(32))).toThrow(InternalError);
    expect(() => new Code([]).get(0)).toThrow(/local/);
    expect(() => new Code([]).end()).toThrow(/end without/);
    expect(() => new Code([]).open('block').encode()).toThrow(/left open/);
    expect(() => new Code([]).open('block').indexed('br', 1)).toThrow(/label depth/);
    expect(() => new ModuleBuilder({ initial: 1, shared: true })).toThrow(/maximum/);
    const module = new ModuleBuilder({ initial: 1, shared: false });
    expect(() => module.func('Bad-Name', [], [], () => undefined)).not.toThrow();
    expect(() => module.encode()).toThrow(/lowercase identifier/);
  });
});

describe('instructions computed for real', () => {
  /** out = op(load a, load b) over one v128. */
  type Lanes = 'f32' | 'f64' | 'i32';
  function binary(op: SimdOp, a: ArrayLike<number>, b: ArrayLike<number>, kind: Lanes, result = kind): number[] {
    const { f, memory } = instantiate((c) => {
      c.get(2).get(0).simdMem('v128.load').get(1).simdMem('v128.load').simd(op).simdMem('v128.store');
    });
    const view = (k: 'f32' | 'f64' | 'i32') => (k === 'f32' ? Float32Array : k === 'f64' ? Float64Array : Int32Array);
    new (view(kind))(memory, 0, a.length).set(a);
    new (view(kind))(memory, 16, b.length).set(b);
    f(0, 16, 32);
    return Array.from(new (view(result))(memory, 32, a.length));
  }

  it('f32x4, f64x2 and i32x4 arithmetic match JavaScript lane by lane', () => {
    const a = [1.5, -2, 3e10, 0.1], b = [0.25, 4, -1e-10, 3];
    const f = Math.fround;
    const f32: [SimdOp, (x: number, y: number) => number][] = [
      ['f32x4.add', (x, y) => f(x + y)], ['f32x4.sub', (x, y) => f(x - y)], ['f32x4.mul', (x, y) => f(x * y)],
      ['f32x4.div', (x, y) => f(x / y)], ['f32x4.min', Math.min], ['f32x4.max', Math.max],
    ];
    const fa = a.map(f), fb = b.map(f);
    for (const [op, fn] of f32) expect(binary(op, fa, fb, 'f32'), op).toEqual(fa.map((x, i) => fn(x, fb[i]!)));
    const f64: [SimdOp, (x: number, y: number) => number][] = [
      ['f64x2.add', (x, y) => x + y], ['f64x2.sub', (x, y) => x - y],
      ['f64x2.mul', (x, y) => x * y], ['f64x2.div', (x, y) => x / y],
    ];
    for (const [op, fn] of f64) {
      expect(binary(op, a.slice(0, 2), b.slice(0, 2), 'f64'), op).toEqual([fn(a[0]!, b[0]!), fn(a[1]!, b[1]!)]);
    }
    const ia = [7, -3, 2 ** 30, 5], ib = [2, 9, 4, -5];
    const i32: [SimdOp, (x: number, y: number) => number][] = [
      ['i32x4.add', (x, y) => (x + y) | 0], ['i32x4.sub', (x, y) => (x - y) | 0], ['i32x4.mul', Math.imul],
      ['i32x4.min_s', Math.min], ['i32x4.max_s', Math.max], ['i32x4.gt_s', (x, y) => (x > y ? -1 : 0)],
      ['v128.and', (x, y) => x & y], ['v128.or', (x, y) => x | y], ['v128.xor', (x, y) => x ^ y],
    ];
    for (const [op, fn] of i32) expect(binary(op, ia, ib, 'i32'), op).toEqual(ia.map((x, i) => fn(x, ib[i]!)));
    expect(binary('f32x4.lt', fa, fb, 'f32', 'i32')).toEqual(fa.map((x, i) => (x < fb[i]! ? -1 : 0)));
  });

  it('splats, lanes, shuffles, constants and scalar loops', () => {
    // out[0..3] = splat(a[0]) + f32x4(1,2,3,4), then lane 2 of it replaced by a[1] · 2.
    const { f, memory } = instantiate((c) => {
      const v = c.local('v128');
      c.get(0).simdMem('v128.load32_splat').f32x4([1, 2, 3, 4]).simd('f32x4.add').set(v);
      c.get(v).get(0).mem('f32.load', 4).f32(2).op('f32.mul').lane('f32x4.replace_lane', 2).set(v);
      c.get(2).get(v).simdMem('v128.store');
      // A reversal of the four float lanes.
      c.get(2).get(v).get(v).shuffle([12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3]).simdMem('v128.store', 16);
      // Sum of the first a[2] integers by a loop: stored as i32 at out + 32.
      const i = c.local('i32'), s = c.local('i32');
      c.open('block').open('loop');
      c.get(i).get(0).mem('i32.load', 8).op('i32.ge_s').indexed('br_if', 1);
      c.get(i).i32(1).op('i32.add').tee(i).get(s).op('i32.add').set(s);
      c.indexed('br', 0).end().end();
      c.get(2).get(s).mem('i32.store', 32);
    });
    const floats = new Float32Array(memory, 0, 2);
    floats.set([10, 0.75]);
    new Int32Array(memory, 8, 1)[0] = 100;
    f(0, 0, 64);
    expect(Array.from(new Float32Array(memory, 64, 8))).toEqual([11, 12, 1.5, 14, 14, 1.5, 12, 11]);
    expect(new Int32Array(memory, 96, 1)[0]).toBe(5050);
  });
});

describe('atomic instructions', () => {
  it('encode i32.atomic.rmw.add as the threads extension does, and add in place returning the old value', () => {
    expect(new Code(['i32', 'i32']).get(0).get(1).atomic('i32.atomic.rmw.add', 8).bytes)
      .toEqual([0x20, 0x00, 0x20, 0x01, 0xfe, 0x1e, 0x02, 0x08]);
    for (const shared of [true, false]) {
      const limits = shared ? { initial: 1, maximum: 1, shared } : { initial: 1, shared };
      const module = new ModuleBuilder(limits);
      module.func('f', ['i32', 'i32'], ['i32'], (c) => c.get(0).get(1).atomic('i32.atomic.rmw.add', 4));
      const bytes = module.encode();
      expect(api.validate(bytes), shared ? 'shared' : 'unshared').toBe(true);
      const memory = new api.Memory(limits);
      const instance = new api.Instance(new api.Module(bytes), { env: { memory } });
      const f = instance.exports.f as (p: number, d: number) => number;
      const ints = new Int32Array(memory.buffer, 0, 4);
      ints[2] = 40;
      expect([f(4, 2), f(4, -7), ints[2]]).toEqual([40, 42, 35]);
      expect(Array.from(ints)).toEqual([0, 0, 35, 0]);
    }
  });
});

describe('gemm modules', () => {
  it('validate for every register block, and with fused multiply-add exactly where relaxed SIMD exists', () => {
    for (const mr of [1, 2, 3, 4, 5, 6]) {
      for (const nr of [4, 8, 16]) {
        const memory = { initial: 1, maximum: 65536, shared: true };
        expect(api.validate(renderGemm({ mr, nr, fma: false, memory })), `${mr}x${nr}`).toBe(true);
        const fma = renderGemm({ mr, nr, fma: true, memory: { initial: 1, shared: false } });
        expect(api.validate(fma)).toBe(wasmFeatures().relaxedSimd);
      }
    }
  });

  it('uses the SIMD vocabulary it is built from', () => {
    const bytes = Array.from(renderGemm({ mr: 1, nr: 4, fma: false, memory: { initial: 1, shared: false } }));
    const has = (seq: number[]) => bytes.some((_, i) => seq.every((b, j) => bytes[i + j] === b));
    expect(has([0xfd, SIMD['f32x4.mul'] & 0x7f | 0x80, 0x01, 0xfd, SIMD['f32x4.add'] & 0x7f | 0x80, 0x01])).toBe(true);
    expect(has([0xfd, 0x85, 0x02])).toBe(false);
  });
});
