/**
 * Type promotion: PyTorch's lattice bool < uint8 < int32 < float32 < float64, with JS numbers and
 * booleans as weak scalars that adopt the tensor's dtype when it can hold their kind
 * (`x.mul(2)` stays float32, `intTensor.mul(0.5)` becomes float32).
 */
import { DTYPES, isDType, isInteger, type DType } from '../runtime/dtype.js';
import { DTypeError, ValueError } from '../runtime/errors.js';

export type { DType } from '../runtime/dtype.js';

/** A JS value that acts as a scalar operand. */
export type Scalar = number | boolean;

/** 0 = bool, 1 = integer, 2 = floating. */
function category(x: DType | Scalar): number {
  if (typeof x === 'boolean') return 0;
  if (typeof x === 'number') return Number.isInteger(x) ? 1 : 2;
  return x === 'bool' ? 0 : isInteger(x) ? 1 : 2;
}

const DEFAULT_OF_CATEGORY: readonly DType[] = ['bool', 'int32', 'float32'];

/** The dtype an op computes in for operands that are dtypes (tensors) or weak scalars. */
export function resultType(...operands: (DType | Scalar)[]): DType {
  if (operands.length === 0) throw new ValueError('resultType: needs at least one dtype or scalar');
  let strong: DType | undefined;
  let weak = -1;
  for (const x of operands) {
    if (typeof x === 'string') {
      if (!isDType(x)) throw new DTypeError(`resultType: unknown dtype ${String(x)} (valid: float16, float32, float64, int32, uint8, bool)`);
      if (strong === undefined || DTYPES.indexOf(x) > DTYPES.indexOf(strong)) strong = x;
    } else {
      weak = Math.max(weak, category(x));
    }
  }
  if (strong === undefined) return DEFAULT_OF_CATEGORY[weak]!;
  return weak > category(strong) ? DEFAULT_OF_CATEGORY[weak]! : strong;
}

/** True when values of `from` may be written into a tensor of `to` by an in-place op. */
export function canCast(from: DType, to: DType): boolean {
  return category(from) <= category(to);
}

/** The first dtype at or above `dtype` in the lattice that `accepts` holds; bool-only ops test truth. */
export function operandDtype(dtype: DType, accepts: readonly DType[]): DType {
  if (accepts.includes(dtype)) return dtype;
  for (let i = DTYPES.indexOf(dtype) + 1; i < DTYPES.length; i++) {
    // bool arithmetic counts in int32, as before uint8 existed: a uint8 count would wrap at 256.
    // Integers made float become float32, PyTorch's default float, never float16.
    if (DTYPES[i] === 'uint8' || DTYPES[i] === 'float16') continue;
    if (accepts.includes(DTYPES[i]!)) return DTYPES[i]!;
  }
  if (accepts.includes('bool')) return 'bool';
  throw new DTypeError(`dtype ${dtype} cannot be computed as any of ${accepts.join(', ')}`);
}
