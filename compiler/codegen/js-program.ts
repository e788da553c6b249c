/**
 * What the CPU backend compiles for a spec: its JavaScript source, rendered with the
 * symbolic sizes of its family (see ../sizes.ts), and the values of those sizes, which the
 * backend binds as the kernel's leading arguments. The first member of a family renders as
 * a concrete kernel; later members with other sizes share a size-generic text.
 */
import { SizeFamilies } from '../sizes.js';
import type { KernelSpec } from '../kernel.js';
import { jsHelpers } from './js-helpers.js';
import { renderJs } from './js.js';

const families = new SizeFamilies();

export interface JsProgram {
  source: string;
  helpers: object;
  /** Values of the kernel's size parameters, in parameter order. */
  sizes: number[];
}

export function jsProgram(spec: KernelSpec): JsProgram {
  const sizes = families.sizesOf(spec);
  return { source: renderJs(spec, true, sizes), helpers: jsHelpers, sizes: sizes.values };
}
