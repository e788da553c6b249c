/**
 * Shape and dtype rules of the primitives: given operand metadata and parameters, the
 * result's metadata or an error naming the op. Eager execution, the tracer and the graph
 * verifier all call these, so a rule is checked the same way everywhere.
 */
import type { DType } from '../../runtime/dtype.js';
import { DTypeError, InternalError, ShapeError, fmtShape } from '../../runtime/errors.js';
import { unreachable } from '../../runtime/unreachable.js';
import {
  isElementwisePrim, isViewCall, primCall, primitiveRules, type ElementwisePrim, type ElementwiseRule, type Params,
  type Prim, type PrimCall, type ReducePrim, type StructuredPrim, type ViewPrim,
} from './primitives.js';
import { contiguousStrides, sameShape, sizeOf } from './shape.js';

/** Shape and dtype of a value. */
export interface Meta {
  shape: readonly number[];
  dtype: DType;
}

/** A view's reading pattern over its base storage. */
export interface ViewLayout {
  shape: number[];
  strides: number[];
  offset: number;
}

function expectDtype(op: string, dtype: DType, accepts: readonly DType[]): void {
  if (!accepts.includes(dtype)) throw new DTypeError(`${op}: dtype ${dtype} is not supported (valid: ${accepts.join(', ')})`);
}

function expectArity(op: string, inputs: readonly Meta[], n: number): void {
  if (inputs.length !== n) throw new InternalError(`${op}: expected ${n} operands, got ${inputs.length}`);
}

/** The result metadata of `prim` on `inputs`, or a typed error. */
export function inferMeta<P extends Prim>(prim: P, inputs: readonly Meta[], params: Params<P>): Meta {
  // Checked on the primitive first, so an eager elementwise op builds no call object.
  if (isElementwisePrim(prim)) return elementwiseMeta(prim, inputs);
  return structuredMeta(primCall(prim, params) as PrimCall<StructuredPrim>, inputs);
}

function elementwiseMeta(prim: ElementwisePrim, inputs: readonly Meta[]): Meta {
  const rule = primitiveRules[prim];
  expectArity(prim, inputs, ARITY[rule.kind]);
  const first = inputs[0]!;
  for (const x of inputs) {
    if (!sameShape(x.shape, first.shape)) throw new InternalError(`${prim}: operand shapes ${fmtShape(first.shape)} and ${fmtShape(x.shape)} differ`);
  }
  const operands = prim === 'where' ? inputs.slice(1) : inputs;
  if (prim === 'where') expectDtype(prim, first.dtype, ['bool']);
  const dtype = operands[0]!.dtype;
  for (const x of operands) if (x.dtype !== dtype) throw new InternalError(`${prim}: operand dtypes ${dtype} and ${x.dtype} differ`);
  expectDtype(prim, dtype, rule.accepts);
  return { shape: first.shape, dtype: rule.result ?? dtype };
}

/** Operand count of each elementwise rule kind. */
const ARITY = { unary: 1, binary: 2, ternary: 3 } as const satisfies Record<ElementwiseRule['kind'], number>;

function structuredMeta(call: PrimCall<StructuredPrim>, inputs: readonly Meta[]): Meta {
  const { prim } = call;
  switch (call.prim) {
    case 'cast': {
      expectArity(prim, inputs, 1);
      return { shape: inputs[0]!.shape, dtype: call.params.dtype };
    }
    case 'sum': case 'prod': case 'max': case 'min': case 'argmax': case 'argmin': {
      const rule = primitiveRules[call.prim];
      expectArity(prim, inputs, 1);
      const x = inputs[0]!;
      expectDtype(prim, x.dtype, rule.accepts);
      const axes = reducedAxes(call);
      for (const a of axes) {
        if (!Number.isInteger(a) || a < 0 || a >= x.shape.length) throw new InternalError(`${prim}: axis ${a} for ${fmtShape(x.shape)}`);
        if (rule.needsElements && x.shape[a] === 0) {
          throw new ShapeError(`${prim}: cannot reduce over axis ${a} of size 0 in ${fmtShape(x.shape)}: the result would have no value (reduce a non-empty dimension)`);
        }
      }
      return { shape: x.shape.filter((_, d) => !axes.includes(d)), dtype: rule.result(x.dtype) };
    }
    case 'reshape': case 'permute': case 'expand': case 'slice': {
      expectArity(prim, inputs, 1);
      return { shape: viewShape(call, inputs[0]!.shape), dtype: inputs[0]!.dtype };
    }
    case 'pad': {
      expectArity(prim, inputs, 1);
      const { before, after } = call.params;
      const x = inputs[0]!;
      return { shape: x.shape.map((d, i) => d + before[i]! + after[i]!), dtype: x.dtype };
    }
    case 'concat': {
      const { axis } = call.params;
      const first = inputs[0]!;
      let total = 0;
      for (const x of inputs) {
        if (x.dtype !== first.dtype) throw new InternalError(`concat: dtypes ${first.dtype} and ${x.dtype} differ`);
        total += x.shape[axis]!;
      }
      return { shape: first.shape.map((d, i) => (i === axis ? total : d)), dtype: first.dtype };
    }
    case 'matmul': {
      expectArity(prim, inputs, 2);
      const [a, b] = inputs as [Meta, Meta];
      expectDtype(prim, a.dtype, ['float16', 'float32', 'float64', 'int32']);
      const r = a.shape.length;
      if (r < 2 || b.shape.length !== r || a.dtype !== b.dtype || a.shape[r - 1] !== b.shape[r - 2] || !sameShape(a.shape.slice(0, r - 2), b.shape.slice(0, r - 2))) {
        throw new InternalError(`matmul: operands ${a.dtype}${fmtShape(a.shape)} and ${b.dtype}${fmtShape(b.shape)} are not matched`);
      }
      return { shape: [...a.shape.slice(0, r - 1), b.shape[r - 1]!], dtype: a.dtype };
    }
    case 'gather': {
      expectArity(prim, inputs, 2);
      const [x, index] = inputs as [Meta, Meta];
      checkIndexShape('gather', x, index, call.params.axis);
      return { shape: index.shape, dtype: x.dtype };
    }
    case 'scatterAdd': {
      expectArity(prim, inputs, 3);
      const [base, index, src] = inputs as [Meta, Meta, Meta];
      // Accumulation is `add`, so scatterAdd takes add's dtypes: a bool would count past 1.
      expectDtype(prim, base.dtype, primitiveRules.add.accepts);
      checkIndexShape('scatterAdd', base, index, call.params.axis);
      if (!sameShape(index.shape, src.shape)) throw new ShapeError(`scatterAdd: index ${fmtShape(index.shape)} and source ${fmtShape(src.shape)} must have the same shape`);
      if (src.dtype !== base.dtype) throw new InternalError(`scatterAdd: dtypes ${base.dtype} and ${src.dtype} differ`);
      return { shape: base.shape, dtype: base.dtype };
    }
    case 'random':
      return { shape: call.params.shape, dtype: 'float32' };
    case 'iota':
      return { shape: [call.params.n], dtype: 'int32' };
    default:
      return unreachable(call, 'inferMeta');
  }
}

/** The axes a reduction removes: argmax/argmin name one, the others a list. */
export function reducedAxes(call: PrimCall<ReducePrim>): readonly number[] {
  return call.prim === 'argmax' || call.prim === 'argmin' ? [call.params.axis] : call.params.axes;
}

function checkIndexShape(op: string, x: Meta, index: Meta, axis: number): void {
  if (index.dtype !== 'int32') throw new DTypeError(`${op}: index must be int32 (got ${index.dtype})`);
  if (index.shape.length !== x.shape.length) {
    throw new ShapeError(`${op}: index ${fmtShape(index.shape)} must have as many dims as the input ${fmtShape(x.shape)}`);
  }
  index.shape.forEach((d, i) => {
    if (i !== axis && d > x.shape[i]!) {
      throw new ShapeError(`${op}: index ${fmtShape(index.shape)} is larger than the input ${fmtShape(x.shape)} in dim ${i} (only dim ${axis} may differ)`);
    }
  });
}

function viewShape(call: PrimCall<ViewPrim>, shape: readonly number[]): number[] {
  switch (call.prim) {
    case 'reshape': return call.params.shape.slice();
    case 'permute': return call.params.perm.map((p) => shape[p]!);
    case 'expand': return call.params.shape.slice();
    case 'slice': return call.params.sizes.slice();
    default: return unreachable(call, 'viewShape');
  }
}

/**
 * How a view reads its base: new shape, strides and offset; null when a reshape cannot be
 * expressed with strides over the base (the caller copies first).
 */
export function viewLayout<P extends Prim>(prim: P, base: ViewLayout, params: Params<P>): ViewLayout | null {
  const call = primCall(prim, params);
  if (!isViewCall(call)) throw new InternalError(`${prim} is not a view`);
  switch (call.prim) {
    case 'reshape': return reshapeStrides(base, call.params.shape);
    case 'permute': {
      const { perm } = call.params;
      return { shape: perm.map((p) => base.shape[p]!), strides: perm.map((p) => base.strides[p]!), offset: base.offset };
    }
    case 'expand': {
      const { shape } = call.params;
      const lead = shape.length - base.shape.length;
      return {
        shape: shape.slice(),
        strides: shape.map((_, i) => (i < lead || base.shape[i - lead] !== shape[i] ? 0 : base.strides[i - lead]!)),
        offset: base.offset,
      };
    }
    case 'slice': {
      const { starts, steps, sizes } = call.params;
      let offset = base.offset;
      starts.forEach((s, d) => (offset += sizes[d]! > 0 ? s * base.strides[d]! : 0));
      return { shape: sizes.slice(), strides: base.strides.map((s, d) => s * steps[d]!), offset };
    }
    default: return unreachable(call, 'viewLayout');
  }
}

/** Strides for reading `base` as `shape` without copying, or null when that is impossible. */
function reshapeStrides(base: ViewLayout, shape: readonly number[]): ViewLayout | null {
  const n = sizeOf(shape);
  if (n === 0 || n === 1) return { shape: shape.slice(), strides: contiguousStrides(shape), offset: base.offset };
  // Walk both shapes in chunks of equal element count; each chunk of the old shape must be
  // contiguous within itself, and the new dims of that chunk get strides from its innermost.
  const oldShape: number[] = [], oldStrides: number[] = [];
  base.shape.forEach((d, i) => { if (d !== 1) { oldShape.push(d); oldStrides.push(base.strides[i]!); } });
  const strides = new Array<number>(shape.length).fill(0);
  let oi = 0, ni = 0;
  while (ni < shape.length || oi < oldShape.length) {
    // Size-1 new dims take any stride.
    if (ni < shape.length && shape[ni] === 1) { strides[ni] = 1; ni++; continue; }
    if (oi >= oldShape.length || ni >= shape.length) return null;
    const oStart = oi, nStart = ni;
    let oSize = oldShape[oi++]!, nSize = shape[ni++]!;
    while (oSize !== nSize) {
      if (oSize < nSize) { if (oi >= oldShape.length) return null; oSize *= oldShape[oi++]!; }
      else { if (ni >= shape.length) return null; nSize *= shape[ni++]!; }
    }
    for (let k = oStart; k < oi - 1; k++) if (oldStrides[k] !== oldStrides[k + 1]! * oldShape[k + 1]!) return null;
    let s = oldStrides[oi - 1]!;
    for (let k = ni - 1; k >= nStart; k--) {
      if (shape[k] === 1) { strides[k] = s; continue; }
      strides[k] = s;
      s *= shape[k]!;
    }
  }
  return { shape: shape.slice(), strides, offset: base.offset };
}
