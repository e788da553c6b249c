/**
 * Lane-wise float64x2 arithmetic written as expressions over Wasm locals, for the math
 * functions of math.ts. Each operation emits its operands, one SIMD instruction and a
 * `local.set` into a fresh local, and returns that local: the operation tree stays exactly
 * the tree of the JavaScript helpers it mirrors (compiler/scalar/f32-math.ts), so both round
 * the same way at every step. Locals cost nothing once V8's optimizing tier allocates
 * registers.
 *
 * A writer works on one or two copies of every value: the vector form of a function
 * computes the low and the high half of an f32x4 side by side, instruction by instruction,
 * so the two halves' dependency chains overlap (the polynomials are latency-bound: tanh over
 * 4M float32 in bench/wasm-math.ts went from 144 ms, one half after the other, to 36 ms);
 * the scalar form computes one copy with the same instructions, hence the same bits.
 */
import type { Code, ModuleBuilder } from './encoder.js';
import type { SimdOp } from './opcodes.js';

/** A v128 operand: locals holding its copies, or a constant's four 32-bit lanes (the same for every copy). */
export type Lanes =
  | { readonly locals: readonly number[] }
  | { readonly bits: readonly [number, number, number, number] };

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
/** Whether the low 32-bit word of a float64 comes first in memory (as Wasm's little-endian lanes have it). */
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The two 32-bit words of a float64's bits, low word first. */
function words(x: number): [number, number] {
  F64[0] = x;
  return LITTLE ? [U32[0]!, U32[1]!] : [U32[1]!, U32[0]!];
}

/** Both lanes set to the float64 `x`. */
export function f64(x: number): Lanes {
  const [lo, hi] = words(x);
  return { bits: [lo, hi, lo, hi] };
}

/** Both lanes set to the 64-bit integer `x` (two's complement). */
export function i64(x: bigint): Lanes {
  const v = BigInt.asUintN(64, x);
  const lo = Number(v & 0xffffffffn), hi = Number(v >> 32n);
  return { bits: [lo, hi, lo, hi] };
}

/** Emits f64x2 (and i64x2 and bitwise) operations into one function body, on `copies` copies of each value. */
export class LaneWriter {
  constructor(readonly code: Code, readonly copies: 1 | 2, private readonly module: ModuleBuilder) {}

  /** Pushes copy `i` of an operand (a constant from the module's globals: see math-f32.ts). */
  push(v: Lanes, i: number): Code {
    return 'locals' in v ? this.code.get(v.locals[i]!) : this.code.global(this.module.constant(v.bits));
  }

  /** New v128 locals, one per copy. */
  variable(): { readonly locals: readonly number[] } {
    return { locals: Array.from({ length: this.copies }, () => this.code.local('v128')) };
  }

  /** target = v, copy by copy. */
  assign(target: { readonly locals: readonly number[] }, v: Lanes): void {
    target.locals.forEach((local, i) => this.push(v, i).set(local));
  }

  /** A new value whose copy i is what `emit(i)` leaves on the stack. */
  private each(emit: (i: number) => void): Lanes {
    const out = this.variable();
    out.locals.forEach((local, i) => {
      emit(i);
      this.code.set(local);
    });
    return out;
  }

  private binary(op: SimdOp, a: Lanes, b: Lanes): Lanes {
    return this.each((i) => {
      this.push(a, i);
      this.push(b, i).simd(op);
    });
  }

  private unary(op: SimdOp, a: Lanes): Lanes {
    return this.each((i) => this.push(a, i).simd(op));
  }

  add(a: Lanes, b: Lanes): Lanes { return this.binary('f64x2.add', a, b); }
  sub(a: Lanes, b: Lanes): Lanes { return this.binary('f64x2.sub', a, b); }
  mul(a: Lanes, b: Lanes): Lanes { return this.binary('f64x2.mul', a, b); }
  div(a: Lanes, b: Lanes): Lanes { return this.binary('f64x2.div', a, b); }
  /** Wasm's min: NaN if either lane is NaN, and -0 below +0, as Math.min. */
  min(a: Lanes, b: Lanes): Lanes { return this.binary('f64x2.min', a, b); }
  abs(a: Lanes): Lanes { return this.unary('f64x2.abs', a); }
  floor(a: Lanes): Lanes { return this.unary('f64x2.floor', a); }

  /** All-ones lanes where the comparison holds (false for NaN, as in JavaScript). */
  lt(a: Lanes, b: Lanes): Lanes { return this.binary('f64x2.lt', a, b); }
  gt(a: Lanes, b: Lanes): Lanes { return this.binary('f64x2.gt', a, b); }
  ge(a: Lanes, b: Lanes): Lanes { return this.binary('f64x2.ge', a, b); }
  eq(a: Lanes, b: Lanes): Lanes { return this.binary('f64x2.eq', a, b); }
  ne(a: Lanes, b: Lanes): Lanes { return this.binary('f64x2.ne', a, b); }

  and(a: Lanes, b: Lanes): Lanes { return this.binary('v128.and', a, b); }
  or(a: Lanes, b: Lanes): Lanes { return this.binary('v128.or', a, b); }
  xor(a: Lanes, b: Lanes): Lanes { return this.binary('v128.xor', a, b); }
  /** a & ~b. */
  andNot(a: Lanes, b: Lanes): Lanes { return this.binary('v128.andnot', a, b); }

  /** `mask ? a : b` lane by lane (a mask lane is all ones or all zeros). */
  select(mask: Lanes, a: Lanes, b: Lanes): Lanes {
    return this.each((i) => {
      this.push(a, i);
      this.push(b, i);
      this.push(mask, i).simd('v128.bitselect');
    });
  }

  /** 64-bit integer lanes. */
  iadd(a: Lanes, b: Lanes): Lanes { return this.binary('i64x2.add', a, b); }
  isub(a: Lanes, b: Lanes): Lanes { return this.binary('i64x2.sub', a, b); }

  private shift(op: 'i64x2.shl' | 'i64x2.shr_s' | 'i64x2.shr_u', a: Lanes, bits: number): Lanes {
    return this.each((i) => this.push(a, i).i32(bits).simd(op));
  }

  shl(a: Lanes, bits: number): Lanes { return this.shift('i64x2.shl', a, bits); }
  shrS(a: Lanes, bits: number): Lanes { return this.shift('i64x2.shr_s', a, bits); }
  shrU(a: Lanes, bits: number): Lanes { return this.shift('i64x2.shr_u', a, bits); }

  /** Whether any lane of any copy of a mask is set, as an i32 on the stack (for an `if`). */
  anyTrue(mask: Lanes): Code {
    this.push(mask, 0);
    for (let i = 1; i < this.copies; i++) this.push(mask, i).simd('v128.or');
    return this.code.simd('v128.any_true');
  }
}

/** 1.5 * 2^52: `(y + SHIFT) - SHIFT` rounds |y| < 2^51 to the nearest integer (ties to even). */
const SHIFT = 6755399441055744;
/** The bits of SHIFT: the bits of SHIFT + k are SHIFT_BITS + k for every integer |k| < 2^51. */
const SHIFT_BITS = 0x4338000000000000n;
/** The sign bit of each float64 lane. */
export const SIGN = f64(-0);

/** y rounded to an integer as `(y + SHIFT) - SHIFT`: `k` as a float64, and `t = y + SHIFT`, whose low bits are k's. */
export function roundToInteger(w: LaneWriter, y: Lanes): { k: Lanes; t: Lanes } {
  const t = w.add(y, f64(SHIFT));
  return { k: w.sub(t, f64(SHIFT)), t };
}

/** The float64 value of small integer lanes n (|n| < 2^51): exact, through the bits of SHIFT + n. */
export function toFloat(w: LaneWriter, n: Lanes): Lanes {
  return w.sub(w.iadd(n, i64(SHIFT_BITS)), f64(SHIFT));
}

/** 2^k from `t` of {@link roundToInteger}, for integers -1022 <= k <= 1023: the exponent field set to k + 1023. */
export function pow2(w: LaneWriter, t: Lanes): Lanes {
  return w.shl(w.iadd(t, i64(1023n - SHIFT_BITS)), 52);
}

/** The integer lanes n (|n| < 2^51) of `t` from {@link roundToInteger}. */
export function integerBits(w: LaneWriter, t: Lanes): Lanes {
  return w.isub(t, i64(SHIFT_BITS));
}
