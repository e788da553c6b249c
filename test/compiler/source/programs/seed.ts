/**
 * The seed loop under jit: `first < second` compares two tensors. Rewritten, the comparison
 * is a tensor op and the guard reads its outcome, so a new starting pair that takes the same
 * number of iterations replays the compiled loop instead of falling back.
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

/** Runs the pairs; reports results, stats and the guard sites of the first variant. */
export function run(): { values: number[][]; stats: object; sites: string[] } {
  const values = PAIRS.map(([a, b]) => seed(tensor([a]), tensor([b])).map((t) => t.item()));
  const explained = seed.explain(tensor([0]), tensor([10]));
  return { values, stats: { ...seed.stats }, sites: [...new Set(explained.variants.at(-1)?.guards.map((g) => g.site))] };
}
