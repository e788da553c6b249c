/**
 * Numbers as storage holds them. Every dtype but float16 stores its value in its typed array
 * element; float16 stores half bits, so its value and its element differ.
 */
import { ARRAY_OF, type DType } from './dtype.js';
import { floatToHalf, halfToFloat, roundToHalf } from './half.js';

/** `v` as an element of `dtype` holds it, as a value (float32 rounds, int32 wraps, float16 rounds to half). */
export function storedValue(v: number, dtype: DType): number {
  if (dtype === 'float16') return roundToHalf(v);
  const one = new ARRAY_OF[dtype](1);
  one[0] = v;
  return one[0]!;
}

/** The storage element of `dtype` that holds `v` (half bits for float16). */
export function toElement(v: number, dtype: DType): number {
  return dtype === 'float16' ? floatToHalf(v) : v;
}

/** The value a storage element of `dtype` holds. */
export function fromElement(e: number, dtype: DType): number {
  return dtype === 'float16' ? halfToFloat(e) : e;
}

/** The values of storage elements of `dtype`: a Float32Array for float16 (each half is exact there), else `elements`. */
export function valuesOf(elements: ArrayLike<number>, dtype: DType): ArrayLike<number> {
  return dtype === 'float16' ? Float32Array.from(elements, halfToFloat) : elements;
}
