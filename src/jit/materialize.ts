/** Constant nodes of a recorded graph, made into tensors. */
import type { EffectParams } from '../../compiler/ir/graph.js';
import { ARRAY_OF } from '../../runtime/dtype.js';
import { Tensor } from '../tensor.js';

/** A constant node's tensor, made from its recorded values. */
export function materialize(
  node: { shape: number[]; dtype: Tensor['dtype']; params: object }, numbers: readonly number[],
): Tensor {
  const p = node.params as EffectParams['constant'];
  const n = node.shape.reduce((a, b) => a * b, 1);
  const data = new ARRAY_OF[node.dtype](n);
  if (p.data !== undefined) data.set(p.data);
  else data.fill(p.numberSlot !== undefined ? numbers[p.numberSlot]! : p.value!);
  return Tensor.fromData(data, node.shape.slice(), node.dtype);
}
