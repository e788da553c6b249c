/**
 * float32 `mod` (the remainder taking the divisor's sign, as PyTorch's remainder) with the
 * JavaScript engine's bits. JavaScript computes it on the float64 values: r = a % b (fmod,
 * always exact), then r + b where r is nonzero and its sign differs from b's, rounded to
 * float64, then to float32. Wasm has no fmod instruction, so it is computed here exactly in
 * float64, which holds every step for float32 operands:
 *
 * r = |a| is reduced by s = |b|·2^k, the smallest such multiple with r / s < 2^29, as
 * r - trunc(r / s)·s: the quotient has at most 30 bits and s 24, so their product is exact,
 * and the difference is a remainder below s whose bits fit in float64, so it is exact too.
 * The rounded quotient is at most one too large; then r is negative and s is added back.
 * Each pass drops r below s, at least 28 binary orders lower, until r < |b|; sign(a)·r is then
 * fmod(a, b). A NaN, an infinite a or a zero b give NaN, as JavaScript's % does.
 */
import type { Code } from './encoder.js';

/** Largest quotient of one reduction step (with s's 24 bits, its product with s is exact in float64). */
const QUOTIENT_LIMIT = 2 ** 29;

/** Leaves mod(a, b) of the f32 locals `a`, `b` on the stack as an f32, as the JavaScript engine rounds it. */
export function emitFloat32Mod(c: Code, a: number, b: number): void {
  const x = c.local('f64'), y = c.local('f64'), divisor = c.local('f64'), r = c.local('f64'), s = c.local('f64');
  c.get(a).op('f64.promote_f32').set(x);
  c.get(b).op('f64.promote_f32').set(y);
  c.get(y).op('f64.abs').set(divisor);
  c.get(x).op('f64.abs').set(r);
  // a finite and |b| > 0 (false for NaN): the remainder is a number.
  c.get(r).f64(Infinity).op('f64.lt').get(divisor).f64(0).op('f64.gt').op('i32.and');
  c.open('if');
  c.open('block').open('loop');
  c.get(r).get(divisor).op('f64.lt').indexed('br_if', 1);
  c.get(divisor).set(s);
  c.open('block').open('loop');
  c.get(s).f64(QUOTIENT_LIMIT).op('f64.mul').get(r).op('f64.gt').indexed('br_if', 1);
  c.get(s).get(s).op('f64.add').set(s).indexed('br', 0);
  c.end().end();
  c.get(r).get(r).get(s).op('f64.div').op('f64.trunc').get(s).op('f64.mul').op('f64.sub').set(r);
  c.get(r).get(s).op('f64.add').get(r).get(r).f64(0).op('f64.lt').op('select').set(r);
  c.indexed('br', 0);
  c.end().end();
  c.get(r).get(x).op('f64.copysign').set(r);
  c.else();
  c.f64(NaN).set(r);
  c.end();
  // r !== 0 && (r < 0) !== (b < 0) ? r + b : r
  c.get(r).get(y).op('f64.add').get(r);
  c.get(r).f64(0).op('f64.ne');
  c.get(r).f64(0).op('f64.lt').get(y).f64(0).op('f64.lt').op('i32.ne');
  c.op('i32.and').op('select').op('f32.demote_f64');
}
