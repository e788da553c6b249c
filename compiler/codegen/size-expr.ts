/**
 * Integer size arithmetic for renderers: a size is its value in the member being rendered
 * and the source text that computes it in the kernel — a constant, or an expression over
 * the kernel's size parameters (see ../sizes.ts). Constant operands fold, so a kernel with
 * no symbolic sizes renders exactly the constants it always did. The operators + - * and
 * the parenthesised form are spelled alike in JavaScript and WGSL.
 */
import { InternalError } from '../../runtime/errors.js';
import type { SymbolicSizes } from '../sizes.js';

export interface Size {
  /** The value in the member being rendered: what value-dependent decisions look at. */
  value: number;
  /** Source text that evaluates to `value` at launch. */
  text: string;
  /** Whether the text reads a size parameter. */
  symbolic: boolean;
}

/** A constant size. */
export function constant(n: number): Size {
  if (!Number.isSafeInteger(n)) throw new InternalError(`codegen: ${n} is not a safe integer`);
  return { value: n, text: String(n), symbolic: false };
}

/** `owner[key]` of a spec: its parameter when that slot is symbolic, else the constant. */
export function sizeAt(sizes: SymbolicSizes, owner: object, key: string | number): Size {
  const value = (owner as Record<string | number, number>)[key]!;
  const name = sizes.nameOf(owner, key);
  return name === undefined ? constant(value) : { value, text: name, symbolic: true };
}

/**
 * Text of `s` safe as an operand of any operator: symbolic texts are a parameter name or
 * parenthesised already, so only negative constants need parentheses.
 */
function operand(s: Size): string {
  return s.symbolic || s.value >= 0 ? s.text : `(${s.text})`;
}

export function mul(a: Size, b: Size): Size {
  if (!a.symbolic && !b.symbolic) return constant(a.value * b.value);
  if (!a.symbolic && a.value === 0) return a;
  if (!b.symbolic && b.value === 0) return b;
  if (!a.symbolic && a.value === 1) return b;
  if (!b.symbolic && b.value === 1) return a;
  return { value: a.value * b.value, text: `(${operand(a)} * ${operand(b)})`, symbolic: true };
}

export function add(a: Size, b: Size): Size {
  if (!a.symbolic && !b.symbolic) return constant(a.value + b.value);
  if (!a.symbolic && a.value === 0) return b;
  if (!b.symbolic && b.value === 0) return a;
  return { value: a.value + b.value, text: `(${operand(a)} + ${operand(b)})`, symbolic: true };
}

export function sub(a: Size, b: Size): Size {
  if (!a.symbolic && !b.symbolic) return constant(a.value - b.value);
  if (!b.symbolic && b.value === 0) return a;
  return { value: a.value - b.value, text: `(${operand(a)} - ${operand(b)})`, symbolic: true };
}

/** The product of `sizes` (1 for none). */
export function product(sizes: readonly Size[]): Size {
  return sizes.reduce(mul, constant(1));
}

/** `a` rounded down to a multiple of the constant `m`. */
export function floorTo(a: Size, m: number): Size {
  if (!a.symbolic) return constant(a.value - (a.value % m));
  return { value: a.value - (a.value % m), text: `(${a.text} - ${a.text} % ${m})`, symbolic: true };
}
