/**
 * An error thrown on a line whose conditions were rewritten: with source maps on, its stack
 * names the line and column of the original file.
 */
import { jit, tensor, type Tensor } from '../../../../src/index.js';

function check(x: Tensor): Tensor {
  if (x.sum().gt(0) && x.max().lt(100)) throw new RangeError('small and positive'); // site: errors throw
  return x;
}

const checked = jit(check);

/** Calls the function so that it throws; reports the stack frame of the throw. */
export function run(): { frame: string } {
  try {
    checked(tensor([1, 2]));
    return { frame: 'no error' };
  } catch (error) {
    return { frame: (error as Error).stack!.split('\n')[1]!.trim() };
  }
}
