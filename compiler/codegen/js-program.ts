/**
 * What the CPU backend compiles for a spec: its JavaScript source, rendered with the
 * symbolic sizes of its family (see ../sizes.ts), and the values of those sizes, which the
 * backend binds as the kernel's leading arguments. The first member of a family renders as
 * a concrete kernel; later members with other sizes share a size-generic text.
 */
import { SizeFamilies, sizeValues } from '../sizes.js';
import type { KernelSpec } from '../kernel.js';
import { jsHelpers } from './js-helpers.js';
import { renderJs } from './js.js';

/**
 * Families per pattern of zero and nonzero sizes. A zero is structure, not a size: a
 * broadcast operand's stride 0 renders as a load hoisted out of the loop, where a symbolic
 * stride costs a multiply per element. Without this, `x + s` (s a scalar) after `x + y`
 * shared their family and read s through a stride parameter: on [1024,1024] it took
 * 1.05-1.3x as long as with a constant stride (min over 40 calls).
 */
const families = new Map<string, SizeFamilies>();

/** Which size slots of `spec` are zero. */
function zeroPattern(spec: KernelSpec): string {
  let pattern = '';
  for (const v of sizeValues(spec)) pattern += v === 0 ? '0' : '1';
  return pattern;
}

export interface JsProgram {
  source: string;
  helpers: object;
  /** Values of the kernel's size parameters, in parameter order. */
  sizes: number[];
}

export function jsProgram(spec: KernelSpec): JsProgram {
  const pattern = zeroPattern(spec);
  let family = families.get(pattern);
  if (family === undefined) families.set(pattern, (family = new SizeFamilies()));
  const sizes = family.sizesOf(spec);
  return { source: renderJs(spec, true, sizes), helpers: jsHelpers, sizes: sizes.values };
}
