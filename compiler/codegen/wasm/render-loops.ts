/**
 * Map, reduce and merged (multi) kernel specs as Wasm loop nests. A kernel is one exported
 * function `kernel(address…, offset…: i32, scalar…: f64)`: each arg's byte address in the
 * memory and its element offset, so slices and different constants share one module.
 *
 * Loops walk each arg by a byte pointer per level that steps by the arg's stride, as the
 * JavaScript kernels do. A map's innermost loop runs four elements at a time (f32x4 /
 * i32x4) where every arg is 32-bit and walked contiguously or broadcast along it, then
 * the positions left over one at a time.
 *
 * A reduction folds in a float64 accumulator as the JavaScript kernel's `acc` does, one
 * element at a time in the order of the inner positions, or, over contiguous float32 rows,
 * four lanes at a time in a fixed order (./render-fold.ts); eager and jit run these same
 * kernels and agree. A max or min has the JavaScript engine's bits in any order.
 */
import { itemSize, type DType } from '../../../runtime/dtype.js';
import { InternalError } from '../../../runtime/errors.js';
import { unreachable } from '../../../runtime/unreachable.js';
import { collapseDims, type MapSpec, type MultiSpec, type ReduceSpec, type Store } from '../../kernel.js';
import type { Code } from './encoder.js';
import type { WasmMath } from './math.js';
import { bodySupported, emitBody, loadOp, nodeDtypes, storeOp, valType, type RowContext } from './render-body.js';
import { FOLD_START, foldGroups, foldStep, LaneFold } from './render-fold.js';
import { IndexSites, indexedAddress, scattersSupported } from './render-index.js';
import { wasmPrims } from './render-prims.js';
import { collapseSizes, dimValue, mulDim, pushDim, type Dim, type KernelSizes } from './render-sizes.js';

/** Lanes of the vectorised innermost loop. */
const LANES = 4;

/** Where a kernel's args and scalars are: the local holding each arg's base byte address, the scalar parameters. */
export interface Frame {
  c: Code;
  base: (arg: number) => number;
  scalar: (index: number) => number;
  /** The module's math functions. */
  math: WasmMath;
  /** The i32 parameters of a kernel split over threads (./render-split.ts); absent in merged kernels' parts. */
  split?: SplitParams;
  /** The kernel's symbolic sizes (./render-sizes.ts). */
  sizes: KernelSizes;
  /** Where a kernel that gathers or scatters checks its indices (./render-index.ts). */
  sites?: IndexSites;
}

/** A split kernel's outermost loop runs over [from, to); row kernels' scratch starts at byte address `scratch`. */
export interface SplitParams {
  from: number;
  to: number;
  scratch: number;
}

/**
 * The addresses a loop nest's body sees: each arg's pointer at the current element, and the
 * innermost position; a vector body also learns which of the unrolled groups it is.
 */
export type Inner = (address: (arg: number) => number, position: number, vector: boolean, group: number) => void;

/**
 * A loop nest over `shape` (collapsed: at least one dim), `strides` in elements per arg.
 * With `vector` the innermost dim first runs in groups of four; with `groups` > 1, first
 * `groups` such groups per iteration (the body called for group 0, 1, … in turn), then the
 * whole groups left as group 0. With `range` the outermost dim runs over [range.from,
 * range.to) instead of all of it (a job of a split kernel). Symbolic sizes' pointer steps
 * are computed here, before the loops.
 */
export function nest(
  f: Frame, shape: readonly Dim[], strides: readonly (readonly Dim[])[], dtypes: readonly DType[],
  args: readonly number[], parent: (arg: number) => number, inner: Inner, vector: boolean, range?: SplitParams,
  groups = 1,
): void {
  const { c } = f;
  const last = shape.length - 1;
  const steps = shape.map((_, d) => new Map(args.filter((a) => dimValue(strides[a]![d]!) !== 0).map((a) => {
    const bytes = mulDim(c, strides[a]![d]!, itemSize(dtypes[a]!));
    const widths = d === last && vector ? [1, LANES] : [1];
    return [a, new Map(widths.map((w) => [w, mulDim(c, bytes, w)]))] as const;
  })));
  const level = (d: number, outer: (arg: number) => number): void => {
    const n = shape[d]!;
    const bounds = d === 0 ? range : undefined;
    const i = c.local('i32');
    const stepped = [...steps[d]!.keys()];
    const pointers = new Map(stepped.map((a) => [a, c.local('i32')]));
    const here = (a: number) => pointers.get(a) ?? outer(a);
    if (bounds) c.get(bounds.from); else c.i32(0);
    c.set(i);
    for (const a of stepped) {
      c.get(outer(a));
      if (bounds) {
        c.get(bounds.from);
        pushDim(c, steps[d]!.get(a)!.get(1)!);
        c.op('i32.mul').op('i32.add');
      }
      c.set(pointers.get(a)!);
    }
    const advance = (width: number) => {
      c.get(i).i32(width).op('i32.add').set(i);
      for (const a of stepped) {
        c.get(pointers.get(a)!);
        pushDim(c, steps[d]!.get(a)!.get(width)!);
        c.op('i32.add').set(pointers.get(a)!);
      }
    };
    // Runs `body` while `width` more positions remain; the body advances all but the last `step`.
    const loop = (width: number, body: () => void, step = width) => {
      c.open('block').open('loop');
      c.get(i).i32(width).op('i32.add');
      if (bounds) c.get(bounds.to); else pushDim(c, n);
      c.op('i32.gt_s').indexed('br_if', 1);
      body();
      advance(step);
      c.indexed('br', 0).end().end();
    };
    if (d < last) {
      loop(1, () => level(d + 1, here));
      return;
    }
    // A symbolic size gets the unrolled loop whatever this member's value, so a family shares one module.
    if (vector && groups > 1 && (typeof n !== 'number' || n >= LANES * groups)) {
      loop(LANES * groups, () => {
        for (let g = 0; g < groups; g++) {
          inner(here, i, true, g);
          if (g < groups - 1) advance(LANES);
        }
      }, LANES);
    }
    if (vector && dimValue(n) >= LANES) loop(LANES, () => inner(here, i, true, 0));
    loop(1, () => inner(here, i, false, 0));
  };
  level(0, parent);
}

/** The args a body loads. */
export function loaded(spec: { body: MapSpec['body'] }): number[] {
  const used = new Set<number>();
  for (const e of spec.body) if (e.op === 'load' || e.op === 'gatherLoad') used.add(e.arg);
  return [...used];
}

function is32(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'int32';
}

/**
 * Whether `body`, over a loop nest of `shape` (collapsed), can run four lanes at a time
 * along the innermost dim: every arg it loads or stores is 32-bit and walked contiguously
 * there (loads may also be broadcast along it), and every node has four-lane code.
 */
export function lanewise(
  shape: readonly Dim[], strides: readonly (readonly Dim[])[], dtypes: readonly DType[],
  body: MapSpec['body'], stores: readonly number[], rows?: RowContext,
): boolean {
  const last = shape.length - 1;
  const inner = (a: number) => dimValue(strides[a]![last]!);
  const lanes = (a: number) => is32(dtypes[a]!) && (inner(a) === 0 || inner(a) === 1);
  return dimValue(shape[last]!) >= LANES && stores.every((a) => is32(dtypes[a]!) && inner(a) === 1) &&
    loaded({ body }).every(lanes) && bodySupported(body, dtypes, true, lanes, rows);
}

/** A map spec with its dims collapsed, and whether its innermost dim runs four lanes at a time. */
export function planMap(spec: MapSpec): { shape: number[]; strides: number[][]; vector: boolean } {
  const { shape, strides } = collapseDims(spec.shape, spec.strides);
  const vector = lanewise(shape, strides, spec.dtypes, spec.body, spec.stores.map((st) => st.arg));
  return { shape, strides, vector };
}

/** Whether a map spec has Wasm code: every node and store supported one element at a time. */
export function mapSupported(spec: MapSpec): boolean {
  return bodySupported(spec.body, spec.dtypes, false, () => true, undefined, true) &&
    scattersSupported(spec, nodeDtypes(spec.body, spec.dtypes));
}

/** A spec's dims and strides as the kernel's sizes, collapsed. */
export function collapsedSizes(
  f: Frame, shape: readonly number[], strides: readonly (readonly number[])[],
): { shape: Dim[]; strides: Dim[][] } {
  const dims = shape.map((_, d) => f.sizes.dim(shape, d));
  return collapseSizes(f.c, dims, strides.map((s) => s.map((_, d) => f.sizes.dim(s, d))));
}

/** Emits a map spec (mapSupported) into frame `f`. */
export function emitMap(f: Frame, spec: MapSpec): void {
  const { shape, strides } = collapsedSizes(f, spec.shape, spec.strides);
  const indexed = IndexSites.present(spec.body, spec.stores);
  const vector = !indexed && lanewise(shape, strides, spec.dtypes, spec.body, spec.stores.map((st) => st.arg));
  const last = shape.length - 1;
  const args = spec.dtypes.map((_, a) => a);
  nest(f, shape, strides, spec.dtypes, args, f.base, (address, position, lanes) => {
    const broadcast = (a: number) => dimValue(strides[a]![last]!) === 0;
    const site = { address, scalar: f.scalar, math: f.math, position, broadcast, sizes: f.sizes, sites: f.sites };
    const locals = emitBody(f.c, spec.body, spec.dtypes, site, lanes);
    for (const st of spec.stores) {
      if (st.scatter !== undefined) {
        emitScatter(f, address(st.arg), locals[st.scatter.index]!, locals[st.node]!, spec.dtypes[st.arg]!, st.scatter);
        continue;
      }
      f.c.get(address(st.arg)).get(locals[st.node]!);
      if (lanes) f.c.simdMem('v128.store');
      else f.c.mem(storeOp(spec.dtypes[st.arg]!));
    }
  }, vector, f.split);
}

/**
 * Stores (or adds, rounded to the dtype as the JavaScript kernel's add) local `value` at
 * `address` moved by local `index` strides along the scatter axis, after checking the index.
 */
function emitScatter(
  f: Frame, address: number, index: number, value: number, dtype: DType, scatter: NonNullable<Store['scatter']>,
): void {
  const { c } = f;
  if (f.sites === undefined) throw new InternalError('wasm map: a scatter outside a checking kernel');
  f.sites.check(c, index, f.sizes.dim(scatter, 'size'), scatter.size, 'scatterAdd');
  const target = c.local('i32');
  indexedAddress(c, address, index, f.sizes.dim(scatter, 'stride'), dtype);
  c.set(target);
  c.get(target);
  if (!scatter.accumulate) c.get(value);
  else {
    const old = c.local(valType(dtype));
    c.get(target).mem(loadOp(dtype)).set(old);
    wasmPrims.add!.emit(c, [old, value], dtype, false, f.math);
  }
  c.mem(storeOp(dtype));
}

/**
 * Whether a reduce spec has Wasm code: a float sum, product, max or min, or an argmax or
 * argmin of float or int32 values into int32, of a supported body.
 */
export function reduceSupported(spec: ReduceSpec): boolean {
  const float = (d: DType) => d === 'float32' || d === 'float64';
  const ops: readonly string[] = ['sum', 'prod', 'max', 'min'];
  const folds = ops.includes(spec.op) ? float(spec.dtype) && float(spec.outDtype)
    : isArg(spec.op) && (float(spec.dtype) || spec.dtype === 'int32') && spec.outDtype === 'int32';
  return folds && bodySupported(spec.body, spec.dtypes, false, () => true);
}

function isArg(op: ReduceSpec['op']): op is 'argmax' | 'argmin' {
  return op === 'argmax' || op === 'argmin';
}

/**
 * An argmax or argmin's row, as the JavaScript kernel folds it: the float64 `acc` starts at
 * ∓Infinity, and value `v` at position `r` replaces it (and `at`) where v > acc (v < acc),
 * or where v is the first NaN; returns the step and the local holding the result.
 */
function argFold(c: Code, op: 'argmax' | 'argmin'): { step: (v: number) => void; at: number } {
  const acc = c.local('f64'), at = c.local('i32'), r = c.local('i32');
  c.f64(op === 'argmax' ? -Infinity : Infinity).set(acc).i32(0).set(at).i32(0).set(r);
  const step = (v: number) => {
    c.get(v).get(acc).op(op === 'argmax' ? 'f64.gt' : 'f64.lt');
    c.get(v).get(v).op('f64.ne').get(acc).get(acc).op('f64.eq').op('i32.and').op('i32.or');
    c.open('if').get(v).set(acc).get(r).set(at).end();
    c.get(r).i32(1).op('i32.add').set(r);
  };
  return { step, at };
}

type Layout = { shape: readonly Dim[]; strides: readonly (readonly Dim[])[] };

/**
 * How a reduction (collapsed `outer` and `inner` dims) runs four lanes at a time: along its
 * inner dim (`inner`: four partial folds per output, see LaneFold), or, where that cannot
 * be, along its last outer dim (`outputs`: four consecutive float32 outputs, each lane
 * folding its own output one inner position at a time, so in the scalar fold's order and
 * with its bits; a sum over a leading axis, as a bias gradient's, reads its rows this way).
 */
export function reduceLanes(spec: ReduceSpec, outer: Layout, inner: Layout): 'inner' | 'outputs' | 'none' {
  if (!LaneFold.covers(spec.op, spec.dtype)) return 'none';
  if (lanewise(inner.shape, inner.strides, spec.dtypes, spec.body, [])) return 'inner';
  const outputs = spec.outDtype === 'float32' && lanewise(outer.shape, outer.strides, spec.dtypes, spec.body, [0]);
  return outputs ? 'outputs' : 'none';
}

/** Folds four consecutive outputs at `rowAddress` (reduceLanes 'outputs'), each over its inner positions in order. */
function emitOutputLanes(
  f: Frame, spec: ReduceSpec, outer: Layout, inner: Layout, rowAddress: (arg: number) => number,
): void {
  const { c } = f;
  const lastOuter = outer.shape.length - 1;
  const lanes = new LaneFold(c, spec.op as 'sum' | 'max' | 'min');
  nest(f, inner.shape, inner.strides, spec.dtypes, loaded(spec), rowAddress, (address, position) => {
    const broadcast = (a: number) => dimValue(outer.strides[a]![lastOuter]!) === 0;
    const site = { address, scalar: f.scalar, math: f.math, position, broadcast, sizes: f.sizes };
    const locals = emitBody(c, spec.body, spec.dtypes, site, true);
    lanes.add(locals[spec.value]!);
  }, false);
  c.get(rowAddress(0));
  lanes.pushLanes();
  c.simdMem('v128.store');
}

/** Emits a reduce spec (reduceSupported) into frame `f`. */
export function emitReduce(f: Frame, spec: ReduceSpec): void {
  const { c } = f;
  const outer = collapsedSizes(f, spec.outer, spec.outerStrides);
  const inner = collapsedSizes(f, spec.inner, spec.innerStrides);
  const args = spec.dtypes.map((_, a) => a);
  const body = loaded(spec);
  const op = spec.op as keyof typeof FOLD_START;
  const last = inner.shape.length - 1;
  const mode = reduceLanes(spec, outer, inner);
  const vector = mode === 'inner';
  nest(f, outer.shape, outer.strides, spec.dtypes, args, f.base, (rowAddress, _, outputs) => {
    if (outputs) return emitOutputLanes(f, spec, outer, inner, rowAddress);
    const arg = isArg(spec.op) ? argFold(c, spec.op) : undefined;
    const acc = arg ? undefined : c.local('f64');
    if (acc !== undefined) c.f64(FOLD_START[op]).set(acc);
    const fold = spec.op as 'sum' | 'max' | 'min';
    const lanes = vector ? new LaneFold(c, fold, foldGroups(fold)) : undefined;
    nest(f, inner.shape, inner.strides, spec.dtypes, body, rowAddress, (address, position, four, group) => {
      const broadcast = (a: number) => dimValue(inner.strides[a]![last]!) === 0;
      const site = { address, scalar: f.scalar, math: f.math, position, broadcast, sizes: f.sizes };
      const locals = emitBody(c, spec.body, spec.dtypes, site, four);
      if (four) return lanes!.add(locals[spec.value]!, group);
      const v = c.local('f64');
      c.get(locals[spec.value]!);
      if (valType(spec.dtype) === 'f32') c.op('f64.promote_f32');
      else if (valType(spec.dtype) === 'i32') c.op('f64.convert_i32_s');
      c.set(v);
      if (arg) arg.step(v);
      else foldStep(c, spec.op, acc!, v);
    }, vector, undefined, lanes?.groups);
    lanes?.into(acc!);
    c.get(rowAddress(0)).get(arg ? arg.at : acc!);
    if (spec.outDtype === 'float32') c.op('f32.demote_f64');
    c.mem(storeOp(spec.outDtype));
  }, mode === 'outputs', f.split);
}

/** Whether every part of a merged kernel has Wasm code. */
export function multiSupported(spec: MultiSpec): boolean {
  return spec.parts.every((p) => (p.spec.kind === 'map' ? mapSupported(p.spec) : reduceSupported(p.spec)));
}
