/** Reduce and row kernels: how rows spread over workgroups and lanes, how lanes fold and combine, how loops walk a row. */
import { type GpuDType, renderWgslCast, wgslType } from '../wgsl-prims.js';
import { type UseHelper } from '../wgsl-helpers.js';
import { InternalError } from '../../../runtime/errors.js';
import { Uniforms } from './uniforms.js';
import type { WgslKernel, WgslLimits, WgslOptions } from './types.js';
import {
  affine, coordinates, grid, indent, int, lastIndex, linear, pow2AtLeast, pow2AtMost, product, sizeU32, sizeValue, toStorage,
  u32,
  type SizeText,
} from './common.js';
import { refCast } from '../../ir/primitives.js';

// Both fold `inner` values for each of `rows` outer positions. A workgroup takes
// `rowsPerGroup` rows and gives each of them `lanes` invocations: lane t folds elements
// t, t + lanes, t + 2·lanes, ... into a private partial result, then the row's lanes
// combine their partials through workgroup memory, each lane reading all of its row's
// partials itself, so that a reduction costs one barrier (and a row of one lane none).
// lavapipe runs a workgroup as coroutines of 8 invocations and switches through all of
// them at every barrier, so rows get few lanes: one 256-invocation workgroup per row with
// a barrier per tree level took 3-4x longer than 4 lanes per row on softmax [4096, 1024].
// How many lanes a row gets depends on the kind of device (RowProfile).

/** How reduce and row kernels spread rows over a kind of device. */
interface RowProfile {
  /** Invocations to keep busy: rows get more lanes until rows × lanes reaches this. */
  parallelism: number;
  /**
   * Scratch elements an invocation may keep in its own memory, indexed by its step counter:
   * the index is the same for every invocation, so on lavapipe the accesses are plain vector
   * loads and stores (workgroup memory, indexed per invocation, took 8% longer on softmax
   * [4096, 1024], recomputing exp 25% longer). Rows get more lanes until their scratch fits.
   */
  keepElements: number;
}

/** GPUs: many lanes per row, and little scratch per invocation (registers). Not measured here: the tests run it on lavapipe. */
const GPU_ROWS: RowProfile = { parallelism: 16384, keepElements: 64 };

/**
 * CPU implementations (fallback adapters such as lavapipe): one lane per row where there
 * are rows enough for the cores, so that kernels need no barrier. A barrier anywhere makes
 * lavapipe compile the shader into coroutines: adding one to the one-lane softmax
 * [4096, 1024] made it 12% slower, as slow as two lanes per row. An invocation's own
 * memory is the CPU's stack: 16 KB of scratch each.
 */
const CPU_ROWS: RowProfile = { parallelism: 512, keepElements: 4096 };

/** Elements each lane folds at least: shorter rows get fewer lanes, down to one lane folding in the CPU's order. */
const MIN_PER_LANE = 8;
/** Invocations per workgroup that reduce and row kernels aim for. */
const ROW_WG = 64;
/** Rows per workgroup at least where invocations walk across rows: 16 adjacent rows read 64 contiguous bytes per position (one row per workgroup took 5x longer for a sum over the first axis of [4096, 1024] on lavapipe). */
const ACROSS_ROWS = 16;
/** Partial results each lane reads itself; rows with more lanes first halve theirs in a tree. */
const FLAT_COMBINE = 16;

/** A fold: accumulator type, start value, how a value enters it and how partial results combine. */
interface Fold {
  accType: GpuDType;
  init: string;
  step(acc: string, v: string): string;
  combine(a: string, b: string): string;
}

/**
 * The fold of sum, prod, max or min over values of `dtype`, giving `outDtype` (the JS
 * renderer's reduceParts). Over rows known to be `empty`, int32 and bool max and min start
 * from what the CPU gives there: its float64 start value, -Infinity or Infinity, converted.
 */
export function fold(op: 'sum' | 'prod' | 'max' | 'min', dtype: GpuDType, outDtype: GpuDType, empty: boolean, use: UseHelper): Fold {
  const accType: GpuDType = op === 'sum' || op === 'prod' ? outDtype : dtype;
  if (accType !== outDtype) throw new InternalError(`wgsl: ${op} of ${dtype} cannot give ${outDtype}`);
  const isF = wgslType(accType) === 'f32', isI = wgslType(accType) === 'i32';
  const c = (f: string, i: string, b: string) => (isF ? f : isI ? i : b);
  const cpuEmpty = (start: number) => `${int(refCast(start, accType))}${isI ? 'i' : 'u'}`;
  let init: string, combine: (a: string, b: string) => string;
  switch (op) {
    case 'sum': init = c('0.0', '0i', '0u'); combine = (a, b) => `${a} + ${b}`; break;
    case 'prod': init = c('1.0', '1i', '1u'); combine = (a, b) => `${a} * ${b}`; break;
    // NaN wins and stays, like the CPU's `v > acc || v !== v`.
    case 'max':
      init = isF ? `-${use('k_inf')}()` : empty ? cpuEmpty(-Infinity) : isI ? 'i32(-2147483648)' : '0u';
      combine = (a, b) => (isF ? `${use('k_max_f32')}(${a}, ${b})` : `max(${a}, ${b})`);
      break;
    case 'min':
      init = isF ? `${use('k_inf')}()` : empty ? cpuEmpty(Infinity) : isI ? '2147483647i' : '1u';
      combine = (a, b) => (isF ? `${use('k_min_f32')}(${a}, ${b})` : `min(${a}, ${b})`);
      break;
  }
  return { accType, init, combine, step: (acc, v) => `${acc} = ${combine(acc, renderWgslCast(v, dtype, accType, use))};` };
}

/** argmax / argmin: does (v2, i2) beat (v1, i1)? The first NaN wins, then the larger (smaller) value, then the smaller index. */
export function betterFn(op: 'argmax' | 'argmin', dtype: GpuDType, use: UseHelper): string[] {
  const A = wgslType(dtype);
  return [
    // Marks an empty partial result (a lane that saw no element).
    `const NONE = 0xffffffffu;`,
    `fn k_better(v1: ${A}, i1: u32, v2: ${A}, i2: u32) -> bool {`,
    `  if (i2 == NONE) {`, `    return false;`, `  }`,
    `  if (i1 == NONE) {`, `    return true;`, `  }`,
    ...(wgslType(dtype) === 'f32' ? [
      `  let n1 = ${use('k_isnan')}(v1);`, `  let n2 = k_isnan(v2);`,
      `  if (n1 || n2) {`, `    return select(n2, i2 < i1, n1 && n2);`, `  }`,
    ] : []),
    `  return v2 ${op === 'argmax' ? '>' : '<'} v1 || (v2 == v1 && i2 < i1);`,
    `}`,
  ];
}

/** How a reduce or row kernel spreads its rows over invocations. */
export interface RowMapping {
  /** Invocations per row, a power of two; with one, an invocation folds its row alone, in the CPU's order. */
  lanes: number;
  /** Rows per workgroup, a power of two. */
  rowsPerGroup: number;
  /** Invocations per workgroup: lanes × rowsPerGroup. */
  wg: number;
  /** Consecutive invocations take consecutive positions of one row (rows contiguous in memory), else the same position of consecutive rows. */
  alongRow: boolean;
  /** The row count: a number, or a uniform word where the outer shape is symbolic. */
  rows: SizeText;
  /** Some workgroup holds rows past the end: always so where the row count is symbolic. */
  ragged: boolean;
  /** Workgroups: ceil(rows / rowsPerGroup). */
  groups: number;
  workgroups: [number, number, number];
}

export function rowProfile(options: WgslOptions): RowProfile {
  return options.fallbackAdapter === true ? CPU_ROWS : GPU_ROWS;
}

/**
 * Lanes and rows per workgroup for `rows` rows of `inner` elements, walked in `steps` steps
 * per row. `sharedPerLane`: bytes of workgroup memory each lane's partial results take
 * when lanes share them. `keepPerStep`: scratch elements a lane keeps per step; rows get
 * enough lanes for each lane's to fit the profile's keepElements, and where no number of
 * lanes allowed does, `keep` is false and the kernel recomputes scratch values instead.
 */
export function rowMapping(rowCount: SizeText, inner: number, steps: number, alongRow: boolean, sharedPerLane: number, keepPerStep: number, profile: RowProfile, limits: WgslLimits): { mapping: RowMapping; keep: boolean } {
  const rows = sizeValue(rowCount);
  const maxWg = pow2AtMost(Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX, Math.floor(limits.maxComputeWorkgroupStorageSize / sharedPerLane)));
  // Walking across rows, only adjacent rows make contiguous reads: a workgroup takes several.
  const fewestRows = alongRow ? 1 : Math.min(ACROSS_ROWS, maxWg);
  const mostLanes = maxWg / fewestRows;
  let lanes = Math.min(pow2AtLeast(Math.ceil(profile.parallelism / Math.max(rows, 1))), pow2AtMost(Math.max(1, Math.floor(inner / MIN_PER_LANE))), mostLanes);
  const keepLanes = pow2AtLeast(Math.ceil((steps * keepPerStep) / profile.keepElements));
  const keep = keepPerStep > 0 && steps > 0 && keepLanes <= mostLanes;
  if (keep) lanes = Math.max(lanes, keepLanes);
  // A symbolic row count takes full workgroups even for few rows, so that its members share one shader.
  const symbolic = typeof rowCount !== 'number';
  const mostRows = symbolic ? maxWg : pow2AtLeast(rows);
  const perGroup = Math.min(Math.max(1, fewestRows, Math.min(ROW_WG, maxWg) / lanes), mostRows);
  const groups = Math.ceil(rows / perGroup);
  const ragged = symbolic || rows % perGroup !== 0;
  const workgroups = grid(groups, limits);
  const mapping = { lanes, rowsPerGroup: perGroup, wg: lanes * perGroup, alongRow, rows: rowCount, ragged, groups, workgroups };
  return { mapping, keep };
}

/**
 * Whether consecutive invocations should walk along a row: unless more of `args` step by
 * one element along the last outer dim (a reduction over a leading axis) than along the
 * last inner dim.
 */
export function walksAlongRow(outerStrides: readonly (readonly number[])[], innerStrides: readonly (readonly number[])[], args: Iterable<number>): boolean {
  let along = 0, across = 0;
  for (const a of args) {
    if (Math.abs(innerStrides[a]!.at(-1) ?? 0) === 1) along++;
    if (Math.abs(outerStrides[a]!.at(-1) ?? 0) === 1) across++;
  }
  return along >= across;
}

/**
 * The first lines of a reduce or row kernel: `lane` (with more than one lane), `slot` (the
 * row's place in the workgroup) and `row`. Rows past the end (the last workgroup's, when
 * the row count is not a multiple of rowsPerGroup) fold the last row again and store
 * nothing, so that they still reach every barrier; `live` tells them apart.
 */
export function rowPrologue(m: RowMapping, uniforms: Uniforms): string[] {
  const yUsed = m.workgroups[1] > 1;
  const lines = [`let group = ${linear('wid', m.workgroups[0], yUsed)};`];
  // Only a 2-D grid has more workgroups than rows need; the test is uniform, so barriers may follow.
  if (yUsed) {
    const groups = sizeU32(uniforms.derived('Dgroups', m.groups, typeof m.rows !== 'number'));
    lines.push(`if (group >= ${groups}) {`, `  return;`, `}`);
  }
  const T = u32(m.lanes), R = u32(m.rowsPerGroup);
  if (m.lanes > 1) lines.push(`let lane = ${m.alongRow ? `lid % ${T}` : `lid / ${R}`};`);
  lines.push(`let slot = ${m.lanes === 1 ? 'lid' : m.alongRow ? `lid / ${T}` : `lid % ${R}`};`);
  lines.push(`let place = group * ${R} + slot;`);
  if (!m.ragged) lines.push(`let row = place;`);
  else lines.push(`let live = place < ${sizeU32(m.rows)};`, `let row = min(place, ${lastIndex(m.rows)});`);
  return lines;
}

/** `lines` run only by live rows, and with `oneLane` only by each row's first lane. */
export function guarded(m: RowMapping, oneLane: boolean, lines: string[]): string[] {
  const conds = [...(oneLane && m.lanes > 1 ? ['lane == 0u'] : []), ...(m.ragged ? ['live'] : [])];
  return conds.length === 0 ? lines : [`if (${conds.join(' && ')}) {`, ...indent(lines), `}`];
}

/** How lanes' partial results move through workgroup memory; every slot argument is a u32 index expression. */
interface Partials {
  /** Stores this invocation's partial result in slot `lid`. */
  write: string[];
  /** Folds slot `from` into slot `into`. */
  merge(into: string, from: string): string[];
  /** Sets this invocation's partial result back to the fold's start value. */
  reset: string[];
  /** Folds slot `from` into this invocation's partial result. */
  absorb(from: string): string[];
}

/**
 * Combines each row's partial results: every lane writes its own and, after one barrier,
 * folds its row's (halved first in a tree when there are more than FLAT_COMBINE), so that
 * every lane of a row ends with the same result, folded in the same order.
 */
export function combineLanes(m: RowMapping, p: Partials): string[] {
  const stride = m.alongRow ? 1 : m.rowsPerGroup;
  const apart = (k: string) => (stride === 1 ? k : `${k} * ${u32(stride)}`);
  const first = m.alongRow ? `slot * ${u32(m.lanes)}` : 'slot';
  const flat = Math.min(m.lanes, FLAT_COMBINE);
  const lines = [...p.write, `workgroupBarrier();`];
  if (m.lanes > flat) {
    lines.push(
      `for (var s = ${u32(m.lanes >> 1)}; s >= ${u32(flat)}; s = s >> 1u) {`,
      `  if (lane < s) {`, ...indent(p.merge('lid', `lid + ${apart('s')}`), '    '), `  }`,
      `  workgroupBarrier();`,
      `}`,
    );
  }
  lines.push(...p.reset, `for (var j = 0u; j < ${u32(flat)}; j++) {`, ...indent(p.absorb(`${first} + ${apart('j')}`)), `}`);
  return lines;
}


export const ROW_ENTRY = `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {`;

/** The layout of a reduce or row kernel's args, as both specs give it. */
interface RowLayout {
  outer: readonly number[];
  inner: readonly number[];
  outerStrides: readonly (readonly number[])[];
  innerStrides: readonly (readonly number[])[];
}

/**
 * How the loops of a reduce or row kernel step through a row: one element at a time, or
 * four contiguous elements at a time with the args contiguous along the last inner dim
 * read and written as vec4 (half the time of single elements on lavapipe for softmax).
 */
export interface RowWalk {
  width: 1 | 4;
  /** Args held as vec4 arrays. */
  vec: ReadonlySet<number>;
  /** The shape one row's steps run over: the inner shape with its last dim divided by the width. */
  shape: SizeText[];
  steps: number;
  /** The step count as the loops read it: a uniform word where an inner dim is symbolic. */
  stepCount: SizeText;
  /**
   * The steps scratch kept per invocation is sized for: `steps`, or where they are symbolic
   * the power of two at least as large, so that members whose steps round alike share a shader.
   */
  capacity: number;
}

/**
 * Vectorizes when every offset is a multiple of 4 (`aligned`), the last inner dim is a
 * multiple of 4, every arg a loop reads or writes (`walked`) steps along it by one element
 * (keeping its other strides multiples of 4) or not at all (read, then, one element at a
 * time), and no vec4 arg is also read or written at the row's own position (`atRow`).
 */
export function rowWalk(
  layout: RowLayout, walked: ReadonlySet<number>, stored: ReadonlySet<number>, atRow: ReadonlySet<number>, aligned: boolean,
  uniforms: Uniforms,
): RowWalk {
  const inner = product(layout.inner);
  const symbolic = layout.inner.some((_, d) => uniforms.isSymbolic(layout.inner, d));
  const counted = (shape: SizeText[], steps: number, width: 1 | 4, vec: ReadonlySet<number>): RowWalk => ({
    width, vec, shape, steps,
    stepCount: uniforms.derived(`Dsteps${width}`, steps, symbolic),
    capacity: symbolic ? pow2AtLeast(steps) : steps,
  });
  const dims = layout.inner.map((_, d) => uniforms.size(layout.inner, d));
  const single = counted(dims, inner, 1, new Set());
  const last = layout.inner.length - 1;
  const size = layout.inner[last] ?? 0;
  if (!aligned || size < 4 || size % 4 !== 0) return single;
  const vec = new Set<number>();
  for (const a of walked) {
    const along = layout.innerStrides[a]![last]!;
    if (along === 0 && !stored.has(a)) continue;
    const others = [...layout.outerStrides[a]!, ...layout.innerStrides[a]!.slice(0, last)];
    if (along !== 1 || atRow.has(a) || !others.every((s) => s >= 0 && s % 4 === 0)) return single;
    vec.add(a);
  }
  if (vec.size === 0) return single;
  return counted([...dims.slice(0, last), uniforms.quarter(layout.inner, last)], inner / 4, 4, vec);
}

/** Every arg's offset at the current row, `q<a>`: in vec4 units for vec4 args. */
export function rowOffsets(layout: RowLayout, walk: RowWalk, uniforms: Uniforms): string[] {
  const outer = coordinates(layout.outer.map((_, d) => uniforms.size(layout.outer, d)), 'row', 'c');
  return [
    ...outer.lines,
    ...layout.outerStrides.map((s, a) => (walk.vec.has(a)
      ? `let q${a} = ${affine(`(${uniforms.offset(a)} >> 2u)`, outer.names, s.map((_, d) => uniforms.quarter(s, d)))};`
      : `let q${a} = ${affine(uniforms.offset(a), outer.names, s.map((_, d) => uniforms.size(s, d)))};`)),
  ];
}

/** The row count of a reduce or row kernel: a uniform word when any outer dim is symbolic. */
export function rowCount(layout: RowLayout, uniforms: Uniforms): SizeText {
  const rows = product(layout.outer);
  return uniforms.derived('Drows', rows, layout.outer.some((_, d) => uniforms.isSymbolic(layout.outer, d)));
}

/** One element of a row loop, as a loop body sees it. */
interface RowElement {
  /** Arg `a`'s value at this element. */
  load(a: number): string;
  /** The value a row kernel keeps as scratch `k` at this element. */
  scratch(k: number): string;
  /** The element's position along the last inner dim (i32). */
  position: string;
  /** The element's linear index in the row (u32). */
  index: string;
}

/** What a loop body computes at one element: statements, then values to store into args and to keep as scratch there. */
interface RowElementCode {
  lines: string[];
  stores: { arg: number; value: string }[];
  saves: { index: number; value: string }[];
}

/** Steps each lane keeps scratch for: the length of its keep arrays. */
export function laneCapacity(m: RowMapping, walk: RowWalk): number {
  return Math.ceil(walk.capacity / m.lanes);
}

/**
 * The loop over this invocation's elements of its row: `i` runs over the lane's steps,
 * lane, lane + lanes, ... `body` renders one element; `guard` wraps the stores into args.
 * Scratch `k` is kept in the invocation's array `keep<k>` (RowProfile.keepElements), at
 * the lane's step count `n`; only loops that touch it count steps so (a loop over `n`
 * that derives `i` took 10% longer on lavapipe than one over `i` for softmax's max pass).
 * Vectorized, every vec4 arg and kept scratch is read once per step, and what a step
 * stores gathers in a vec4 written after its four elements.
 */
export function rowLoop(m: RowMapping, walk: RowWalk, layout: RowLayout, uniforms: Uniforms, argTypes: readonly GpuDType[],
  scratchTypes: readonly (GpuDType | undefined)[], guard: (lines: string[]) => string[], body: (el: RowElement) => RowElementCode): string[] {
  const coords = coordinates(walk.shape, 'i', 'e');
  const last = coords.names[coords.names.length - 1] ?? '0u';
  const lastDim = layout.inner.length - 1;
  const offsets = argTypes.map((_, a) => {
    const own = layout.innerStrides[a]!;
    const strides = own.map((_, d) => (!walk.vec.has(a) ? uniforms.size(own, d) : d === lastDim ? 1 : uniforms.quarter(own, d)));
    return `let p${a} = ${affine(`q${a}`, coords.names, strides)};`;
  });
  let counted = false;
  const kept = (k: number) => {
    counted = true;
    return `keep${int(k)}[n]`;
  };
  let step: string[];
  if (walk.width === 1) {
    const { lines, stores, saves } = body({ load: (a) => `b${int(a)}[p${a}]`, scratch: kept, position: `i32(${last})`, index: 'i' });
    step = [
      ...lines,
      ...saves.map((sv) => `${kept(sv.index)} = ${sv.value};`),
      ...guard(stores.map((st) => `b${int(st.arg)}[p${int(st.arg)}] = ${toStorage(argTypes[st.arg]!, st.value)};`)),
    ];
  } else {
    const loaded = new Set<number>(), read = new Set<number>();
    const { lines, stores, saves } = body({
      load: (a) => {
        if (!walk.vec.has(a)) return `b${int(a)}[p${a}]`;
        loaded.add(a);
        return `l${a}[c]`;
      },
      scratch: (k) => {
        read.add(k);
        return `t${k}[c]`;
      },
      position: `i32(${last} * 4u + c)`,
      index: 'i * 4u + c',
    });
    const written = [...new Set(stores.map((st) => st.arg))];
    const saved = [...new Set(saves.map((sv) => sv.index))];
    if (saved.length > 0) counted = true;
    const vec4 = (t: GpuDType | undefined) => `vec4<${wgslType(t!)}>`;
    step = [
      ...[...loaded].map((a) => `let l${a} = b${a}[p${a}];`),
      ...[...read].map((k) => `let t${k} = ${kept(k)};`),
      ...written.map((a) => `var r${a}: ${vec4(argTypes[a])};`),
      ...saved.map((k) => `var s${k}: ${vec4(scratchTypes[k])};`),
      `for (var c = 0u; c < 4u; c++) {`,
      ...indent([...lines, ...stores.map((st) => `r${int(st.arg)}[c] = ${st.value};`), ...saves.map((sv) => `s${int(sv.index)}[c] = ${sv.value};`)]),
      `}`,
      ...saved.map((k) => `${kept(k)} = s${k};`),
      ...guard(written.map((a) => `b${a}[p${a}] = ${toStorage(argTypes[a]!, `r${a}`, true)};`)),
    ];
  }
  step = [...coords.lines, ...offsets, ...step];
  const T = u32(m.lanes), steps = sizeU32(walk.stepCount);
  const symbolic = typeof walk.stepCount !== 'number';
  const perLane = sizeU32(uniforms.derived('DlaneSteps', Math.ceil(walk.steps / m.lanes), symbolic));
  if (!counted) return [m.lanes === 1 ? `for (var i = 0u; i < ${steps}; i++) {` : `for (var i = lane; i < ${steps}; i += ${T}) {`, ...indent(step), `}`];
  return [
    `for (var n = 0u; n < ${perLane}; n++) {`,
    ...indent([
      m.lanes === 1 ? `let i = n;` : `let i = lane + n * ${T};`,
      // Lanes past the row's end skip its last step.
      ...(!symbolic && walk.steps % m.lanes === 0 ? step : [`if (i < ${steps}) {`, ...indent(step), `}`]),
    ]),
    `}`,
  ];
}

/**
 * `lines` for each component c of a vectorized fold's partial results, in order. Vectorized
 * loops fold each of a step's four elements into its own partial result (acc4[c]), so that
 * four chains of dependent folds run side by side (one chain of NaN-checking maxima bounded
 * softmax's max pass on lavapipe); they combine into one after the loop.
 */
export function componentsInOrder(lines: string[]): string[] {
  return [`for (var c = 0u; c < 4u; c++) {`, ...indent(lines), `}`];
}

/** The launch of a reduce or row kernel; vec4 args must come with offsets that are multiples of 4. */
export function rowDispatch(m: RowMapping, walk: RowWalk, uniforms: Uniforms): WgslKernel['dispatch'] {
  return (offsets, scalars = []) => {
    for (const a of walk.vec) {
      if (offsets[a]! % 4 !== 0) throw new InternalError(`wgsl: vectorized kernel called with offset ${offsets[a]} for arg ${a}`);
    }
    return { workgroups: m.groups === 0 ? [0, 1, 1] : m.workgroups, uniforms: uniforms.pack(offsets, scalars) };
  };
}
