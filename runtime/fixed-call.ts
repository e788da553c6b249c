/**
 * A function with its arguments bound, called directly with a fixed arity. A bound launch
 * runs once per loop iteration, so how it calls its kernel matters: in Node 20, calling a
 * six-argument kernel directly took 4.6 ns, `apply` of a kept array 17 ns and `apply` of a
 * fresh array 39 ns.
 */

/** `fn` called with `argv` (read now: later changes to the array are not seen). */
export function fixedCall<A>(fn: (...args: A[]) => void, argv: readonly A[]): () => void {
  const [a, b, c, d, e, f, g, h, i, j, k, l] = argv as A[];
  switch (argv.length) {
    case 0: return () => fn();
    case 1: return () => fn(a!);
    case 2: return () => fn(a!, b!);
    case 3: return () => fn(a!, b!, c!);
    case 4: return () => fn(a!, b!, c!, d!);
    case 5: return () => fn(a!, b!, c!, d!, e!);
    case 6: return () => fn(a!, b!, c!, d!, e!, f!);
    case 7: return () => fn(a!, b!, c!, d!, e!, f!, g!);
    case 8: return () => fn(a!, b!, c!, d!, e!, f!, g!, h!);
    case 9: return () => fn(a!, b!, c!, d!, e!, f!, g!, h!, i!);
    case 10: return () => fn(a!, b!, c!, d!, e!, f!, g!, h!, i!, j!);
    case 11: return () => fn(a!, b!, c!, d!, e!, f!, g!, h!, i!, j!, k!);
    case 12: return () => fn(a!, b!, c!, d!, e!, f!, g!, h!, i!, j!, k!, l!);
    default: {
      const kept = argv.slice();
      return () => fn.apply(undefined, kept);
    }
  }
}

/**
 * `fn` called with the elements `argv` holds at each call (the caller may change them in
 * between, not the length): a direct call by arity up to twelve, `apply` beyond.
 */
export function liveCall<A>(fn: (...args: A[]) => void, argv: A[]): () => void {
  const v = argv;
  switch (v.length) {
    case 0: return () => fn();
    case 1: return () => fn(v[0]!);
    case 2: return () => fn(v[0]!, v[1]!);
    case 3: return () => fn(v[0]!, v[1]!, v[2]!);
    case 4: return () => fn(v[0]!, v[1]!, v[2]!, v[3]!);
    case 5: return () => fn(v[0]!, v[1]!, v[2]!, v[3]!, v[4]!);
    case 6: return () => fn(v[0]!, v[1]!, v[2]!, v[3]!, v[4]!, v[5]!);
    case 7: return () => fn(v[0]!, v[1]!, v[2]!, v[3]!, v[4]!, v[5]!, v[6]!);
    case 8: return () => fn(v[0]!, v[1]!, v[2]!, v[3]!, v[4]!, v[5]!, v[6]!, v[7]!);
    case 9: return () => fn(v[0]!, v[1]!, v[2]!, v[3]!, v[4]!, v[5]!, v[6]!, v[7]!, v[8]!);
    case 10: return () => fn(v[0]!, v[1]!, v[2]!, v[3]!, v[4]!, v[5]!, v[6]!, v[7]!, v[8]!, v[9]!);
    case 11: return () => fn(v[0]!, v[1]!, v[2]!, v[3]!, v[4]!, v[5]!, v[6]!, v[7]!, v[8]!, v[9]!, v[10]!);
    case 12: return () => fn(v[0]!, v[1]!, v[2]!, v[3]!, v[4]!, v[5]!, v[6]!, v[7]!, v[8]!, v[9]!, v[10]!, v[11]!);
    default: return () => fn.apply(undefined, v);
  }
}

/** Calls in order, as one call. */
export function sequence(calls: readonly (() => void)[]): () => void {
  if (calls.length === 0) return () => {};
  if (calls.length === 1) return calls[0]!;
  const kept = calls.slice();
  return () => {
    for (let k = 0; k < kept.length; k++) kept[k]!();
  };
}
