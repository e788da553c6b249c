/**
 * Drops copies of values nothing else reads. Autograd stores a fresh copy of each leaf's
 * gradient (so no two tensors share a gradient buffer), and in a traced training step the
 * copied value is a temporary the copy is the only reader of: the MLP 784-256-256-10 step
 * copied all its 0.27M gradients (1.07 MB) every call. The copy's users read the value itself
 * instead, and its memory takes the copy's place: exact (a copy changes no bit), and no
 * memory becomes shared that was not, since the value had no other reader.
 */
import type { Graph } from '../ir/graph.js';
import { isPrim } from '../ir/kinds.js';
import { Rebuilder, graphFacts, isView, nodeLabel, readerCounts, type PassInfo, type PassResult } from './pass.js';

/** Replaces `copy(x)` by `x` where `x` is a computed value that only the copy reads. */
export function elideCopies(g: Graph, info: PassInfo): PassResult {
  const nodes = g.nodes;
  const facts = graphFacts(g, info.outputs);
  const readers = readerCounts(g);
  const b = new Rebuilder(g);
  const changes: string[] = [];
  nodes.forEach((n, i) => {
    const x = n.inputs[0]!;
    const source = nodes[x];
    // A copy naming a device moves the value; a value of its own memory (not an input, a
    // constant the variant caches, a view or a loop's result) is one a kernel computed.
    const elided = n.op === 'copy' && n.params.device === undefined && source !== undefined &&
      isPrim(source.op) && !isView(source) && facts.root[x] === x &&
      readers[x] === 1 && !facts.escapes[x] && !facts.written.has(x) && !facts.writesTo.has(x);
    if (!elided) {
      b.keep(i);
      return;
    }
    b.remap[i] = b.remap[x]!;
    changes.push(`removed ${nodeLabel(g, i)}: %${x} is read by nothing else, so it takes the copy's place`);
  });
  return b.result(changes);
}
