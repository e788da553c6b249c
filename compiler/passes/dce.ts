/**
 * Dead code elimination: drops nodes whose values nothing needs. Effects (write, observe,
 * setGrad) are what a graph is run for, so they stay, with everything they and the outputs
 * read. Input nodes stay too: replay binds arguments to input nodes by position, and a
 * gradient input reads the `.grad` of the node it names, which therefore stays as well.
 * Removing a pure node is always exact: nothing reads its value, and computing it changes
 * no memory anything else reads.
 */
import type { Graph } from '../ir/graph.js';
import { definesValue } from '../ir/kinds.js';
import { Rebuilder, nodeLabel, type PassInfo, type PassResult } from './pass.js';

/** Removes unused pure nodes; `remap` sends each removed node to -1. */
export function dce(g: Graph, info: PassInfo): PassResult {
  const nodes = g.nodes;
  const live = nodes.map((n, i) => !definesValue(n.op) || n.op === 'input' || info.outputs.has(i));
  // Operands come before their users, so one backward sweep finds everything needed.
  for (let i = nodes.length - 1; i >= 0; i--) {
    if (!live[i]) continue;
    const n = nodes[i]!;
    for (const x of n.inputs) live[x] = true;
    if (n.op === 'input' && n.params.source.kind === 'grad') live[n.params.source.of] = true;
  }
  const b = new Rebuilder(g);
  const changes: string[] = [];
  nodes.forEach((_, i) => {
    if (live[i]) b.keep(i);
    else changes.push(`removed ${nodeLabel(g, i)}: its value is unused`);
  });
  return b.result(changes);
}
