/**
 * The helpers object `M` that generated JavaScript kernels receive. float32 math goes
 * through one set of functions here, so eager and jit kernels produce the same bits.
 */
import { IndexRangeError } from '../../runtime/errors.js';
import { powC, powInt32 } from '../ir/primitives.js';
import { fillUniform } from '../random/philox.js';
import { f32Math } from '../scalar/f32-math.js';

/** Round half to even, as PyTorch's round does. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Python/PyTorch remainder: the result takes the divisor's sign. */
function mod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

function indexRangeError(op: string, i: number, size: number): IndexRangeError {
  return new IndexRangeError(op, i, size);
}

/** Thrown from generated gather loops: names the bad index and the valid range. */
function indexError(i: number, size: number): never {
  throw indexRangeError('gather', i, size);
}

/** Thrown from generated scatter stores, so the error names the op the user called. */
function scatterIndexError(i: number, size: number): never {
  throw indexRangeError('scatterAdd', i, size);
}

/** erf in float64: Maclaurin series near 0, continued fraction for erfc beyond. */
function erf64(x: number): number {
  if (x !== x) return NaN;
  if (x === 0) return x;
  const a = Math.abs(x);
  if (a > 6) return x > 0 ? 1 : -1;
  let r: number;
  if (a < 2.5) {
    let term = a, sum = a;
    for (let n = 1; n < 200; n++) {
      term *= (-a * a) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    r = 1.1283791670955126 * sum;
  } else {
    let c = 0;
    for (let n = 60; n >= 1; n--) c = n / 2 / (a + c);
    r = 1 - Math.exp(-a * a) / 1.7724538509055159 / (a + c);
  }
  return x < 0 ? -r : r;
}

function sigmoid64(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Helpers visible to generated JS as `M`. */
export const jsHelpers = {
  ...f32Math,
  tan: (x: number) => Math.fround(Math.tan(x)),
  exp64: Math.exp,
  log64: Math.log,
  log1p64: Math.log1p,
  expm164: Math.expm1,
  sin64: Math.sin,
  cos64: Math.cos,
  tan64: Math.tan,
  tanh64: Math.tanh,
  erf64,
  sigmoid64,
  roundHalfEven,
  mod,
  powC,
  powInt32,
  indexError,
  scatterIndexError,
  fillUniform,
};
