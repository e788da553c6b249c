/**
 * A module-level value that a call sets for its own duration (the device of nullary ops,
 * the kernel scope named in logs, the site of a guard): restored when the call returns or
 * throws, so nested calls see their own value and an error leaves none behind.
 */
export class ScopedValue<T> {
  constructor(public value: T) {}

  /** Runs `fn` with the value set to `value`, then restores the previous one. */
  run<R>(value: T, fn: () => R): R {
    const previous = this.value;
    this.value = value;
    try {
      return fn();
    } finally {
      this.value = previous;
    }
  }
}
