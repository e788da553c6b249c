/**
 * Lowers one primitive applied to concrete operand layouts into kernel specs. Eager
 * execution is exactly this: a one-node graph, lowered and rendered by the same code the
 * JIT uses for whole graphs. Each spec comes with a key that identifies it without
 * building it, so the hot path of an eager op is a key and a cache lookup.
 */
import type { DType } from '../runtime/dtype.js';
import { InternalError } from '../runtime/errors.js';
import type { BinaryPrim, ReducePrim, UnaryPrim } from './ir/primitives.js';
import { contiguousStrides } from './ir/shape.js';
import { collapseDims, layoutKey, type Expr, type KernelSpec, type MapSpec } from './kernel.js';

/** How a kernel argument's elements sit in its buffer. */
export interface Layout {
  dtype: DType;
  shape: readonly number[];
  strides: readonly number[];
  offset: number;
}

/** A spec to build on a cache miss, and the key that names it. */
export interface Lowered {
  key: string;
  build: () => KernelSpec;
}

/** Elementwise primitive (or cast/copy) writing `out` from `inputs`, all of out's shape. */
export function lowerElementwise(prim: UnaryPrim | BinaryPrim | 'where' | 'cast', inputs: readonly Layout[], out: Layout): Lowered {
  const all = [out.strides];
  let key = prim + '|' + out.dtype;
  for (let i = 0; i < inputs.length; i++) {
    all.push(inputs[i]!.strides);
    key += ',' + inputs[i]!.dtype;
  }
  const { shape, strides } = collapseDims(out.shape, all);
  return {
    key: key + '|' + layoutKey(shape, strides),
    build: () => {
      const dtypes = [out.dtype, ...inputs.map((l) => l.dtype)];
      const body: Expr[] = inputs.map((_, i) => ({ op: 'load', arg: i + 1 }));
      if (prim === 'cast') body.push({ op: 'cast', arg: 0, from: inputs[0]!.dtype, to: out.dtype });
      else if (prim !== 'copy') body.push({ op: 'prim', prim, args: inputs.map((_, i) => i), dtype: inputs[inputs.length - 1]!.dtype });
      return { kind: 'map', shape, dtypes, strides, body, stores: [{ arg: 0, node: body.length - 1 }] } satisfies MapSpec;
    },
  };
}

/** Fills `out` with scalar argument 0. */
export function lowerFill(out: Layout): Lowered {
  const { shape, strides } = collapseDims(out.shape, [out.strides]);
  return {
    key: `fill|${out.dtype}|${shape}|${strides.join(';')}`,
    build: () => ({ kind: 'map', shape, dtypes: [out.dtype], strides, body: [{ op: 'scalar', index: 0, dtype: out.dtype }], stores: [{ arg: 0, node: 0 }] }),
  };
}

/** out[i] = i for a contiguous 1-D int32 `out`. */
export function lowerIota(out: Layout): Lowered {
  const n = out.shape[0]!;
  return {
    key: `iota|${n}`,
    build: () => ({ kind: 'map', shape: [n], dtypes: ['int32'], strides: [[1]], body: [{ op: 'position' }], stores: [{ arg: 0, node: 0 }] }),
  };
}

/** Reduction of `input` over `axes` into the contiguous `out` (the kept dims, in order). */
export function lowerReduce(op: ReducePrim, input: Layout, axes: readonly number[], out: Layout): Lowered {
  const outerDims: number[] = [];
  const innerDims: number[] = [];
  input.shape.forEach((_, d) => (axes.includes(d) ? innerDims : outerDims).push(d));
  const outerShape = outerDims.map((d) => input.shape[d]!);
  const outStrides = contiguousStrides(outerShape);
  const outer = collapseDims(outerShape, [outStrides, outerDims.map((d) => input.strides[d]!)]);
  // argmax/argmin count positions along their single axis, so that axis is never merged away.
  const innerShape = innerDims.map((d) => input.shape[d]!);
  const inner = op === 'argmax' || op === 'argmin'
    ? { shape: innerShape.length ? innerShape : [1], strides: [[0], innerDims.length ? innerDims.map((d) => input.strides[d]!) : [0]] }
    : collapseDims(innerShape, [innerDims.map(() => 0), innerDims.map((d) => input.strides[d]!)]);
  return {
    key: `${op}|${input.dtype}|${out.dtype}|${outer.shape}|${outer.strides.join(';')}|${inner.shape}|${inner.strides[1]}`,
    build: () => ({
      kind: 'reduce', op, dtype: input.dtype, outDtype: out.dtype,
      outer: outer.shape, inner: inner.shape,
      dtypes: [out.dtype, input.dtype],
      outerStrides: outer.strides, innerStrides: inner.strides,
      body: [{ op: 'load', arg: 1 }], value: 0,
    }),
  };
}

/** Batched a[..., m, k] @ b[..., k, n] into the contiguous out[..., m, n]; batch dims already match. */
export function lowerMatmul(a: Layout, b: Layout, out: Layout): Lowered {
  const r = out.shape.length;
  const m = out.shape[r - 2]!, n = out.shape[r - 1]!, k = a.shape[r - 1]!;
  const batchShape = out.shape.slice(0, r - 2);
  const batch = collapseDims(batchShape, [out.strides.slice(0, r - 2), a.strides.slice(0, r - 2), b.strides.slice(0, r - 2)]);
  const aStrides: [number, number] = [a.strides[r - 2]!, a.strides[r - 1]!];
  const bStrides: [number, number] = [b.strides[r - 2]!, b.strides[r - 1]!];
  const batched = batchShape.length > 0 && !(batch.shape.length === 1 && batch.shape[0] === 1);
  return {
    key: `matmul|${out.dtype}|${m},${n},${k}|${aStrides}|${bStrides}|${batched ? `${batch.shape}|${batch.strides.join(';')}` : ''}`,
    build: () => ({
      kind: 'matmul', dtype: out.dtype, m, n, k, aStrides, bStrides,
      batch: batched ? batch.shape : [],
      batchStrides: batched ? [batch.strides[0]!, batch.strides[1]!, batch.strides[2]!] : [[], [], []],
      extras: [], epilogue: null,
    }),
  };
}

/** out = x gathered along `axis` at `index` (out has index's shape). */
export function lowerGather(x: Layout, index: Layout, axis: number, out: Layout): Lowered {
  const xStrides = x.strides.map((s, d) => (d === axis ? 0 : s));
  const { shape, strides } = collapseDims(out.shape, [out.strides, index.strides, xStrides]);
  const stride = x.strides[axis]!, size = x.shape[axis]!;
  return {
    key: `gather|${x.dtype}|${shape}|${strides.join(';')}|${stride},${size}`,
    build: () => ({
      kind: 'map', shape, dtypes: [out.dtype, 'int32', x.dtype], strides,
      body: [{ op: 'load', arg: 1 }, { op: 'gatherLoad', arg: 2, index: 0, stride, size }],
      stores: [{ arg: 0, node: 1 }],
    }),
  };
}

/** out (already holding the base values) += src scattered along `axis` at `index`. */
export function lowerScatterAdd(out: Layout, index: Layout, src: Layout, axis: number): Lowered {
  const outStrides = out.strides.map((s, d) => (d === axis ? 0 : s)).slice();
  const { shape, strides } = collapseDims(index.shape, [outStrides, index.strides, src.strides]);
  const stride = out.strides[axis]!, size = out.shape[axis]!;
  return {
    key: `scatterAdd|${out.dtype}|${shape}|${strides.join(';')}|${stride},${size}`,
    build: () => ({
      kind: 'map', shape, dtypes: [out.dtype, 'int32', src.dtype], strides,
      body: [{ op: 'load', arg: 1 }, { op: 'load', arg: 2 }],
      stores: [{ arg: 0, node: 1, scatter: { index: 0, stride, size, accumulate: true } }],
    }),
  };
}

/** Fills the contiguous float32 `out` with uniforms; scalars seed and offset. */
export function lowerRandom(out: Layout): Lowered {
  const size = out.shape.reduce((p, d) => p * d, 1);
  if (out.dtype !== 'float32') throw new InternalError('random: output must be float32');
  return { key: `random|${size}`, build: () => ({ kind: 'random', size }) };
}
