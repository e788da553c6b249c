/**
 * The seed loop under jit: `first < second` compares two tensors. Rewritten, the comparison
 * is a tensor op and the loop is lifted into one loop node, so starting pairs with any
 * number of iterations replay the one compiled variant.
 */
import { jit, tensor, type Tensor } from '../../../../src/index.js';

function seedLoop(first: Tensor, second: Tensor): Tensor[] {
  while (first < second) { // site: seed while
    first = first.add(2);
    second = second.add(1);
  }
  return [first, second];
}

/** The compiled loop. */
export const seed = jit(seedLoop);

/** Starting pairs, in call order. */
export const PAIRS: [number, number][] = [[0, 10], [0, 10], [1, 11], [3, 5], [0, 10]];

/** Runs the pairs; reports results, stats, and the guard sites and loop notes of the last variant. */
export function run(): { values: number[][]; stats: object; sites: string[]; loops: string[] } {
  const values = PAIRS.map(([a, b]) => seed(tensor([a]), tensor([b])).map((t) => t.item()));
  const explained = seed.explain(tensor([0]), tensor([10]));
  const last = explained.variants.at(-1);
  return { values, stats: { ...seed.stats }, sites: [...new Set(last?.guards.map((g) => g.site))], loops: last?.controlFlow ?? [] };
}
