/**
 * The optimizer pipeline: passes applied in order, each one's output checked by the
 * verifier when asked (tests always ask), with what each pass changed collected for
 * `explain()`. The pass list is data, so callers can add their own passes.
 */
import { InternalError } from '../../runtime/errors.js';
import type { Graph } from '../ir/graph.js';
import { GraphVerifyError, verifyGraph } from '../ir/verify.js';
import { cse } from './cse.js';
import { dce } from './dce.js';
import { elideCopies } from './elide-copies.js';
import { reluMasks } from './relu-masks.js';
import type { Pass, PassInfo } from './pass.js';
import { simplify } from './simplify.js';

/** A pass with the name its reports carry. */
export interface NamedPass {
  name: string;
  run: Pass;
}

/** What one pass changed. */
export interface PassReport {
  pass: string;
  changes: string[];
}

/** The optimized graph, the reports in pass order, and where each original node's value went. */
export interface PipelineResult {
  graph: Graph;
  reports: PassReport[];
  /** `remap[original]`: the node holding its value in `graph`, or -1 when it was removed. */
  remap: number[];
  /** `info.outputs`, renumbered into `graph`. */
  outputs: Set<number>;
}

/** Options of `runPasses`. */
export interface PipelineOptions {
  /** Run the verifier on the input and after every pass. */
  verify?: boolean;
}

/**
 * Simplify first (it exposes equal nodes and leaves dead ones), then merge equal nodes, drop
 * what is unused, then the copies whose value has no other reader left, and read ReLU masks
 * back from the ReLU's output.
 */
export const defaultPasses: readonly NamedPass[] = [
  { name: 'simplify', run: simplify },
  { name: 'cse', run: cse },
  { name: 'dce', run: dce },
  { name: 'elide-copies', run: elideCopies },
  { name: 'relu-masks', run: reluMasks },
];

function verifyAfter(g: Graph, stage: string): void {
  try {
    verifyGraph(g);
  } catch (e) {
    if (e instanceof GraphVerifyError) throw new GraphVerifyError(e.node, `${e.problem} (${stage})`, e.where);
    throw e;
  }
}

/** Applies `passes` to `g` in order, threading the outputs through each pass's renumbering. */
export function runPasses(g: Graph, passes: readonly NamedPass[], info: PassInfo, options: PipelineOptions = {}): PipelineResult {
  if (options.verify) verifyAfter(g, 'in the input graph, before any pass');
  let graph = g;
  let outputs = new Set(info.outputs);
  let remap = g.nodes.map((_, i) => i);
  const reports: PassReport[] = [];
  for (const { name, run } of passes) {
    const r = run(graph, { ...info, outputs });
    if (r.remap.length !== graph.nodes.length || r.remap.some((x) => !Number.isInteger(x) || x < -1 || x >= r.graph.nodes.length)) {
      throw new InternalError(`pass ${name}: its remap must give every old node a new index or -1`);
    }
    for (const o of outputs) {
      if (r.remap[o]! < 0) throw new InternalError(`pass ${name} removed %${o}, an output`);
    }
    if (options.verify) verifyAfter(r.graph, `after pass ${name}`);
    reports.push({ pass: name, changes: r.changes });
    remap = remap.map((x) => (x < 0 ? -1 : r.remap[x]!));
    outputs = new Set([...outputs].map((o) => r.remap[o]!));
    graph = r.graph;
  }
  return { graph, reports, remap, outputs };
}
