/**
 * The slow reference evaluator: the test oracle for the compiler. Every primitive is
 * interpreted the obvious way, one multi-index at a time, with each operand element found
 * by multiplying its index by its strides. It shares nothing with lowering or codegen
 * except the primitive table's scalar meanings and the shape rules, so a bug in the fast
 * path cannot hide in both.
 *
 * Values are computed in float64 and stored into a fresh typed array of the result dtype;
 * storing is the one rounding step (float32 rounds to nearest, int32 wraps).
 */
import { ARRAY_OF, isInteger, type DType, type TypedArray } from '../../runtime/dtype.js';
import { floatToHalf, halfToFloat, roundToHalf } from '../../runtime/half.js';
import { IndexRangeError, InternalError } from '../../runtime/errors.js';
import { unreachable } from '../../runtime/unreachable.js';
import type { Operand } from '../execute.js';
import { inferMeta, reducedAxes } from '../ir/infer.js';
import {
  isElementwiseCall, isViewCall, primCall, primitiveRules, refCast, type Params, type Prim, type ReducePrim,
} from '../ir/primitives.js';
import { uniformAt } from '../random/philox.js';
import { wasmKernels } from '../../runtime/wasm/engine.js';
import { wasmFeatures } from '../../runtime/wasm/features.js';

/**
 * How a matmul of `dtype` accumulates its products over k, in order: in float64, rounded
 * once when stored, except float32 on the WebAssembly engine, whose SIMD kernel keeps
 * float32 sums, acc = acc + a·b rounded at each step, or acc = fma(a, b, acc) where relaxed
 * SIMD supplies fused multiply-add (modelled as a·b + acc, exact in float64 for float32
 * operands, rounded twice: off by one step only in the rare double-rounding tie).
 */
export function matmulAccumulator(dtype: DType): (acc: number, a: number, b: number) => number {
  // int32 wraps at every product and sum, as int32 mul then sum does.
  if (dtype === 'int32') return (acc, a, b) => (acc + Math.imul(a, b)) | 0;
  if (dtype !== 'float32' || !wasmKernels()) return (acc, a, b) => acc + a * b;
  if (wasmFeatures().relaxedSimd) return (acc, a, b) => Math.fround(a * b + acc);
  return (acc, a, b) => Math.fround(acc + Math.fround(a * b));
}

/** A computed value: row-major elements of `shape`, stored as `dtype` stores them. */
export interface RefResult {
  data: TypedArray;
  shape: number[];
  dtype: DType;
}

/** Every multi-index of `shape` in row-major order. */
function indices(shape: readonly number[]): number[][] {
  const out: number[][] = [];
  const walk = (prefix: number[]): void => {
    if (prefix.length === shape.length) {
      out.push(prefix);
      return;
    }
    for (let i = 0; i < shape[prefix.length]!; i++) walk([...prefix, i]);
  };
  walk([]);
  return out;
}

/** Position of a multi-index in a row-major array of `shape`. */
function rowMajor(shape: readonly number[], index: readonly number[]): number {
  let p = 0;
  for (let d = 0; d < shape.length; d++) p = p * shape[d]! + index[d]!;
  return p;
}

/** The element of `x` at a multi-index. */
function read(x: Operand, index: readonly number[]): number {
  let p = x.offset;
  for (let d = 0; d < index.length; d++) p += index[d]! * x.strides[d]!;
  return x.dtype === 'float16' ? halfToFloat(x.data[p]!) : x.data[p]!;
}

function fresh(shape: readonly number[], dtype: DType): RefResult {
  let n = 1;
  for (const d of shape) n *= d;
  // float16 is computed as float64 values and stored as half bits once complete (`stored`).
  return { data: new (dtype === 'float16' ? Float64Array : ARRAY_OF[dtype])(n), shape: shape.slice(), dtype };
}

/** `r` as storage holds it: float16 values rounded (through float32, as kiln rounds) to half bits. */
function stored(r: RefResult): RefResult {
  return r.dtype === 'float16' ? { ...r, data: Uint16Array.from(r.data, floatToHalf) } : r;
}

/** Throws the error an out-of-range gather/scatter index gets. */
function checkIndex(op: string, i: number, size: number): void {
  if (i < 0 || i >= size) throw new IndexRangeError(op, i, size);
}

/** Reads `x` in row-major order of its shape into a fresh contiguous array. */
export function materialize(x: Operand): RefResult {
  const r = fresh(x.shape, x.dtype);
  indices(x.shape).forEach((idx, i) => (r.data[i] = read(x, idx)));
  return stored(r);
}

/** Value of primitive `prim` on `inputs`, by the definition of each primitive. */
export function evaluatePrim<P extends Prim>(prim: P, params: Params<P>, inputs: readonly Operand[]): RefResult {
  return stored(primValues(prim, params, inputs));
}

function primValues<P extends Prim>(prim: P, params: Params<P>, inputs: readonly Operand[]): RefResult {
  const meta = inferMeta(prim, inputs, params);
  const out = fresh(meta.shape, meta.dtype);
  const call = primCall(prim, params);

  if (isElementwiseCall(call)) {
    const rule = primitiveRules[call.prim];
    const operandDtype = inputs[inputs.length - 1]!.dtype;
    const f = isInteger(operandDtype) && rule.refInt !== undefined ? rule.refInt : rule.ref;
    indices(out.shape).forEach((idx, i) => (out.data[i] = f(...inputs.map((x) => read(x, idx)))));
    return out;
  }

  switch (call.prim) {
    case 'cast': {
      const { dtype } = call.params;
      indices(out.shape).forEach((idx, i) => (out.data[i] = refCast(read(inputs[0]!, idx), dtype)));
      return out;
    }
    case 'sum': case 'prod': case 'max': case 'min': case 'argmax': case 'argmin': {
      const x = inputs[0]!;
      const axes = reducedAxes(call);
      const kept = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
      const reduced = x.shape.map((_, d) => d).filter((d) => axes.includes(d));
      const inner = indices(reduced.map((d) => x.shape[d]!));
      indices(out.shape).forEach((outIdx, o) => {
        const values = inner.map((innerIdx) => {
          const idx = new Array<number>(x.shape.length);
          kept.forEach((d, k) => (idx[d] = outIdx[k]!));
          reduced.forEach((d, k) => (idx[d] = innerIdx[k]!));
          return read(x, idx);
        });
        out.data[o] = reduceValues(call.prim, x.dtype, values);
      });
      return out;
    }
    case 'pad': {
      const x = inputs[0]!;
      const { before, value } = call.params;
      const fill = refCast(value, x.dtype);
      indices(out.shape).forEach((idx, i) => {
        const src = idx.map((j, d) => j - before[d]!);
        const inside = src.every((j, d) => j >= 0 && j < x.shape[d]!);
        out.data[i] = inside ? read(x, src) : fill;
      });
      return out;
    }
    case 'concat': {
      const { axis } = call.params;
      indices(out.shape).forEach((idx, i) => {
        let j = idx[axis]!;
        for (const x of inputs) {
          if (j < x.shape[axis]!) {
            out.data[i] = read(x, idx.map((v, d) => (d === axis ? j : v)));
            return;
          }
          j -= x.shape[axis]!;
        }
        throw new InternalError(`concat: position ${idx[axis]} is past every input`);
      });
      return out;
    }
    case 'matmul': {
      const [a, b] = inputs as [Operand, Operand];
      const r = out.shape.length;
      const k = a.shape[r - 1]!;
      const step = matmulAccumulator(out.dtype);
      indices(out.shape).forEach((idx, o) => {
        const batch = idx.slice(0, r - 2);
        const i = idx[r - 2]!, j = idx[r - 1]!;
        let acc = 0;
        for (let t = 0; t < k; t++) acc = step(acc, read(a, [...batch, i, t]), read(b, [...batch, t, j]));
        out.data[o] = acc;
      });
      return out;
    }
    case 'gather': {
      const [x, index] = inputs as [Operand, Operand];
      const { axis } = call.params;
      indices(out.shape).forEach((idx, o) => {
        const at = read(index, idx);
        checkIndex('gather', at, x.shape[axis]!);
        out.data[o] = read(x, idx.map((v, d) => (d === axis ? at : v)));
      });
      return out;
    }
    case 'scatterAdd': {
      const [base, index, src] = inputs as [Operand, Operand, Operand];
      const { axis } = call.params;
      indices(out.shape).forEach((idx, o) => (out.data[o] = read(base, idx)));
      // One add per source element in row-major order, each stored (and so rounded) at once.
      for (const idx of indices(index.shape)) {
        const at = read(index, idx);
        checkIndex('scatterAdd', at, out.shape[axis]!);
        const o = rowMajor(out.shape, idx.map((v, d) => (d === axis ? at : v)));
        const sum = out.data[o]! + read(src, idx);
        out.data[o] = out.dtype === 'float16' ? roundToHalf(sum) : sum;
      }
      return out;
    }
    case 'random': {
      const { seed, offset } = call.params;
      for (let i = 0; i < out.data.length; i++) out.data[i] = uniformAt(seed, offset + i);
      return out;
    }
    case 'iota': {
      for (let i = 0; i < out.data.length; i++) out.data[i] = i;
      return out;
    }
    case 'reshape': case 'permute': case 'expand': case 'slice':
      throw new InternalError(`evaluatePrim: ${prim} is a view; use evaluateView`);
    default:
      return unreachable(call, 'evaluatePrim');
  }
}

/** One reduction of `values` (in index order), as the result dtype will store it. */
function reduceValues(prim: ReducePrim, dtype: DType, values: readonly number[]): number {
  switch (prim) {
    case 'sum': {
      let acc = 0;
      for (const v of values) acc += v;
      return acc;
    }
    case 'prod': {
      // int32 products wrap at every step, as int32 multiplication does; float64 would
      // lose the low bits the wrap keeps once a product passes 2^53.
      const exact = isInteger(dtype) ? primitiveRules.mul.refInt : undefined;
      const int = exact ?? ((a: number, b: number) => a * b);
      let acc = 1;
      for (const v of values) acc = int(acc, v);
      return acc;
    }
    // max/min are the value at argmax/argmin, so a NaN wins; a zero max or min is +0.
    case 'max': return values[extremeIndex(values, (a, b) => a > b)]! + 0;
    case 'min': return values[extremeIndex(values, (a, b) => a < b)]! + 0;
    case 'argmax': return extremeIndex(values, (a, b) => a > b);
    case 'argmin': return extremeIndex(values, (a, b) => a < b);
    default: return unreachable(prim, 'reduceValues');
  }
}

/** Index of the first element no later element beats; the first NaN beats everything. */
function extremeIndex(values: readonly number[], beats: (a: number, b: number) => boolean): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) {
    if (Number.isNaN(values[best]!)) break;
    if (Number.isNaN(values[i]!) || beats(values[i]!, values[best]!)) best = i;
  }
  return best;
}

/** Elements of view `prim` of `x` in row-major order, by the view's definition rather than through strides. */
export function evaluateView<P extends Prim>(prim: P, params: Params<P>, x: Operand): RefResult {
  const meta = inferMeta(prim, [x], params);
  const out = fresh(meta.shape, meta.dtype);
  const call = primCall(prim, params);
  if (!isViewCall(call)) throw new InternalError(`evaluateView: ${prim} is not a view`);
  const source = (idx: readonly number[]): number[] => {
    switch (call.prim) {
      case 'reshape': {
        // The element with the same row-major position in the source.
        let p = rowMajor(out.shape, idx);
        const src = new Array<number>(x.shape.length);
        for (let d = x.shape.length - 1; d >= 0; d--) {
          src[d] = p % x.shape[d]!;
          p = Math.floor(p / x.shape[d]!);
        }
        return src;
      }
      case 'permute': {
        const { perm } = call.params;
        const src = new Array<number>(x.shape.length);
        perm.forEach((p, d) => (src[p] = idx[d]!));
        return src;
      }
      case 'expand': {
        const lead = out.shape.length - x.shape.length;
        return x.shape.map((n, d) => (n === 1 ? 0 : idx[d + lead]!));
      }
      case 'slice': {
        const { starts, steps } = call.params;
        return idx.map((j, d) => starts[d]! + j * steps[d]!);
      }
      default:
        return unreachable(call, 'evaluateView');
    }
  };
  indices(out.shape).forEach((idx, i) => (out.data[i] = read(x, source(idx))));
  return stored(out);
}
