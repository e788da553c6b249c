/**
 * Size siblings: two recordings of one computation at different sizes (a last, smaller
 * batch; another sequence length). A signature whose recording is a sibling of a compiled
 * one is confirmed by that one trace. The recordings are compared node by node — op,
 * operands, dtype, rank, parameters — where sizes, strides and counts (integers) may
 * differ; constant data, captured tensors and grad modes must be the same.
 */
import type { EffectParams, Graph, Node } from '../../compiler/ir/graph.js';
import { formatParamsExact } from '../../compiler/ir/text.js';
import type { Trace } from './trace.js';
import type { OutputSpec, Variant } from './variant.js';

/** What the sibling search needs of a signature's cache entry. */
export interface SiblingCandidate {
  key: string;
  state: string;
  variants: readonly Variant[];
}

/**
 * `key` (a signature's cache key) with every integer written as `#`, decimals and
 * exponents keeping their digits: equal for the signatures of arguments that differ only
 * in sizes (and in integer numbers).
 */
export function sizeFreeKey(key: string): string {
  return key.replace(/(?<![\w.]|[eE][-+])\d+(?![\w.])/g, '#');
}

/**
 * The key of a compiled signature among `entries` whose arguments differ from `entry`'s
 * only in sizes and whose variants include one that recorded `v`'s computation at other
 * sizes, if there is one.
 */
export function findSizeSibling(
  entries: Iterable<SiblingCandidate>, entry: SiblingCandidate, v: Variant,
): string | undefined {
  const key = sizeFreeKey(entry.key);
  for (const e of entries) {
    if (e === entry || e.state !== 'compiled' || sizeFreeKey(e.key) !== key) continue;
    if (e.variants.some((u) => sameUpToSizes(u, v))) return e.key;
  }
  return undefined;
}

/** Whether `a` and `b` recorded the same computation, up to sizes, strides and counts. */
export function sameUpToSizes(a: Variant, b: Variant): boolean {
  return sameTraceFacts(a.trace, b.trace) && sameGraph(a.trace.graph, b.trace.graph) && sameOutput(a.output, b.output);
}

/** Captured tensors (by identity) and grad modes; the random draw count is a size. */
function sameTraceFacts(a: Trace, b: Trace): boolean {
  return a.captures.length === b.captures.length && a.captures.every((t, i) => t === b.captures[i])
    && a.gradModes.length === b.gradModes.length && a.gradModes.every((m, i) => m === b.gradModes[i]);
}

function sameGraph(a: Graph, b: Graph): boolean {
  return a.nodes.length === b.nodes.length && a.nodes.every((n, i) => sameNode(n, b.nodes[i]!));
}

function sameNode(a: Node, b: Node): boolean {
  if (a.op !== b.op || a.dtype !== b.dtype || a.shape.length !== b.shape.length) return false;
  if (a.inputs.length !== b.inputs.length || a.inputs.some((x, i) => x !== b.inputs[i])) return false;
  // A loop's condition and body graphs are compiled as they are: they must match exactly.
  if (a.op === 'loop') return formatParamsExact(a.params) === formatParamsExact(b.params);
  if (a.op === 'constant') {
    const p = a.params as EffectParams['constant'], q = b.params as EffectParams['constant'];
    if ((p.data === undefined) !== (q.data === undefined)) return false;
    if (p.data !== undefined && !sameData(p.data, q.data!)) return false;
  }
  return sameUpToIntegers(a.params, b.params);
}

/** Constant data, element by element (-0 apart from 0, NaN equal to NaN). */
function sameData(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** Two integers of the same sign count as a size that differs; every other number must be the same. */
function sameNumber(a: number, b: number): boolean {
  if (Object.is(a, b)) return true;
  const sizeLike = (x: number) => Number.isInteger(x) && !Object.is(x, -0);
  return sizeLike(a) && sizeLike(b) && Math.sign(a) === Math.sign(b);
}

/** Parameter values compared in structure, numbers by `sameNumber`; constant data was compared exactly. */
function sameUpToIntegers(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return sameNumber(a, b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || ArrayBuffer.isView(a)) {
    if (!(Array.isArray(b) || ArrayBuffer.isView(b))) return false;
    const x = a as ArrayLike<unknown>, y = b as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameUpToIntegers(x[i], y[i])) return false;
    return true;
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameUpToIntegers((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Results of the same structure, made of the same nodes; plain values up to integers. */
function sameOutput(a: OutputSpec, b: OutputSpec): boolean {
  switch (a.kind) {
    case 'tensor': return b.kind === 'tensor' && a.node === b.node;
    case 'value': return b.kind === 'value' && sameUpToIntegers(a.value, b.value);
    case 'array':
      return b.kind === 'array' && a.items.length === b.items.length
        && a.items.every((x, i) => sameOutput(x, b.items[i]!));
    case 'object':
      return b.kind === 'object' && a.entries.length === b.entries.length
        && a.entries.every(([k, x], i) => b.entries[i]![0] === k && sameOutput(x, b.entries[i]![1]));
    default: {
      const unreachable: never = a;
      return unreachable;
    }
  }
}
