/**
 * Square roots by Newton's method with native `if` and `while` on tensor conditions:
 * `x.gt(tol)` is a tensor, always truthy in plain JavaScript, and a real condition once
 * the function is rewritten.
 */
import { jit, tensor, type Tensor } from '../../../../src/index.js';

function sqrtNewton(a: Tensor, tol: number): Tensor[] {
  if (a.min().lt(0)) throw new RangeError('sqrtNewton: negative input'); // site: newton if
  let x = a.add(1).div(2);
  let steps = 0;
  while (x.mul(x).sub(a).abs().max().gt(tol) && steps < 100) { // site: newton while
    x = x.add(a.div(x)).div(2);
    steps++;
  }
  return [x, tensor(steps)];
}

/** The compiled solver. */
export const newton = jit(sqrtNewton);

/** Inputs, in call order. */
export const INPUTS = [[2, 9, 10], [2, 9, 10], [4, 16, 25], [2, 9, 10], [0.25, 100, 1e4]];

/** Solves every input; reports roots, step counts, stats, guard sites and the error for a negative input. */
export function run(): { roots: number[][]; steps: number[]; stats: object; sites: string[]; negative: string } {
  const roots: number[][] = [], steps: number[] = [];
  for (const input of INPUTS) {
    const [x, n] = newton(tensor(input), 1e-4);
    roots.push(Array.from(x!.data()));
    steps.push(n!.item());
  }
  let negative = 'no error';
  try {
    newton(tensor([4, -1]), 1e-4);
  } catch (error) {
    negative = (error as Error).message;
  }
  const explained = newton.explain(tensor(INPUTS[0]!), 1e-4);
  return { roots, steps, stats: { ...newton.stats }, sites: [...new Set(explained.variants.at(-1)?.guards.map((g) => g.site))], negative };
}
