/**
 * Values every replay makes or compares the same way, whatever runs the kernels (the CPU
 * replay, the WebGPU replay, the loop runner): constants made from their recorded values,
 * and observed values checked against a guard's.
 */
import { ARRAY_OF } from '../../runtime/dtype.js';
import { toElement } from '../../runtime/stored.js';
import type { NodeOf } from '../../compiler/ir/graph.js';
import { Tensor } from '../tensor.js';

/** A constant node's tensor, made from its recorded values. */
export function materialize(node: NodeOf<'constant'>, numbers: readonly number[]): Tensor {
  const p = node.params;
  const n = node.shape.reduce((a, b) => a * b, 1);
  const data = new ARRAY_OF[node.dtype](n);
  if (p.data !== undefined) data.set(p.data);
  else data.fill(toElement(p.numberSlot !== undefined ? numbers[p.numberSlot]! : p.value!, node.dtype));
  return Tensor.fromData(data, node.shape.slice(), node.dtype);
}

/** Whether observed values equal the expected ones (NaN matches NaN). */
export function sameValues(a: ArrayLike<number>, b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameValue(a[i]!, b[i]!)) return false;
  return true;
}

/** Whether an observed value equals the expected one (NaN matches NaN, -0 only -0). */
export function sameValue(a: number, b: number): boolean {
  return Object.is(a, b) || (a !== a && b !== b);
}
