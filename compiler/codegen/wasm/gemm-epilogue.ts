/**
 * A matmul's epilogue (bias, activation, residual: the elementwise group fused after it) as
 * a function of the gemm module, applied to a block of the product right after its last k
 * block is stored, while the block is still in L1. The body is the kernel spec's own
 * expression DAG, rendered by the same per-primitive code as the Wasm map kernels
 * (render-body.ts), four columns at a time with a scalar tail (a lane of the vector code,
 * bit for bit): so each output element is the product rounded to float32, then every
 * epilogue op rounded in order, as an eager matmul followed by eager elementwise ops
 * computes it.
 */
import { itemSize, type DType } from '../../../runtime/dtype.js';
import { InternalError } from '../../../runtime/errors.js';
import { MAX_ARGS } from '../../../runtime/wasm/pool-control.js';
import type { Expr, MatmulSpec } from '../../kernel.js';
import type { Code } from './encoder.js';
import { wasmMathBinaryFns, wasmMathFns, type WasmMath } from './math.js';
import { bodySupported, emitBody, storeOp, type BodySite } from './render-body.js';

/** What the gemm module needs to know of an epilogue to emit it. */
export interface GemmEpilogue {
  /** The body with the product read as a float32 load of arg 0; extras are args 3, 4, …. */
  body: Expr[];
  value: number;
  /** dtypes by arg: 0 the product (float32), 1 and 2 unused (A and B), then the extras'. */
  dtypes: DType[];
  /** dtype of the output (4 bytes: float32 or int32). */
  out: DType;
  /** Per extra: one element along n (column stride 0), read as a splat. */
  broadcast: boolean[];
}

/** Bytes of one element of extra `x` (4, or 1 for a bool mask). */
export function extraItemSize(e: GemmEpilogue, x: number): number {
  return itemSize(e.dtypes[3 + x]!);
}

/** The float32 math whose Wasm functions round differently from the JavaScript engine's (math.ts). */
const engineMath = new Set<string>([...wasmMathFns, ...wasmMathBinaryFns]);

/**
 * The epilogue of `spec` in Wasm form, or undefined where it stays a JavaScript map: a node
 * without f32x4 code, a result that is not 4 bytes wide, an extra that is neither 4 bytes
 * wide nor bool, or an extra whose elements along n are neither consecutive nor one
 * broadcast value. With `sameMath` false
 * (the eager elementwise ops run as JavaScript), bodies calling a float32 math function are
 * left to JavaScript too, whose Math functions round differently.
 */
export function gemmEpilogue(spec: MatmulSpec, sameMath: boolean): GemmEpilogue | undefined {
  const epilogue = spec.epilogue;
  if (epilogue === null || itemSize(epilogue.dtype) !== 4) return undefined;
  // The worker pool passes a job at most MAX_ARGS arguments: the gemm's 20 and two per extra.
  if (20 + 2 * spec.extras.length > MAX_ARGS) return undefined;
  // A bool extra (a ReLU's mask in its backward) is read four bytes at a time, widened to lanes.
  const readable = (dtype: DType) => itemSize(dtype) === 4 || dtype === 'bool';
  if (spec.extras.some((x) => !readable(x.dtype) || (x.strides[1] !== 0 && x.strides[1] !== 1))) return undefined;
  const body = epilogue.body.map((e): Expr => (e.op === 'acc' ? { op: 'load', arg: 0 } : e));
  // It reads the product and the extras only: the kernel passes no scalar arguments.
  if (body.some((e) => (e.op === 'load' && e.arg > 0 && e.arg < 3) || e.op === 'scalar')) return undefined;
  if (!sameMath && body.some((e) => e.op === 'prim' && engineMath.has(e.prim))) return undefined;
  const dtypes: DType[] = ['float32', 'float32', 'float32', ...spec.extras.map((x) => x.dtype)];
  const lanes = () => true;
  if (!bodySupported(body, dtypes, true, lanes) || !bodySupported(body, dtypes, false, lanes)) return undefined;
  const broadcast = spec.extras.map((x) => x.strides[1] === 0);
  return { body, value: epilogue.value, dtypes, out: epilogue.dtype, broadcast };
}

/**
 * A stable text of an epilogue for the module cache (built from validated numbers and names
 * only). Literals that JSON would write as null or 0 (NaN, ±Infinity, -0) are spelled out.
 */
export function epilogueKey(e: GemmEpilogue): string {
  const exact = (_: string, v: unknown) =>
    typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? (Object.is(v, -0) ? '-0' : String(v)) : v;
  return JSON.stringify([e.body, e.value, e.dtypes, e.out, e.broadcast], exact);
}

/** Parameters of the epilogue function: (product, ldc, out, ldo, rows, cols), then (address, row stride) per extra. */
export function epilogueParams(e: GemmEpilogue): number {
  return 6 + 2 * e.broadcast.length;
}

/**
 * epilogue(product, ldc, out, ldo, rows, cols, x₀, ldx₀, …): out = body(product, extras) over
 * `rows` × `cols` elements; row strides in bytes; the extras' addresses at the block's first
 * element. The product may be the output itself (each element is read before it is written).
 */
export function emitEpilogue(c: Code, e: GemmEpilogue, math: WasmMath): void {
  const [product, ldc, out, ldo, rows, cols] = [0, 1, 2, 3, 4, 5];
  const extras = e.broadcast.map((_, x) => ({ base: 6 + 2 * x, ld: 7 + 2 * x, at: c.local('i32') }));
  const pa = c.local('i32'), po = c.local('i32'), j = c.local('i32'), position = c.local('i32');
  const site: BodySite = {
    address: (arg) => (arg === 0 ? pa : extras[arg - 3]!.at),
    broadcast: (arg) => arg >= 3 && e.broadcast[arg - 3]!,
    scalar: () => {
      throw new InternalError('wasm gemm: a matmul epilogue has no scalar arguments');
    },
    position, math,
  };
  const step = (bytes: number) => {
    c.get(pa).i32(bytes).op('i32.add').set(pa);
    c.get(po).i32(bytes).op('i32.add').set(po);
    e.broadcast.forEach((b, x) => {
      const size = (bytes / 4) * extraItemSize(e, x);
      if (!b) c.get(extras[x]!.at).i32(size).op('i32.add').set(extras[x]!.at);
    });
  };
  // The columns four at a time while four are left, then one at a time (the product and the
  // output are 4 bytes wide, an extra 4 or 1).
  const columns = (vector: boolean) => {
    const width = vector ? 4 : 1;
    c.open('block').open('loop');
    c.get(j).i32(width).op('i32.lt_s').indexed('br_if', 1);
    c.get(po);
    const locals = emitBody(c, e.body, e.dtypes, site, vector);
    c.get(locals[e.value]!);
    if (vector) c.simdMem('v128.store');
    else c.mem(storeOp(e.out));
    step(4 * width);
    c.get(j).i32(width).op('i32.sub').set(j);
    c.indexed('br', 0).end().end();
  };
  c.open('block').open('loop');
  c.get(rows).op('i32.eqz').indexed('br_if', 1);
  c.get(product).set(pa);
  c.get(out).set(po);
  for (const x of extras) c.get(x.base).set(x.at);
  c.get(cols).set(j);
  columns(true);
  columns(false);
  c.get(product).get(ldc).op('i32.add').set(product);
  c.get(out).get(ldo).op('i32.add').set(out);
  for (const x of extras) c.get(x.base).get(x.ld).op('i32.add').set(x.base);
  c.get(rows).i32(1).op('i32.sub').set(rows);
  c.indexed('br', 0).end().end();
}
