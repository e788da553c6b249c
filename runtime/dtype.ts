/**
 * The element types kiln stores. `bool` is stored one byte per element as 0 or 1; `uint8`
 * also takes one byte (0..255, arithmetic wraps modulo 256) but is a number, not a truth value.
 * `float16` is stored as IEEE half bits in a Uint16Array; it computes in float32 registers and
 * rounds every result to half, as PyTorch's CPU half does.
 */
export type DType = 'float16' | 'float32' | 'float64' | 'int32' | 'uint8' | 'bool';

/** Every dtype, in promotion order (a later one holds the earlier ones' values). */
export const DTYPES: readonly DType[] = ['bool', 'uint8', 'int32', 'float16', 'float32', 'float64'];

/** The typed array that stores elements of each dtype. */
export interface TypedArrayOf {
  /** Half bits: Node 20 has no Float16Array, and bits keep every NaN payload and -0 as stored. */
  float16: Uint16Array;
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

/** Any storage array. */
export type TypedArray = TypedArrayOf[DType];

type ArrayCtor = { new (n: number): TypedArray; new (buf: ArrayBufferLike, byteOffset: number, length: number): TypedArray; BYTES_PER_ELEMENT: number };

/** Typed array constructors by dtype. */
export const ARRAY_OF: Record<DType, ArrayCtor> = {
  float16: Uint16Array,
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

/** Bytes per element. */
export function itemSize(dtype: DType): number {
  return ARRAY_OF[dtype].BYTES_PER_ELEMENT;
}

/** True for float16, float32 and float64. */
export function isFloat(dtype: DType): boolean {
  return dtype === 'float16' || dtype === 'float32' || dtype === 'float64';
}

/** True when `x` names a dtype kiln supports. */
export function isDType(x: unknown): x is DType {
  return x === 'float16' || x === 'float32' || x === 'float64' || x === 'int32' || x === 'uint8' || x === 'bool';
}

/** True for the integer dtypes int32 and uint8 (bool is a truth value, not a number). */
export function isInteger(dtype: DType): boolean {
  return dtype === 'int32' || dtype === 'uint8';
}

/** The dtype of a typed array, or undefined for an array kiln does not store. */
export function dtypeOfArray(a: unknown): DType | undefined {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  // A Uint8Array is a uint8 tensor's data (images); bool data is made from booleans.
  if (a instanceof Uint8Array) return 'uint8';
  return undefined;
}
