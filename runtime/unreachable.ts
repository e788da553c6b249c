import { InternalError } from './errors.js';

/**
 * The end of a switch that handles every member of a union: `tsc` rejects the call when a
 * member is left out, and at run time it names the value that broke the types.
 */
export function unreachable(x: never, where: string): never {
  throw new InternalError(`${where}: unexpected ${JSON.stringify(x)}`);
}
