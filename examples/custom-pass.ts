/**
 * A graph pass of your own, written against kiln's public IR API and added to jit.
 *
 *   npx tsx examples/custom-pass.ts
 *
 * The pass folds `neg(neg(x))` into `x`. On numbers that is always exact; on tensors it is
 * not: values have memory, and a later in-place write into x's memory (x.add_(1)) would
 * reach every reader that now reads x instead of a copy made before the write. So the
 * pass asks the memory facts every built-in pass uses (`graphFacts`): it folds only when
 * the double negation does not leave the graph, is not written into, and x's memory is not
 * written after the inner neg read it.
 */
import {
  Rebuilder,
  defaultPasses,
  graphFacts,
  jit,
  nodeLabel,
  tensor,
  writesBetween,
  type NamedPass,
  type Pass,
  type Tensor,
} from '../src/index.js';
import { isMain } from './common.js';

/** neg(neg(x)) → x, where the memory facts say no reader can tell the difference. */
export const foldDoubleNeg: Pass = (g, info) => {
  const facts = graphFacts(g, info.outputs);
  const b = new Rebuilder(g);
  const changes: string[] = [];
  g.nodes.forEach((n, i) => {
    const inner = n.op === 'neg' ? n.inputs[0]! : -1;
    if (inner >= 0 && g.nodes[inner]!.op === 'neg') {
      const x = g.nodes[inner]!.inputs[0]!;
      const safe = !facts.escapes[i] && !facts.written.has(i) && !writesBetween(facts, facts.root[x]!, inner);
      if (safe) {
        // Readers of %i read x's new node instead; the inner neg is left for dce.
        b.remap[i] = b.remap[x]!;
        changes.push(`${nodeLabel(g, i)} of ${nodeLabel(g, inner)} is %${x}`);
        return;
      }
      changes.push(`kept ${nodeLabel(g, i)}: x's memory is written after it is read, or the value leaves the graph`);
    }
    b.keep(i);
  });
  return b.result(changes);
};

/**
 * The fold first, then jit's default passes (whose simplify knows this rule too, with the
 * same checks; dce drops the inner negs the fold leaves unused).
 */
export const withFold: NamedPass[] = [{ name: 'fold-double-neg', run: foldDoubleNeg }, ...defaultPasses];

/** A function with a double negation the pass removes. */
export function scaled(x: Tensor): Tensor {
  return x.neg().neg().mul(3).add(1);
}

/** One where folding would be wrong: x is written in place between the two negations. */
export function writesBetweenNegs(x: Tensor): Tensor {
  const y = x.neg();
  x.add_(1);
  return y.neg().mul(2);
}

if (isMain(import.meta.url)) {
  const f = jit(scaled, { passes: withFold });
  for (let i = 0; i < 3; i++) f(tensor([1, 2, 3]));
  console.log(f.explain(tensor([1, 2, 3])).format({ passes: true, ir: true }));
  const g = jit(writesBetweenNegs, { passes: withFold });
  for (let i = 0; i < 3; i++)
    console.log(`with an in-place write: ${g(tensor([1, 2, 3]))} (eager: ${writesBetweenNegs(tensor([1, 2, 3]))})`);
  console.log(g.explain(tensor([1, 2, 3])).sections.passes);
}
