/**
 * Sizes of the Wasm kernel being rendered (see ../../sizes.ts): a size is a constant, or an
 * i32 local that holds it at run time (a size parameter of the kernel, or a product of them
 * computed before the loops that use it). Every decision that depends on a size's value
 * (dropping a dim of 1, merging two dims, a remainder loop, a four-lane loop) is taken from
 * the member's own value and changes the module's bytes, so two members share a module
 * exactly when their bytes are equal, and a module's code is right for any member whose
 * rendering produced it.
 */
import { InternalError } from '../../../runtime/errors.js';
import { sizeSlots, sizeValues, SizeFamilies, SymbolicSizes, noSymbolicSizes } from '../../sizes.js';
import { collapseWith, type KernelSpec } from '../../kernel.js';
import type { Code } from './encoder.js';

/** A size known only at launch: its value in the member being rendered, and the i32 local holding it. */
export interface SymbolicDim {
  readonly value: number;
  readonly local: number;
}

/** A size of the kernel: a constant, or symbolic. */
export type Dim = number | SymbolicDim;

export function dimValue(d: Dim): number {
  return typeof d === 'number' ? d : d.value;
}

/** Pushes `d` as an i32. */
export function pushDim(c: Code, d: Dim): void {
  if (typeof d === 'number') c.i32(d);
  else c.get(d.local);
}

/** `a · b`: folded where both are constants or one is 0 or 1, else computed into a new local where this is called. */
export function mulDim(c: Code, a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  if (a === 0 || b === 0) return 0;
  if (a === 1) return b;
  if (b === 1) return a;
  const local = c.local('i32');
  pushDim(c, a);
  pushDim(c, b);
  c.op('i32.mul').set(local);
  return { value: dimValue(a) * dimValue(b), local };
}

/**
 * collapseDims (../../kernel.ts) over sizes: drops dims of 1 and merges neighbouring dims
 * that every arg walks as one run, deciding by the member's values; a merged size's product
 * is computed into a local. Emit where no loop has begun, so the products run once.
 */
export function collapseSizes(
  c: Code, shape: readonly Dim[], strides: readonly (readonly Dim[])[],
): { shape: Dim[]; strides: Dim[][] } {
  return collapseWith(shape, strides, { value: dimValue, mul: (a, b) => mulDim(c, a, b), of: (n) => n });
}

/** The parameter kinds of a kernel's symbolic sizes: integer literals of bodies arrive as f64 (they may pass 2^31). */
export type SizeParam = 'i32' | 'f64';

/** Where a kernel's symbolic sizes are: each slot's parameter, by owner and key. */
export class KernelSizes {
  /** The parameter type of each symbolic size, in parameter order. */
  readonly params: SizeParam[];

  /** `literal[j]`: whether symbolic size j is an integer literal of a body. */
  constructor(readonly sizes: SymbolicSizes, literal: readonly boolean[]) {
    this.params = literal.map((l) => (l ? 'f64' : 'i32'));
  }

  /** `owner[key]` as a Dim: its parameter when symbolic (an i32 parameter), else the constant. */
  dim(owner: object, key: string | number): Dim {
    const value = (owner as Record<string | number, number>)[key]!;
    const param = this.param(owner, key);
    if (param === undefined) return value;
    if (this.params[param] !== 'i32') throw new InternalError(`wasm sizes: slot ${String(key)} is not an integer size`);
    return { value, local: param };
  }

  /** The parameter index of `owner[key]` when it is symbolic. */
  param(owner: object, key: string | number): number | undefined {
    const name = this.sizes.nameOf(owner, key);
    return name === undefined ? undefined : this.sizes.names.indexOf(name);
  }
}

/** A kernel with every size constant. */
export const constantSizes = new KernelSizes(noSymbolicSizes, []);

/**
 * Families per pattern of zero and nonzero sizes, as the JavaScript engine keeps them
 * (../js-program.ts): a zero stride is structure (a broadcast load hoisted out of the loop),
 * never a parameter.
 */
const families = new Map<string, SizeFamilies>();

/** Which sizes a spec renders symbolic: those its family has seen differ, or (`every`) every nonzero one. */
export type SizeMode = 'family' | 'every';

/**
 * The symbolic sizes `spec` renders with: none for its family's first member. Slots whose
 * owner is in `constant` stay constants (sizes the renderer bakes into a layout).
 */
export function kernelSizes(spec: KernelSpec, mode: SizeMode, constant: readonly object[] = []): KernelSizes {
  const values = sizeValues(spec);
  let pattern = '';
  for (const v of values) pattern += v === 0 ? '0' : '1';
  let family = families.get(pattern);
  if (family === undefined) families.set(pattern, (family = new SizeFamilies()));
  const slots = sizeSlots(spec);
  const differ = mode === 'family' ? family.symbolicSlots(spec) : values.map((v) => v !== 0);
  const symbolic = differ.map((s, i) => s && !constant.includes(slots[i]!.owner));
  if (!symbolic.includes(true)) return constantSizes;
  const sizes = new SymbolicSizes(spec, symbolic);
  return new KernelSizes(sizes, sizes.slots.map((i) => (slots[i]!.owner as { op?: string }).op === 'literal'));
}
