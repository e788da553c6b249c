/**
 * In-place updates with PyTorch's rules: the result must keep the target's shape (no
 * broadcasting the target up) and fit its dtype (no float result into an int tensor).
 * The value is computed first, then written, so a failed check changes nothing.
 */
import { DTypeError, ShapeError, ValueError, fmtShape } from '../../runtime/errors.js';
import { broadcastShapes, sameShape } from '../../compiler/ir/shape.js';
import { writeInto } from '../dispatch.js';
import { canCast, resultType } from '../dtype.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { AutogradError, GradNode } from '../autograd/node.js';
import { isGradEnabled } from '../autograd/mode.js';
import { add, asTensor, clamp, div, expandTo, mul, pow, sub } from './elementwise.js';
import { indexPut, maskedFill } from './advanced-index.js';
import { clone } from './shape.js';
import { checkScalar } from './scalars.js';

function checkAlive(op: string, target: Tensor, other: TensorLike): void {
  if (!(other instanceof Tensor)) checkScalar(op, 'a value that is not a tensor', other);
  if (target.isDisposed || (other instanceof Tensor && other.isDisposed)) {
    const which = target.isDisposed ? 'the target' : 'the value';
    throw new ValueError(`${op}: ${which} was disposed (dispose(), or the end of its tidy scope); keep it out of the scope or create it again`);
  }
}

function checkTarget(op: string, target: Tensor, other: TensorLike): void {
  checkAlive(op, target, other);
  const shape = other instanceof Tensor ? broadcastShapes(op, target.shape, other.shape) : target.shape;
  if (!sameShape(shape, target.shape)) {
    throw new ShapeError(`${op}: the result's shape ${fmtShape(shape)} does not match the target's ${fmtShape(target.shape)} (an in-place op cannot grow its target)`);
  }
}

/** Checks that autograd allows writing into `target`; true when the write must be recorded. */
function checkAutograd(op: string, target: Tensor, other: TensorLike): boolean {
  if (!isGradEnabled()) return false;
  const base = target.viewBase;
  if ((target.requiresGrad && target.isLeaf) || (base !== null && base.requiresGrad && base.isLeaf)) {
    throw new AutogradError(`${op}: a leaf tensor that requires grad${base !== null ? ' (or a view of one)' : ''} cannot be modified in place while gradients are recorded; update parameters inside noGrad(), or use the out-of-place op`);
  }
  const tracked = target.requiresGrad || (other instanceof Tensor && other.requiresGrad);
  if (tracked && base !== null) {
    throw new AutogradError(`${op}: in-place writes into a view of a tensor that autograd tracks are not supported; use out-of-place ops (e.g. cat or where) to build the new tensor`);
  }
  return tracked;
}

/**
 * Gives `target` the history "copied from value" (same shape): gradients flow from target
 * into value, and none into what target held before (a constant value cuts it off).
 */
function rebaseHistory(target: Tensor, value: Tensor): void {
  const node = value.dtype === target.dtype ? new GradNode('copy', {}, [value], target) : new GradNode('cast', { dtype: target.dtype }, [value], target);
  target.setGradFn(node);
}

function update<T extends Tensor>(op: string, target: T, other: TensorLike, f: (a: Tensor, b: TensorLike) => Tensor): T {
  checkTarget(op, target, other);
  const tracked = checkAutograd(op, target, other);
  // A tracked target is read through a copy: its old history must stay reachable after the
  // write, and an op that saves its operands for the gradient (mul, div) must not save
  // memory the write changes.
  const readCopy = tracked && (target.requiresGrad || f === mul || f === div);
  return store(op, target, f(readCopy ? clone(target) : target, other), tracked);
}

/** Writes the computed `value` into `target`, which takes its history when the write is tracked. */
function store<T extends Tensor>(op: string, target: T, value: Tensor, tracked: boolean): T {
  if (!canCast(value.dtype, target.dtype)) {
    throw new DTypeError(`${op}: the result type ${value.dtype} cannot be stored in the ${target.dtype} target (cast the target first, or use the out-of-place op)`);
  }
  writeInto(op, target, value);
  if (tracked) rebaseHistory(target, value);
  return target;
}

export const add_ = <T extends Tensor>(t: T, o: TensorLike): T => update('add_', t, o, add);
export const sub_ = <T extends Tensor>(t: T, o: TensorLike): T => update('sub_', t, o, sub);
export const mul_ = <T extends Tensor>(t: T, o: TensorLike): T => update('mul_', t, o, mul);
export const div_ = <T extends Tensor>(t: T, o: TensorLike): T => update('div_', t, o, div);
export const pow_ = <T extends Tensor>(t: T, o: TensorLike): T => update('pow_', t, o, pow);
export const clamp_ = <T extends Tensor>(t: T, min?: number | null, max?: number | null): T => update('clamp_', t, 0, (a) => clamp(a, min, max));
/** In-place forms of the common unary ops (`x.exp_()`, `x.relu_()`…). */
export const unary_ = <T extends Tensor>(op: string, t: T, f: (a: Tensor) => Tensor): T => update(op, t, 0, (a) => f(a));
/** Writes `value` where `mask` (broadcast to the target) is true. */
export const maskedFill_ = <T extends Tensor>(t: T, mask: Tensor, value: TensorLike): T => update('maskedFill_', t, mask, (a) => maskedFill(a, mask, value));

/**
 * Writes `values` at `indices` (see indexPut). The values broadcast to the indexed part, not
 * to the target, so only the result's shape is the target's. A tracked target is read
 * through a copy: indexPut's where saves it for the gradient, and the write changes it.
 */
export function indexPut_<T extends Tensor>(t: T, indices: Tensor[], values: TensorLike, accumulate = false): T {
  checkAlive('indexPut_', t, values);
  const tracked = checkAutograd('indexPut_', t, values);
  return store('indexPut_', t, indexPut(tracked ? clone(t) : t, indices, values, accumulate), tracked);
}

/** Writes `src` (broadcast to the target's shape, cast to its dtype) into `target`; `op` names it in errors (fill_). */
export function copy_<T extends Tensor>(target: T, src: TensorLike, op = 'copy_'): T {
  checkTarget(op, target, src);
  const tracked = checkAutograd(op, target, src);
  const value = asTensor(src, src instanceof Tensor ? src.dtype : resultType(src === true || src === false ? src : 0.5, target.dtype));
  // The history goes through the broadcast, whose gradient sums back to the source's shape.
  const full = expandTo(value, target.shape);
  writeInto(op, target, full);
  if (tracked) rebaseHistory(target, full);
  return target;
}
