/** Matrix products. */
import { DTypeError, ShapeError, fmtShape } from '../../runtime/errors.js';
import { broadcastShapes } from '../../compiler/ir/shape.js';
import { apply } from '../dispatch.js';
import { resultType } from '../dtype.js';
import { Tensor } from '../tensor.js';
import { asTensor, expandTo } from './elementwise.js';
import { reshape } from './shape.js';

/**
 * Matrix product with NumPy semantics: 1-D operands are vectors (a dim added, then removed),
 * leading dims broadcast as batch dims.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new DTypeError('matmul: both operands must be tensors');
  if (a.ndim === 0 || b.ndim === 0) throw new ShapeError(`matmul: operands must have at least 1 dim (got ${fmtShape(a.shape)} @ ${fmtShape(b.shape)})`);
  const dtype = resultType(a.dtype, b.dtype);
  if (dtype === 'bool' || dtype === 'uint8') {
    throw new DTypeError(`matmul: ${dtype} operands are not supported (valid: float16, float32, float64, int32); cast them first`);
  }
  const av = a.ndim === 1 ? reshape(a, [1, a.shape[0]!]) : a;
  const bv = b.ndim === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
  const k = av.shape[av.ndim - 1]!;
  if (bv.shape[bv.ndim - 2] !== k) {
    throw new ShapeError(`matmul: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}: inner sizes ${k} and ${bv.shape[bv.ndim - 2]} differ`);
  }
  const batch = broadcastShapes('matmul', av.shape.slice(0, -2), bv.shape.slice(0, -2));
  const m = av.shape[av.ndim - 2]!, n = bv.shape[bv.ndim - 1]!;
  const ta = expandTo(asTensor(av, dtype), [...batch, m, k]);
  // Any strides are fine: the kernel packs B into contiguous panels (x @ W.t() needs no copy).
  const tb = expandTo(asTensor(bv, dtype), [...batch, k, n]);
  const out = apply('matmul', [ta, tb], {});
  const shape = [...batch, ...(a.ndim === 1 ? [] : [m]), ...(b.ndim === 1 ? [] : [n])];
  return out.ndim === shape.length ? out : reshape(out, shape);
}
