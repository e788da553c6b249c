/**
 * A method decorated `@jit` and one decorated `@jit({...})`, with tensor conditions. Runs
 * only where decorators are lowered (tsx): the Node hook sees esbuild's lowered form.
 */
import { jit, tensor, type Tensor } from '../../../../src/index.js';

class Clipper {
  limit = 1;

  /** Halves x until its largest magnitude is at most the limit. */
  @jit
  shrink(x: Tensor): Tensor {
    while (x.abs().max().gt(this.limit)) x = x.div(2); // site: decorated while
    return x;
  }

  /** The sign of the sum, as a tensor: a `?:` on a tensor condition. */
  @jit({ maxVariants: 4 })
  direction(x: Tensor): Tensor {
    return x.sum().ge(0) ? tensor(1) : tensor(-1); // site: decorated ternary
  }
}

/** Calls both methods (each input twice, so that the second call of a path replays); reports the results. */
export function run(): { shrunk: number[][]; directions: number[] } {
  const c = new Clipper();
  const shrunk = [[8, -3], [8, -3], [0.5, 0.25], [-40, 1], [-40, 1]].map((v) => Array.from(c.shrink(tensor(v)).data()));
  const directions = [[1, 2], [1, 2], [-5, 1], [3, -1]].map((v) => c.direction(tensor(v)).item());
  return { shrunk, directions };
}
