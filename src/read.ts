/** Reading tensor elements out to JS values. */
import { ARRAY_OF, type TypedArray } from '../runtime/dtype.js';
import { fromElement } from '../runtime/stored.js';
import { readStorageSync } from './storage.js';
import type { Tensor } from './tensor.js';

/** Nested arrays of a tensor's elements; a bare number or boolean for 0-d. */
export type Nested = number | boolean | Nested[];

/** A fresh row-major typed array of `t`'s elements (any strides). */
export function readContiguous(t: Tensor): TypedArray {
  const n = t.size;
  if (t.isContiguous) return readStorageSync(t.storage, t.dtype, t.offset, n);
  if (n === 0) return new ARRAY_OF[t.dtype](0);
  // A strided view: the span it covers is read once, then gathered by strides on the host.
  let lo = t.offset, hi = t.offset;
  for (let d = 0; d < t.ndim; d++) {
    const reach = (t.shape[d]! - 1) * t.strides[d]!;
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  const src = readStorageSync(t.storage, t.dtype, lo, hi - lo + 1);
  const out = new ARRAY_OF[t.dtype](n);
  const idx = new Array<number>(t.ndim).fill(0);
  let p = t.offset - lo;
  for (let i = 0; i < n; i++) {
    out[i] = src[p]!;
    // Odometer over the multi-index, moving the storage position by strides.
    for (let d = t.ndim - 1; d >= 0; d--) {
      idx[d]!++;
      p += t.strides[d]!;
      if (idx[d]! < t.shape[d]!) break;
      p -= t.strides[d]! * t.shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** Nested JS arrays of `t`'s elements; bool elements become booleans. */
export function toNested(t: Tensor, flat: ArrayLike<number> = readContiguous(t)): Nested {
  const conv = t.dtype === 'bool' ? (v: number) => v !== 0 : (v: number) => fromElement(v, t.dtype);
  if (t.ndim === 0) return conv(flat[0]!);
  let at = 0;
  const build = (d: number): Nested[] => {
    const out: Nested[] = [];
    for (let i = 0; i < t.shape[d]!; i++) out.push(d === t.ndim - 1 ? conv(flat[at++]!) : build(d + 1));
    return out;
  };
  return build(0);
}
