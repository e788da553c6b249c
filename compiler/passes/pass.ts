/**
 * What the graph passes share: their signature, a builder that renumbers nodes, and the
 * facts about memory that decide whether a rewrite is safe.
 *
 * A value in a traced graph is a tensor, not just numbers: views share memory with their
 * base, `write` changes memory in place, and output tensors (and `.grad` assignments) are
 * handed to the caller, who may write into them later. A rewrite that keeps every number
 * can still be wrong if it makes two tensors share memory that did not, or makes a read
 * happen after a write it used to precede. These facts are what the passes check.
 */
import { InternalError } from '../../runtime/errors.js';
import { makeNode, type Graph, type Node } from '../ir/graph.js';
import { definesValue, isPrim } from '../ir/kinds.js';
import { isViewPrim } from '../ir/primitives.js';

/** What a pass knows besides the graph. */
export interface PassInfo {
  /** Nodes whose tensors the caller receives after the graph runs (the function's result). */
  outputs: ReadonlySet<number>;
}

/** A pass's result: the new graph, one line per change, and where each old node's value went. */
export interface PassResult {
  graph: Graph;
  changes: string[];
  /** `remap[old]`: the new node holding old's value, or -1 when the node was removed as unused. */
  remap: number[];
}

/** A graph pass: pure (the input graph is left as it was), and it never reorders nodes. */
export type Pass = (g: Graph, info: PassInfo) => PassResult;

/** The storage root of input nodes: arguments and captured tensors may share memory with each other. */
export const EXTERNAL = -1;

/** True when node `n` is a view (shares its operand's memory). */
export function isView(n: Node): boolean {
  return isPrim(n.op) && isViewPrim(n.op);
}

/** Memory facts of a graph. */
export interface GraphFacts {
  /** For each node, the node that allocated the memory its value lives in (EXTERNAL for inputs and views of them). */
  root: number[];
  /** For each root, the positions of the writes into it, ascending. */
  writesTo: Map<number, number[]>;
  /** Nodes a write targets, directly or through views, and the roots of those targets. */
  written: Set<number>;
  /**
   * Nodes whose tensor leaves the graph or whose identity matters: outputs, operands of
   * setGrad, gradNull observations and gradient sources, and the bases of views that escape.
   */
  escapes: boolean[];
}

/** How many times each node of `g` is read as an input (a node reading x twice counts twice). */
export function readerCounts(g: Graph): number[] {
  const readers = g.nodes.map(() => 0);
  for (const n of g.nodes) for (const x of n.inputs) readers[x]!++;
  return readers;
}

/** Computes the memory facts of `g` for a caller that receives `outputs`. */
export function graphFacts(g: Graph, outputs: ReadonlySet<number>): GraphFacts {
  const nodes = g.nodes;
  const root = nodes.map(() => EXTERNAL);
  nodes.forEach((n, i) => {
    if (n.op === 'input') root[i] = EXTERNAL;
    else if (isView(n)) root[i] = root[n.inputs[0]!]!;
    else root[i] = i;
  });
  const writesTo = new Map<number, number[]>();
  const written = new Set<number>();
  nodes.forEach((n, i) => {
    if (n.op !== 'write') return;
    let t = n.inputs[0]!;
    written.add(t);
    while (isView(nodes[t]!)) written.add((t = nodes[t]!.inputs[0]!));
    const r = root[n.inputs[0]!]!;
    writesTo.set(r, [...(writesTo.get(r) ?? []), i]);
  });
  const escapes = nodes.map((_, i) => outputs.has(i));
  nodes.forEach((n) => {
    if (n.op === 'setGrad') n.inputs.forEach((x) => (escapes[x] = true));
    if (n.op === 'observe' && n.params.gradNull) escapes[n.inputs[0]!] = true;
    if (n.op === 'input' && n.params.source.kind === 'grad') escapes[n.params.source.of] = true;
  });
  // A view that escapes hands out its base's memory too; views point backwards, so one sweep.
  for (let i = nodes.length - 1; i >= 0; i--) if (escapes[i] && isView(nodes[i]!)) escapes[nodes[i]!.inputs[0]!] = true;
  return { root, writesTo, written, escapes };
}

/** True when some write into memory `root` happens at a position in (after, before). */
export function writesBetween(facts: GraphFacts, root: number, after: number, before = Infinity): boolean {
  return (facts.writesTo.get(root) ?? []).some((w) => w > after && w < before);
}

/** Builds a pass's output graph: nodes in order, each remembering the old node it came from. */
export class Rebuilder {
  readonly nodes: Node[] = [];
  /** `origin[new]`: the old node whose place the new node takes. */
  readonly origin: number[] = [];
  /** `remap[old]`: see PassResult. */
  readonly remap: number[];

  constructor(readonly old: Graph) {
    this.remap = old.nodes.map(() => -1);
  }

  /** `n` with its operands (and a gradient input's source) renumbered into the new graph. */
  renumber(n: Node): Node {
    let params: object = n.params;
    if (n.op === 'input' && n.params.source.kind === 'grad') {
      params = { ...n.params, source: { ...n.params.source, of: this.#mapped(n.params.source.of) } };
    }
    return makeNode(n.op, n.inputs.map((x) => this.#mapped(x)), params, n.shape.slice(), n.dtype);
  }

  #mapped(x: number): number {
    const m = this.remap[x]!;
    if (m < 0) throw new InternalError(`pass removed %${x}, which a kept node reads`);
    return m;
  }

  /** Appends `n` in the place of old node `origin`; returns its new index. */
  push(n: Node, origin: number): number {
    this.nodes.push(n);
    this.origin.push(origin);
    return this.nodes.length - 1;
  }

  /** Appends old node `i`, renumbered, and records where it went. */
  keep(i: number): number {
    return (this.remap[i] = this.push(this.renumber(this.old.nodes[i]!), i));
  }

  /** The pass result. */
  result(changes: string[]): PassResult {
    return { graph: { nodes: this.nodes }, changes, remap: this.remap };
  }
}

/** `%i = op(%a, %b)` of old node i, for change reports. */
export function nodeLabel(g: Graph, i: number): string {
  const n = g.nodes[i]!;
  const args = `${n.op}(${n.inputs.map((x) => `%${x}`).join(', ')})`;
  return definesValue(n.op) ? `%${i} = ${args}` : args;
}
