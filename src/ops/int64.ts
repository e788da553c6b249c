/**
 * Casting to int64, PyTorch's index dtype, which kiln stores as int32 as the creation
 * functions do: a value whose truncation lies beyond int32's range is an error, never a wrap.
 */
import { isFloat } from '../../runtime/dtype.js';
import { DTypeError, ValueError } from '../../runtime/errors.js';
import { apply } from '../dispatch.js';
import type { Tensor } from '../tensor.js';
import { cast, ge, isnan, le, logicalOr, lt } from './elementwise.js';

const INT32_MIN = -(2 ** 31), INT32_MAX = 2 ** 31 - 1;

/** True where `x` (a float tensor) truncates to a value int32 cannot hold, NaN and ±Inf included. */
function outsideInt32(x: Tensor): Tensor {
  // trunc(x) < -2^31 means x <= -2^31 - 1, exact in float64; float32 has no value strictly
  // between -2^31 - 256 and -2^31, where -2^31 - 1 would round to -2^31 itself.
  const below = x.dtype === 'float32' ? lt(x, INT32_MIN) : le(x, INT32_MIN - 1);
  return logicalOr(logicalOr(below, ge(x, INT32_MAX + 1)), isnan(x));
}

/** `x` as int64, stored as int32: bool, uint8 and int32 always fit; float values are range-checked. */
export function castInt64(x: Tensor): Tensor {
  if (!isFloat(x.dtype)) return cast(x, 'int32');
  if (x.device !== 'cpu') {
    throw new DTypeError(
      `cast: int64 of a ${x.dtype} tensor on ${x.device} needs its range checked on the cpu; ` +
      'cast there, or cast to int32 (whose conversion wraps)',
    );
  }
  // One number read: under jit it is a guard, so a replay whose values leave the range runs eagerly and throws here.
  const outside = outsideInt32(x);
  const count = apply('sum', [cast(outside, 'int32')], { axes: x.shape.map((_, d) => d) });
  if (count.item() !== 0) {
    const flags = outside.data();
    const i = flags.findIndex((f) => f !== 0);
    const v = x.data()[i]!;
    throw new ValueError(
      `cast: int64 value ${v} at index ${i} does not fit int32, which kiln stores int64 as (valid: ${INT32_MIN}..${INT32_MAX})`,
    );
  }
  return cast(x, 'int32');
}
