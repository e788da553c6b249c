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
