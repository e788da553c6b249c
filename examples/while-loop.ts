/**
 * Control flow that depends on tensor values, written as plain JavaScript.
 *
 *   npx tsx examples/while-loop.ts
 *
 * kiln runs eagerly: each op computes its result at once, so `first < second` compares two
 * concrete one-element tensors (they convert to numbers through Symbol.toPrimitive) and the
 * loop runs as many times as the values say. A framework that builds a static graph before
 * running it needs a special loop op for this; here the graph is whatever ran.
 */
import { tensor } from '../src/index.js';

let first = tensor([0]);
let second = tensor([10]);
while (first < second) {
  first = first.add(2);
  second = second.add(1);
}
// A template literal asks for a string, so the tensors print in full: tensor([20.]).
console.log(`first: ${first}`);
console.log(`second: ${second}`);
