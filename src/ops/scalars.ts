/** Checks for JS values that ops store as tensor elements. */
import { ValueError, fmtValue } from '../../runtime/errors.js';

/** Throws unless `value` is a number or a boolean: a string would otherwise be stored as NaN. */
export function checkScalar(op: string, name: string, value: unknown): asserts value is number | boolean {
  if (typeof value !== 'number' && typeof value !== 'boolean') {
    throw new ValueError(`${op}: ${name} must be a number or a boolean (got ${fmtValue(value)})`);
  }
}
