/**
 * Reads a ReLU's mask back from its output. relu(x) = where(x <= 0, 0, x), and its backward
 * selects the gradient with the same mask, so a training step stores the boolean mask for
 * the backward pass. The Wasm engine's kernels run four lanes at a time only over 32-bit
 * values, so the kernel that stores the mask, and each that loads it, ran one element at a
 * time: each bias + ReLU kernel of the MLP 784-256-256-10 step (32K elements) took 0.6-0.7
 * ms beside the 6 ms of its first gemm (one thread, a loaded machine); without the stored
 * mask, bias and ReLU join the gemm's epilogue. The mask equals y <= z for
 * y = where(x <= z, z, x) and any z that is not NaN (x <= z: y = z, and z <= z; otherwise y
 * is x > z or NaN, and y <= z is false), so readers after y compute y <= z from y, which the
 * step stores anyway (the next layer reads it).
 */
import { makeNode, type Graph, type Node } from '../ir/graph.js';
import {
  Rebuilder, graphFacts, isView, nodeLabel, readerCounts, writesBetween,
  type GraphFacts, type PassInfo, type PassResult,
} from './pass.js';

/** A constant (or a view of one) whose every element is the same number, not NaN. */
function notNaNConstant(nodes: readonly Node[], z: number): boolean {
  let n = nodes[z]!;
  while (isView(n)) n = nodes[n.inputs[0]!]!;
  return n.op === 'constant' && n.params.value !== undefined && !Number.isNaN(n.params.value) &&
    n.params.data === undefined && n.params.numberSlot === undefined;
}

/** For `y = where(c, z, x)`, `c = le(x, z)` read elsewhere too: `c` and `z`, if the mask can be read from `y`. */
function reluMask(
  nodes: readonly Node[], facts: GraphFacts, readers: readonly number[], y: number,
): [number, number] | undefined {
  const n = nodes[y]!;
  if (n.op !== 'where') return undefined;
  const [c, z, x] = n.inputs as [number, number, number];
  const mask = nodes[c]!;
  if (mask.op !== 'le' || mask.inputs[0] !== x || mask.inputs[1] !== z || readers[c]! < 2 || facts.escapes[c]) {
    return undefined;
  }
  // y and z must hold the same values wherever the mask is read later.
  const unwritten = (v: number) => !facts.written.has(v) && !writesBetween(facts, facts.root[v]!, y);
  return notNaNConstant(nodes, z) && unwritten(y) && unwritten(z) ? [c, z] : undefined;
}

/**
 * Makes readers of a ReLU's mask that come after its output compute the mask from the
 * output, each mask once, just before its first such reader (where fusion puts it in that
 * reader's kernel rather than storing it from the ReLU's).
 */
export function reluMasks(g: Graph, info: PassInfo): PassResult {
  const nodes = g.nodes;
  const facts = graphFacts(g, info.outputs);
  const readers = readerCounts(g);
  const b = new Rebuilder(g);
  const changes: string[] = [];
  /** Masks to read back, by mask node: the ReLU's output and zero. */
  const pending = new Map<number, [number, number]>();
  nodes.forEach((n, i) => {
    for (const c of n.inputs) {
      const from = pending.get(c);
      if (from === undefined) continue;
      pending.delete(c);
      const [y, z] = from, mask = nodes[c]!;
      b.remap[c] = b.push(makeNode('le', [b.remap[y]!, b.remap[z]!], {}, mask.shape.slice(), mask.dtype), c);
      changes.push(`${nodeLabel(g, c)} is read at %${i} as %${y} <= %${z}: no mask is stored for it`);
    }
    b.keep(i);
    const found = reluMask(nodes, facts, readers, i);
    if (found !== undefined) pending.set(found[0], [i, found[1]]);
  });
  return b.result(changes);
}
