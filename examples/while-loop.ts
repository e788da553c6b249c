/**
 * Control flow that depends on tensor values, written as plain JavaScript.
 *
 *   npx tsx examples/while-loop.ts
 *
 * kiln runs eagerly: each op computes its result at once, so `first < second` compares two
 * concrete one-element tensors (they convert to numbers through Symbol.toPrimitive) and the
 * loop runs as many times as the values say. A framework that builds a static graph before
 * running it needs a special loop op for this; here the graph is whatever ran.
 *
 * Under jit, the same loop is lifted into one compiled loop node: the trip count becomes
 * data, so starting pairs with any number of iterations share one compiled variant.
 */
import { jit, tensor, type Tensor } from '../src/node.js';

let first = tensor([0]);
let second = tensor([10]);
while (first < second) {
  first = first.add(2);
  second = second.add(1);
}
// A template literal asks for a string, so the tensors print in full: tensor([20.]).
console.log(`first: ${first}`);
console.log(`second: ${second}`);

function seedLoop(a: Tensor, b: Tensor): Tensor[] {
  while (a < b) {
    a = a.add(2);
    b = b.add(1);
  }
  return [a, b];
}

// `rewrite: true` rewrites the loop at run time (kiln/vite and kiln/register do it at build time).
const compiled = jit(seedLoop, { rewrite: true });
for (const [a, b] of [[0, 10], [0, 10], [3, 50], [7, 2], [0, 100000]] as const) {
  const [x, y] = compiled(tensor([a]), tensor([b]));
  console.log(`jit: (${a}, ${b}) -> (${x!.item()}, ${y!.item()})`);
}
console.log(`compiled variants: ${compiled.stats.variants}, replays: ${compiled.stats.replays}`);
