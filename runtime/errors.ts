/** Base class of every error kiln throws on purpose. */
export class KilnError extends Error {
  override name = 'KilnError';
}

/** Shapes that do not fit an op: broadcasting, contraction, axes, reshape sizes. */
export class ShapeError extends KilnError {
  override name = 'ShapeError';
}

/** A dtype an op cannot take, or a result that cannot be stored in the requested dtype. */
export class DTypeError extends KilnError {
  override name = 'DTypeError';
}

/** A bad argument value: a NaN seed, an index out of range, a ragged nested array. */
export class ValueError extends KilnError {
  override name = 'ValueError';
}

/** An index outside its dimension (gather, scatter, what is built on them); its numbers let callers re-report it. */
export class IndexRangeError extends ValueError {
  override name = 'IndexRangeError';
  constructor(readonly op: string, readonly index: number, readonly size: number, what = `a dimension of size ${size}`) {
    const valid = size > 0 ? `0..${size - 1}` : 'none, the dimension is empty';
    super(`${op}: index ${index} is out of range for ${what} (valid: ${valid})`);
  }
}

/** Tensors on different devices, or a device that cannot do what was asked. */
export class DeviceError extends KilnError {
  override name = 'DeviceError';
}

/** A broken invariant inside kiln: a bug, never the user's fault. */
export class InternalError extends KilnError {
  override name = 'InternalError';
  constructor(message: string) {
    super(`internal: ${message}`);
  }
}

/** Formats a shape the way error messages print it: [2,3]. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** A jit'd function diverged from its trace in strict mode, or was used in a way jit cannot compile. */
export class JitError extends KilnError {
  override name = 'JitError';
}

/** Formats a JS value the user passed where it did not belong: strings quoted, objects by kind. */
export function fmtValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 24 ? `${value.slice(0, 24)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return value.length <= 8 ? `[${value.map(fmtValue).join(',')}]` : `an array of ${value.length}`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}
