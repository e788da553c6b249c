/** Milliseconds each variant spent in the graph passes and fusion planning, for explain(). */
const spent = new WeakMap<object, number>();

/** Runs `work` for variant `v`, adding the time it took to `v`'s compile time. */
export function timed<R>(v: object, work: () => R): R {
  const start = performance.now();
  try {
    return work();
  } finally {
    spent.set(v, (spent.get(v) ?? 0) + performance.now() - start);
  }
}

/** The compile time of `v` so far, in milliseconds (undefined before its first replay). */
export function compileTime(v: object): number | undefined {
  return spent.get(v);
}
