/**
 * Row fusion: a reduction over some axes, the elementwise work that feeds it, the per-row
 * scalar work on its result, further reductions over the same axes, and the elementwise
 * consumers that broadcast those results back, all become one row kernel (softmax,
 * layerNorm, logsumexp, cross entropy). Per row, each pass recomputes the elementwise
 * values it needs instead of storing them, which costs arithmetic but saves a trip
 * through memory per value; the values are the same bits eager computes.
 */
import { InternalError } from '../../runtime/errors.js';
import type { Graph, Node } from '../ir/graph.js';
import { isPrim } from '../ir/kinds.js';
import { isElementwisePrim } from '../ir/primitives.js';
import { contiguousStrides, sameShape } from '../ir/shape.js';
import { collapseDims, layoutKey, specKey, type Expr, type RowPass, type RowSpec, type Store } from '../kernel.js';
import type { FusedStep, StaticLayout } from './fuse.js';

type Role = 'full' | 'row' | 'reduce' | 'alias' | 'broadcast';

const ROW_REDUCTIONS = new Set(['sum', 'prod', 'max', 'min']);

function isMap(n: Node): boolean {
  return n.op === 'cast' || (isPrim(n.op) && isElementwisePrim(n.op));
}

function axesOf(n: Node): number[] | undefined {
  return n.op === 'sum' || n.op === 'prod' || n.op === 'max' || n.op === 'min' ? n.params.axes : undefined;
}

/** A region found in the graph: its member nodes and the kernel computing them. */
export interface RowRegion {
  members: number[];
  step: FusedStep;
}

/**
 * Finds row regions. `taken` receives the member nodes; `rejected` the reasons regions
 * were not formed. `written` holds the storage roots that in-place writes target.
 */
export function findRowRegions(graph: Graph, layouts: readonly (StaticLayout | undefined)[], keep: ReadonlySet<number>, users: readonly number[][], taken: Set<number>, rejected: string[], literalOf: (x: number) => number | undefined, written: ReadonlySet<number>): RowRegion[] {
  const nodes = graph.nodes;
  const writes = nodes.flatMap((n, i) => (n.op === 'write' ? [i] : []));
  const regions: RowRegion[] = [];
  nodes.forEach((seed, r) => {
    if (taken.has(r) || !ROW_REDUCTIONS.has(seed.op)) return;
    const full = nodes[seed.inputs[0]!]!.shape;
    const axes = axesOf(seed)!;
    const reduced = seed.shape;
    const kept = full.map((d, i) => (axes.includes(i) ? 1 : d));
    const isRowShape = (s: readonly number[]) => sameShape(s, reduced) || sameShape(s, kept);
    const roles = new Map<number, Role>();
    const queue: number[] = [];
    /** Adds node i if it fits the region (a view only with its base, which it adds first). */
    const tryAdd = (i: number): boolean => {
      if (roles.has(i)) return true;
      if (taken.has(i)) return false;
      const n = nodes[i]!;
      let role: Role | null = null;
      if (ROW_REDUCTIONS.has(n.op)) {
        const a = axesOf(n)!;
        if (sameShape(nodes[n.inputs[0]!]!.shape, full) && a.length === axes.length && a.every((x, k) => x === axes[k])) role = 'reduce';
      } else if (isMap(n)) {
        role = sameShape(n.shape, full) ? 'full' : isRowShape(n.shape) ? 'row' : null;
      } else if ((n.op === 'reshape' && isRowShape(n.shape)) || (n.op === 'expand' && !keep.has(i) && sameShape(n.shape, full) && sameShape(nodes[n.inputs[0]!]!.shape, kept))) {
        // Views join only as views of a row value of the region. A broadcast that must exist
        // as a tensor (a result) stays out: the kernel stores its base, the view runs after.
        const base = n.inputs[0]!;
        if (tryAdd(base)) {
          const baseRole = roles.get(base)!;
          if (baseRole !== 'full' && baseRole !== 'broadcast') role = n.op === 'reshape' ? 'alias' : 'broadcast';
        }
      }
      if (role === null) return false;
      roles.set(i, role);
      queue.push(i);
      return true;
    };
    // Grow from the reduction: producers of every member; consumers of row values, and in
    // the wide attempt consumers of full values too (softmax's exp feeds the sum and the div).
    const grow = (wide: boolean) => {
      roles.clear();
      tryAdd(r);
      while (queue.length) {
        const i = queue.shift()!;
        const role = roles.get(i)!;
        for (const m of [...nodes[i]!.inputs, ...(role === 'full' && !wide ? [] : users[i]!)]) tryAdd(m);
      }
      return illegal([...roles.keys()].sort((a, b) => a - b));
    };
    const illegal = (members: number[]): string | null => {
      const lo = members[0]!, hi = members[members.length - 1]!;
      const inRegion = new Set(members);
      if (writes.some((w) => w > lo && w < hi)) return 'an in-place write happens inside it';
      // A stored view is a buffer of its own here, not its base's storage: a later write
      // through either would not reach the other.
      const escapes = (m: number) => keep.has(m) || users[m]!.some((u) => !inRegion.has(u));
      if (members.some((m) => written.has(m)) && members.some((m) => roles.get(m) === 'alias' && escapes(m))) {
        return 'a value it makes is written in place later and also used through a view';
      }
      for (const m of members) {
        for (const u of users[m]!) {
          if (!inRegion.has(u) && u < hi) return `node %${u} needs %${m} before the kernel would run`;
          if (!inRegion.has(u) && roles.get(m) === 'broadcast') return `the broadcast %${m} is used outside it`;
        }
      }
      return null;
    };
    const why = grow(true) === null ? null : grow(false);
    if (why !== null) {
      rejected.push(`row kernel around %${r} (${seed.op}) not formed: ${why}`);
      return;
    }
    const members = [...roles.keys()].sort((a, b) => a - b);
    const reductions = members.filter((m) => roles.get(m) === 'reduce');
    if (members.length < 3 && reductions.length < 2) return;
    for (const m of members) taken.add(m);
    regions.push({ members, step: buildRowStep(nodes, layouts, keep, users, members, roles, full, axes, literalOf) });
  });
  return regions;
}

function buildRowStep(nodes: readonly Node[], layouts: readonly (StaticLayout | undefined)[], keep: ReadonlySet<number>, users: readonly number[][], members: number[], roles: Map<number, Role>, full: readonly number[], axes: readonly number[], literalOf: (x: number) => number | undefined): FusedStep {
  const inRegion = new Set(members);
  // Row values: reductions and per-row elementwise results; aliases and broadcasts name them.
  const rowIndex = new Map<number, number>();
  let rows = 0;
  const rowOf = (m: number): number => {
    const role = roles.get(m)!;
    if (role === 'alias' || role === 'broadcast') return rowOf(nodes[m]!.inputs[0]!);
    let k = rowIndex.get(m);
    if (k === undefined) rowIndex.set(m, (k = rows++));
    return k;
  };
  const stored = members.filter((m) => roles.get(m) !== 'broadcast' && (keep.has(m) || users[m]!.some((u) => !inRegion.has(u))));
  const inputs: number[] = [];
  const argOf = (x: number): number => {
    let k = inputs.indexOf(x);
    if (k < 0) k = inputs.push(x) - 1;
    return stored.length + k;
  };

  /** The full-shape members a pass computing `m` evaluates (it stops at row values and loads). */
  const fullDeps = (m: number, into: Set<number>): Set<number> => {
    if (roles.get(m) !== 'full' || into.has(m)) return into;
    into.add(m);
    for (const x of nodes[m]!.inputs) fullDeps(x, into);
    return into;
  };
  const fullStored = stored.filter((m) => roles.get(m) === 'full');
  const reductions = members.filter((m) => roles.get(m) === 'reduce');
  // Each full value is computed by the first pass that needs it; later passes read it back
  // from a per-row scratch instead of recomputing it (a row stays in cache between passes).
  const passNeeds = [...reductions.map((m) => fullDeps(nodes[m]!.inputs[0]!, new Set())), fullStored.reduce((acc, m) => fullDeps(m, acc), new Set<number>())];
  const firstPass = new Map<number, number>();
  const scratchOf = new Map<number, number>();
  passNeeds.forEach((need, p) => {
    for (const m of need) {
      const first = firstPass.get(m);
      if (first === undefined) firstPass.set(m, p);
      else if (!scratchOf.has(m)) scratchOf.set(m, scratchOf.size);
    }
  });

  /** Builds node `m`'s value into `body` (memoized): computed, read from scratch, a row value or a load. */
  const expr = (m: number, body: Expr[], memo: Map<number, number>, pass: number): number => {
    const known = memo.get(m);
    if (known !== undefined) return known;
    let e: Expr;
    const role = roles.get(m);
    const value = role === undefined ? literalOf(m) : undefined;
    if (value !== undefined) e = { op: 'literal', value, dtype: nodes[m]!.dtype };
    else if (role === undefined) e = { op: 'load', arg: argOf(m) };
    else if (role === 'full' && scratchOf.has(m) && firstPass.get(m) !== pass) e = { op: 'scratch', index: scratchOf.get(m)! };
    else if (role === 'full' || (role === 'row' && !rowIndex.has(m) && memo.has(-1))) {
      const n = nodes[m]!;
      const args = n.inputs.map((x) => expr(x, body, memo, pass));
      if (n.op === 'cast') e = { op: 'cast', arg: args[0]!, from: nodes[n.inputs[0]!]!.dtype, to: n.dtype };
      else if (isPrim(n.op)) e = { op: 'prim', prim: n.op, args, dtype: nodes[n.inputs[n.inputs.length - 1]!]!.dtype };
      else throw new InternalError(`rows: a row body computes ${n.op}, which is no primitive`);
    } else e = { op: 'row', index: rowOf(m) };
    body.push(e);
    memo.set(m, body.length - 1);
    return body.length - 1;
  };
  const savesOf = (pass: number, memo: Map<number, number>) =>
    [...scratchOf].filter(([m]) => firstPass.get(m) === pass && memo.has(m)).map(([m, index]) => ({ node: memo.get(m)!, index }));

  const storeArg = (m: number) => (stored.includes(m) ? stored.indexOf(m) : undefined);
  const passes: RowPass[] = [];
  for (const m of members) {
    const n = nodes[m]!;
    const role = roles.get(m)!;
    if (role === 'reduce') {
      const pass = reductions.indexOf(m);
      const body: Expr[] = [];
      const memo = new Map<number, number>();
      const value = expr(n.inputs[0]!, body, memo, pass);
      const store = storeArg(m);
      passes.push({ kind: 'reduce', op: n.op as 'sum', dtype: nodes[n.inputs[0]!]!.dtype, outDtype: n.dtype, body, value, row: rowOf(m), saves: savesOf(pass, memo), ...(store !== undefined ? { store } : {}) });
    } else if (role === 'row') {
      const body: Expr[] = [];
      // The marker -1 tells `expr` to compute this row node itself rather than refer to it.
      const memo = new Map<number, number>([[-1, -1]]);
      const value = expr(m, body, memo, -1);
      const row = rowOf(m);
      const store = storeArg(m);
      passes.push({ kind: 'scalar', body, value, row, ...(store !== undefined ? { store } : {}) });
    } else if (role === 'alias') {
      const store = storeArg(m);
      if (store !== undefined) passes.push({ kind: 'scalar', body: [{ op: 'row', index: rowOf(m) }], value: 0, row: rowOf(m), store });
    }
  }
  if (fullStored.length) {
    const pass = reductions.length;
    const body: Expr[] = [];
    const memo = new Map<number, number>();
    const stores: Store[] = fullStored.map((m) => ({ arg: stored.indexOf(m), node: expr(m, body, memo, pass) }));
    passes.push({ kind: 'map', body, stores, saves: [] });
  }

  // A value saved for a later pass that reads it another way (through a saved result) is not saved.
  const loaded = new Set<number>();
  for (const pass of passes) for (const e of pass.body) if (e.op === 'scratch') loaded.add(e.index);
  const scratchIndex = new Map([...loaded].sort((a, b) => a - b).map((k, i) => [k, i]));
  for (const pass of passes) {
    for (const e of pass.body) if (e.op === 'scratch') e.index = scratchIndex.get(e.index)!;
    if (pass.kind !== 'scalar') pass.saves = pass.saves.filter((sv) => loaded.has(sv.index)).map((sv) => ({ ...sv, index: scratchIndex.get(sv.index)! }));
  }

  // Every arg's strides in the coordinates of the full shape (0 along axes it does not span).
  const fullStrides = (shape: readonly number[], strides: readonly number[]): number[] => {
    if (sameShape(shape, full)) return strides.slice();
    if (shape.length === full.length) return strides.map((s, d) => (axes.includes(d) ? 0 : s));
    let k = 0;
    return full.map((_, d) => (axes.includes(d) ? 0 : strides[k++]!));
  };
  const argStrides = [
    ...stored.map((m) => fullStrides(nodes[m]!.shape, contiguousStrides(nodes[m]!.shape))),
    ...inputs.map((x) => fullStrides(layouts[x]!.shape, layouts[x]!.strides)),
  ];
  const outerDims = full.map((_, d) => d).filter((d) => !axes.includes(d));
  const outer = collapseDims(outerDims.map((d) => full[d]!), argStrides.map((s) => outerDims.map((d) => s[d]!)));
  const inner = collapseDims(axes.map((d) => full[d]!), argStrides.map((s) => axes.map((d) => s[d]!)));
  const spec: RowSpec = {
    kind: 'row', outer: outer.shape, inner: inner.shape,
    dtypes: [...stored.map((m) => nodes[m]!.dtype), ...inputs.map((x) => nodes[x]!.dtype)],
    outerStrides: outer.strides, innerStrides: inner.strides, rows, scratch: scratchIndex.size, passes,
  };
  const key = `row|${layoutKey(spec.outer, spec.outerStrides)}|${layoutKey(spec.inner, spec.innerStrides)}|${spec.dtypes}|${specKey(passes)}`;
  return { kind: 'fused', nodes: members, inputs, outputs: stored, targets: stored.map(() => undefined), spec, key };
}
