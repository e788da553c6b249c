/**
 * In-place updates with PyTorch's rules: the result must keep the target's shape (no
 * broadcasting the target up) and fit its dtype (no float result into an int tensor).
 * The value is computed first, then written, so a failed check changes nothing.
 */
import { DTypeError, ShapeError, fmtShape } from '../../runtime/errors.js';
import { broadcastShapes, sameShape } from '../../compiler/ir/shape.js';
import { writeInto } from '../dispatch.js';
import { canCast, resultType } from '../dtype.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { add, asTensor, div, expandTo, mul, sub } from './elementwise.js';

function checkTarget(op: string, target: Tensor, other: TensorLike): void {
  const shape = other instanceof Tensor ? broadcastShapes(op, target.shape, other.shape) : target.shape;
  if (!sameShape(shape, target.shape)) {
    throw new ShapeError(`${op}: the result's shape ${fmtShape(shape)} does not match the target's ${fmtShape(target.shape)} (an in-place op cannot grow its target)`);
  }
}

function update<T extends Tensor>(op: string, target: T, other: TensorLike, f: (a: Tensor, b: TensorLike) => Tensor): T {
  checkTarget(op, target, other);
  const value = f(target, other);
  if (!canCast(value.dtype, target.dtype)) {
    throw new DTypeError(`${op}: the result type ${value.dtype} cannot be stored in the ${target.dtype} target (cast the target first, or use the out-of-place op)`);
  }
  writeInto(op, target, value);
  return target;
}

export const add_ = <T extends Tensor>(t: T, o: TensorLike): T => update('add_', t, o, add);
export const sub_ = <T extends Tensor>(t: T, o: TensorLike): T => update('sub_', t, o, sub);
export const mul_ = <T extends Tensor>(t: T, o: TensorLike): T => update('mul_', t, o, mul);
export const div_ = <T extends Tensor>(t: T, o: TensorLike): T => update('div_', t, o, div);

/** Writes `src` (broadcast to the target's shape, cast to its dtype) into `target`. */
export function copy_<T extends Tensor>(target: T, src: TensorLike): T {
  checkTarget('copy_', target, src);
  const value = asTensor(src, src instanceof Tensor ? src.dtype : resultType(src === true || src === false ? src : 0.5, target.dtype));
  writeInto('copy_', target, expandTo(value, target.shape));
  return target;
}
