/** JavaScript comparisons by name, shared by the control-flow hook and the replay of its guards. */

/** Comparison operators as the source transform names them (`seq`/`sne`: `===`/`!==`). */
export type ComparisonOp = 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne' | 'seq' | 'sne';

/** Each operator on plain JS values, with JS's own semantics. */
export const compareValues: Record<ComparisonOp, (a: any, b: any) => boolean> = {
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  eq: (a, b) => a == b,
  ne: (a, b) => a != b,
  seq: (a, b) => a === b,
  sne: (a, b) => a !== b,
};
