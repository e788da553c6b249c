/**
 * Fuzzed programs: straight-line code over tensors in SSA form. Every input and statement
 * has a value `id`, numbered in the order they were made (an input can be made for an op
 * late in the program; it is still a parameter of the function). An in-place statement
 * yields its target again (the same tensor, now modified), as `x.add_(y)` returns `x`.
 */
export type FuzzDType = 'float32' | 'float64' | 'int32' | 'bool';

/** What the generator knows of a value. */
export interface Meta {
  shape: number[];
  dtype: FuzzDType;
}

/** An input: its meta and the elements of the checked call (jit calls draw more from `valueSeed`). */
export interface Input {
  id: number;
  meta: Meta;
  values: number[];
}

/** One op applied to earlier values; `params` holds its constants (axes, scalars, index data). */
export interface Stmt {
  id: number;
  op: string;
  args: number[];
  params: Params;
  meta: Meta;
}

export type Params = Record<string, number | boolean | number[] | null>;

/** Which checks a program is made for: `grad` programs take only float inputs and smooth ops. */
export type Mode = 'values' | 'grad' | 'webgpu';

export interface Program {
  seed: number;
  mode: Mode;
  inputs: Input[];
  stmts: Stmt[];
  /** Values returned, in order. */
  outputs: number[];
}

export function metaOf(p: Program, value: number): Meta {
  const found = p.inputs.find((x) => x.id === value) ?? p.stmts.find((x) => x.id === value);
  if (found === undefined) throw new RangeError(`fuzz: no value ${value}`);
  return found.meta;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function isFloatType(d: FuzzDType): boolean {
  return d === 'float32' || d === 'float64';
}
