/**
 * Common subexpression elimination: a pure node with the same op, operands, parameters,
 * shape and dtype as an earlier one is that node. Constants with equal parameters are equal
 * too. Random draws, inputs and effects are never merged.
 *
 * Equal computations give equal numbers, so what has to be checked is memory:
 * - the operands must hold the same values at both nodes, so no write into their memory may
 *   happen between them (inputs count as one memory: arguments and captured tensors may
 *   alias each other);
 * - after the merge both nodes are one tensor, so neither may be written in place (the write
 *   would reach the other's readers), and they may not both escape (the caller would receive
 *   one tensor twice, and writing into one result would change the other).
 */
import type { Graph } from '../ir/graph.js';
import { isPrim } from '../ir/kinds.js';
import { fmtShape } from '../../runtime/errors.js';
import { formatParamsExact } from '../ir/text.js';
import { Rebuilder, graphFacts, nodeLabel, writesBetween, type PassInfo, type PassResult } from './pass.js';

/** Merges repeated pure computations into their first (or nearest legal) occurrence. */
export function cse(g: Graph, info: PassInfo): PassResult {
  const facts = graphFacts(g, info.outputs);
  const b = new Rebuilder(g);
  const changes: string[] = [];
  /** Earlier nodes (new indices) by the text of what they compute. */
  const seen = new Map<string, number[]>();
  /** Whether a kept node escapes, including through nodes merged into it. */
  const escapes: boolean[] = [];
  g.nodes.forEach((n, i) => {
    const mergeable = (isPrim(n.op) && n.op !== 'random') || n.op === 'constant';
    if (!mergeable) {
      escapes[b.keep(i)] = facts.escapes[i]!;
      return;
    }
    const node = b.renumber(n);
    const key = `${node.op}(${node.inputs.join(',')})${formatParamsExact(node.params)}:${node.dtype}${fmtShape(node.shape)}`;
    const candidates = seen.get(key) ?? [];
    // The nearest earlier twin has the fewest writes between, so try it first.
    for (let k = candidates.length - 1; k >= 0; k--) {
      const c = candidates[k]!;
      const a = b.origin[c]!;
      if (escapes[c] && facts.escapes[i]) continue;
      if (facts.written.has(a) || facts.written.has(i)) continue;
      if (node.inputs.some((x) => writesBetween(facts, facts.root[b.origin[x]!]!, a, i))) continue;
      b.remap[i] = c;
      escapes[c] = escapes[c]! || facts.escapes[i]!;
      changes.push(`${nodeLabel(g, i)} is %${a}: the same ${n.op} of the same operands`);
      return;
    }
    const j = b.push(node, i);
    b.remap[i] = j;
    escapes[j] = facts.escapes[i]!;
    candidates.push(j);
    seen.set(key, candidates);
  });
  return b.result(changes);
}
