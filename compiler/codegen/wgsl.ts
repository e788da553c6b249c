/**
 * Renders kernel specs as WGSL compute shaders, with the JavaScript renderer's semantics
 * (compiler/codegen/js.ts) in float32. Every token of the generated text comes from the
 * spec's validated integers, its dtype and primitive names (looked up in fixed tables),
 * and the fixed vocabulary below; no user string ever reaches a shader.
 *
 * Binding layout of every kernel, in @group(0):
 *   - binding a (a = 0 .. args-1): arg a's storage buffer, an array of f32 / i32 / u32.
 *     bool is stored one u32 (0 or 1) per element: WGSL storage has no 8-bit type, so
 *     uploads widen a Uint8Array and readbacks narrow it again.
 *   - binding `args`: a uniform array of u32 words: every arg's element offset, then the
 *     scalar arguments converted to the dtype they are used as (the same conversion as
 *     the JS renderer's renderCast from float64). Offsets and scalars stay run-time values
 *     so that slices and constants share one pipeline, as on the CPU.
 *   - binding `args + 1`, only for kernels that gather or scatter: four atomic u32 words
 *     recording the first out-of-range index (kind, index, size), since a shader cannot throw.
 *
 * float64 has no WGSL type: specs that use it are rejected with a DTypeError naming it.
 */
import { DTypeError, InternalError } from '../../runtime/errors.js';
import { jsHelpers } from './js-helpers.js';
import { primitiveRules, refCast } from '../ir/primitives.js';
import type { Expr, KernelSpec, LoopSpec, MapSpec, MatmulSpec, RandomSpec, ReduceSpec, RowPass, RowSpec } from '../kernel.js';
import type { DType } from '../../runtime/dtype.js';
import { validateSeed } from '../random/philox.js';
import { HelperSet, renderWgslCast, wgslPrimitives, wgslType, type ElementwisePrim, type GpuDType, type UseHelper } from './wgsl-prims.js';

/** The device limits the renderer sizes workgroups and dispatches by (a subset of GPUSupportedLimits). */
export interface WgslLimits {
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxComputeWorkgroupStorageSize: number;
}

/** WebGPU's guaranteed minimum limits: kernels rendered for these run on every device. */
export const defaultWgslLimits: WgslLimits = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupStorageSize: 16384,
};

/** Choices that shape a pipeline; all are part of its identity. */
export interface WgslOptions {
  /**
   * Every arg's element offset is a multiple of 4, so contiguous args may be read and
   * written as vec4 (the shader indexes vec4 arrays, so it cannot shift by a run-time
   * remainder). Map, reduce and row kernels; `dispatch` checks it.
   */
  alignedOffsets?: boolean;
  /**
   * The device is a CPU implementation (GPUAdapterInfo.isFallbackAdapter, e.g. lavapipe):
   * reduce and row kernels then spread rows for a CPU (see CPU_ROWS). A fact about the
   * device: WebGpuRunner sets it for every kernel it renders.
   */
  fallbackAdapter?: boolean;
  /**
   * Invocations per workgroup for map and random kernels (rounded down to a power of two;
   * default 256: fewer, larger workgroups cost less to schedule, measured 2x on lavapipe).
   */
  workgroupSize?: number;
}

/** What one binding of a kernel holds. */
export type WgslBinding =
  | { kind: 'storage'; arg: number; dtype: GpuDType; writable: boolean }
  | { kind: 'uniform'; bytes: number }
  | { kind: 'status' };

/** One call's launch: workgroup counts and the uniform words (offsets, then scalars). */
export interface WgslDispatch {
  workgroups: [number, number, number];
  uniforms: Uint32Array;
}

/** A rendered kernel: the shader, how to bind it, and how to launch it for given offsets and scalars. */
export interface WgslKernel {
  code: string;
  /** Invocations per workgroup. */
  workgroupSize: number;
  /** Binding i of @group(0) is `bindings[i]`. */
  bindings: WgslBinding[];
  /** Elements each invocation handles along the last dim (4 when vectorized). */
  vectorWidth: 1 | 4;
  /** The launch for one call: every arg's element offset, then the scalar arguments (random: seed, stream offset). */
  dispatch(offsets: readonly number[], scalars?: readonly number[]): WgslDispatch;
}

/** Renders a kernel spec as a WGSL compute shader sized for `limits`. */
export function renderWgsl(spec: KernelSpec, limits: WgslLimits = defaultWgslLimits, options: WgslOptions = {}): WgslKernel {
  switch (spec.kind) {
    case 'map': return renderMap(spec, limits, options);
    case 'reduce': return renderReduce(spec, limits, options);
    case 'row': return renderRow(spec, limits, options);
    case 'matmul': return renderMatmul(spec, limits, options);
    case 'random': return renderRandom(spec, limits, options);
    case 'loop': return renderLoop(spec);
    // Merged kernels have no single shader: their parts render and dispatch one after another in a batch.
    default: throw new InternalError(`wgsl: no WGSL rendering for ${(spec as { kind: string }).kind} kernels`);
  }
}

/** Throws the error the CPU kernel would have thrown, from a kernel's status words; returns when they record none. */
export function throwStatus(words: Uint32Array): void {
  const kind = words[0]!;
  if (kind === 0) return;
  const index = words[1]! | 0;
  const size = words[2]!;
  if (kind === STATUS_GATHER) jsHelpers.indexError(index, size);
  if (kind === STATUS_SCATTER) jsHelpers.scatterIndexError(index, size);
  if (kind === STATUS_LOOP) jsHelpers.loopCapError(size);
  throw new InternalError(`wgsl: unknown status word ${kind}`);
}

/** Default invocations per workgroup of map and random kernels (see WgslOptions.workgroupSize). */
const DEFAULT_WG = 256;
const STATUS_GATHER = 1;
const STATUS_SCATTER = 2;
/** A loop kernel stopped at its iteration cap (renderLoop below). */
export const STATUS_LOOP = 3;
/** The status binding's size in bytes. */
export const STATUS_BYTES = 16;

// ---------------------------------------------------------------------------------------
// Literals and validation

export function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new InternalError(`wgsl: ${n} is not a safe integer`);
  return String(n);
}

/** A u32 literal; negative strides wrap to their two's complement, so u32 index math still lands right. */
export function u32(n: number): string {
  if (!Number.isSafeInteger(n) || n <= -4294967296 || n >= 4294967296) throw new InternalError(`wgsl: ${n} does not fit in 32 bits`);
  return `${n < 0 ? n + 4294967296 : n}u`;
}

export function gpuDType(dtype: DType, what: string): GpuDType {
  if (dtype === 'float64') {
    throw new DTypeError(`webgpu: float64 is not supported: WGSL has no 64-bit float (got float64 for ${what}); cast to float32 first`);
  }
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'uint8' && dtype !== 'bool') {
    throw new InternalError(`wgsl: unknown dtype ${String(dtype)}`);
  }
  return dtype;
}

function pow2AtMost(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new InternalError(`wgsl: bad dim ${d}`);
    n *= d;
  }
  if (n >= 4294967296) throw new InternalError(`wgsl: ${n} elements do not fit in u32 indices`);
  return n;
}

/** Workgroup counts covering `count` workgroups: x first, y when x runs past the per-dimension limit. */
function grid(count: number, limits: WgslLimits): [number, number, number] {
  if (count === 0) return [0, 1, 1];
  const x = Math.min(count, limits.maxComputeWorkgroupsPerDimension);
  const y = Math.ceil(count / x);
  if (y > limits.maxComputeWorkgroupsPerDimension) {
    throw new InternalError(`wgsl: ${count} workgroups exceed the device's ${limits.maxComputeWorkgroupsPerDimension}^2 grid`);
  }
  return [x, y, 1];
}

/** The linear workgroup (or invocation) number of a possibly 2-D grid whose x extent is `xExtent`. */
function linear(id: string, xExtent: number, yUsed: boolean): string {
  return yUsed ? `(${id}.x + ${id}.y * ${u32(xExtent)})` : `${id}.x`;
}

/** `base + c0 * s0 + ...`, skipping zero strides. */
function affine(base: string, coords: readonly string[], strides: readonly number[]): string {
  let s = base;
  coords.forEach((c, d) => {
    const st = strides[d]!;
    if (st === 0) return;
    s += st === 1 ? ` + ${c}` : ` + ${c} * ${u32(st)}`;
  });
  return s;
}

/** Lines naming the coordinates `${prefix}0..` of linear index `lin` over `shape` (row-major). */
function coordinates(shape: readonly number[], lin: string, prefix: string): { lines: string[]; names: string[] } {
  const names = shape.map((_, d) => `${prefix}${d}`);
  const lines: string[] = [];
  let rest = lin;
  for (let d = shape.length - 1; d > 0; d--) {
    // Over a size-0 shape no invocation gets here, but WGSL rejects `% 0u` outright.
    const size = u32(Math.max(shape[d]!, 1));
    lines.push(`let ${prefix}${d} = ${rest} % ${size};`);
    lines.push(`let ${prefix}r${d} = ${rest} / ${size};`);
    rest = `${prefix}r${d}`;
  }
  if (shape.length > 0) lines.push(`let ${prefix}0 = ${rest};`);
  return { lines, names };
}

// ---------------------------------------------------------------------------------------
// Uniform words: offsets, then scalars

/**
 * The uniform slots of one kernel: arg offsets first, then one slot per (scalar, dtype) used
 * and per recorded constant. Constants travel as uniforms rather than literals because the
 * shader compiler folds arithmetic with known constants (x * 0 → 0, wrong for Inf and NaN).
 */
export class Uniforms {
  private readonly scalarSlots = new Map<string, { slot: number; index: number; dtype: GpuDType; value?: number }>();
  private extra = 0;
  constructor(readonly nOffsets: number) {}

  /** The u32 expression of uniform word `slot`. */
  static word(slot: number): string {
    return `u[${int(slot >> 2)}][${int(slot & 3)}]`;
  }
  offset(arg: number): string {
    return Uniforms.word(arg);
  }
  /** The expression of scalar argument `index` converted to `dtype`. */
  scalar(index: number, dtype: GpuDType): string {
    return this.#slot(`${index}|${dtype}`, { index, dtype });
  }
  /** The expression of a recorded constant, already stored as `dtype` stores it. */
  literal(value: number, dtype: GpuDType): string {
    if (typeof value !== 'number') throw new InternalError(`wgsl: literal ${String(value)} is not a number`);
    return this.#slot(`L${Object.is(value, -0) ? '-0' : value}|${dtype}`, { index: -1, dtype, value });
  }
  #slot(key: string, entry: { index: number; dtype: GpuDType; value?: number }): string {
    let s = this.scalarSlots.get(key);
    if (s === undefined) {
      if (this.extra > 0) throw new InternalError('wgsl: scalar slots must be taken before raw words are reserved');
      s = { slot: this.nOffsets + this.scalarSlots.size, ...entry };
      this.scalarSlots.set(key, s);
    }
    const w = Uniforms.word(s.slot);
    return entry.dtype === 'float32' ? `bitcast<f32>(${w})` : wgslType(entry.dtype) === 'i32' ? `bitcast<i32>(${w})` : w;
  }
  /** Reserves `n` raw words after the scalars (random's key and counter words). */
  reserve(n: number): number {
    const first = this.nOffsets + this.scalarSlots.size + this.extra;
    this.extra += n;
    return first;
  }
  get words(): number {
    return Math.max(4, Math.ceil((this.nOffsets + this.scalarSlots.size + this.extra) / 4) * 4);
  }
  declaration(binding: number): string {
    return `@group(0) @binding(${int(binding)}) var<uniform> u: array<vec4<u32>, ${int(this.words / 4)}>;`;
  }
  /** Packs one call's offsets and scalars (uniform words after them are left for the caller). */
  pack(offsets: readonly number[], scalars: readonly number[]): Uint32Array {
    const words = new Uint32Array(this.words);
    if (offsets.length !== this.nOffsets) throw new InternalError(`wgsl: expected ${this.nOffsets} offsets, got ${offsets.length}`);
    for (let a = 0; a < offsets.length; a++) {
      const o = offsets[a]!;
      if (!Number.isSafeInteger(o) || o < 0 || o >= 4294967296) throw new InternalError(`wgsl: offset ${o} of arg ${a} is not a u32`);
      words[a] = o;
    }
    if (this.scalarSlots.size > 0) {
      const f32 = new Float32Array(words.buffer);
      const i32 = new Int32Array(words.buffer);
      for (const { slot, index, dtype, value } of this.scalarSlots.values()) {
        const x = value ?? scalars[index];
        if (typeof x !== 'number') throw new InternalError(`wgsl: scalar ${index} is missing`);
        const v = refCast(x, dtype);
        if (dtype === 'float32') f32[slot] = v;
        else if (wgslType(dtype) === 'i32') i32[slot] = v;
        else words[slot] = v;
      }
    }
    return words;
  }
}

// ---------------------------------------------------------------------------------------
// The per-element expression DAG

/** How a body reads its args, row values and saved values at the current position. */
export interface BodyAccess {
  /** The value of arg `arg` at the current position. */
  load(arg: number): string;
  /** The u32 element index of arg `arg` at the current position (scalar-typed args only). */
  index(arg: number): string;
  /** The current position along the last dim, as i32 (iota). */
  position: string;
  /** Row value `index` of a row kernel. */
  row?(index: number): string;
  /** The value saved as scratch `index` by an earlier pass of a row kernel, at this position. */
  scratch?(index: number): string;
  /** In a matmul epilogue, the product at this output element. */
  acc?: string;
}

/** Types of the values a body reads besides args: row kernels' row and scratch values, a matmul epilogue's product. */
interface RowTypes {
  rows: (GpuDType | undefined)[];
  scratch: (GpuDType | undefined)[];
  acc?: GpuDType;
}

/** dtype of every node, checking operand dtypes and that every primitive has a WGSL rendering. */
export function nodeTypes(body: readonly Expr[], argTypes: readonly GpuDType[], rowTypes?: RowTypes): GpuDType[] {
  const known = (t: GpuDType | undefined, what: string): GpuDType => {
    if (t === undefined) throw new InternalError(`wgsl: ${what} is read before it is computed`);
    return t;
  };
  return body.map((e, i): GpuDType => {
    switch (e.op) {
      case 'load':
      case 'gatherLoad': return known(argTypes[e.arg], `arg ${e.arg}`);
      case 'scalar': return gpuDType(e.dtype, `scalar ${e.index}`);
      case 'literal': return gpuDType(e.dtype, 'a literal');
      case 'position': return 'int32';
      case 'row': return known(rowTypes?.rows[e.index], `row value ${e.index}`);
      case 'scratch': return known(rowTypes?.scratch[e.index], `scratch ${e.index}`);
      case 'acc': return known(rowTypes?.acc, 'the matmul product');
      case 'cast':
        gpuDType(e.from, `node ${i}`);
        return gpuDType(e.to, `node ${i}`);
      case 'prim': {
        const dt = gpuDType(e.dtype, `node ${i} (${e.prim})`);
        if (!Object.hasOwn(wgslPrimitives, e.prim)) throw new InternalError(`wgsl: ${e.prim} is not elementwise`);
        const rule = primitiveRules[e.prim];
        return 'result' in rule && typeof rule.result === 'string' ? gpuDType(rule.result, `node ${i} (${e.prim})`) : dt;
      }
      default: throw new InternalError(`wgsl: unknown expression ${(e as { op: string }).op}`);
    }
  });
}

/** Statements computing every node of `body` as `${prefix}<i>`. */
export function renderBody(body: readonly Expr[], types: readonly GpuDType[], access: BodyAccess, uniforms: Uniforms, use: UseHelper, prefix = 'v'): string[] {
  const lines: string[] = [];
  const v = (n: number) => `${prefix}${int(n)}`;
  body.forEach((e, i) => {
    let x: string;
    switch (e.op) {
      case 'load': x = access.load(e.arg); break;
      case 'gatherLoad': {
        if (types[e.index] !== 'int32') throw new InternalError(`wgsl: gather index node ${e.index} is not int32`);
        const g = `${prefix}g${i}`, ok = `${prefix}ok${i}`;
        lines.push(`let ${g} = ${v(e.index)};`);
        lines.push(`let ${ok} = ${g} >= 0i && u32(${g}) < ${u32(e.size)};`);
        lines.push(`if (!${ok}) { k_fail(${STATUS_GATHER}u, ${g}, ${u32(e.size)}); }`);
        x = `b${int(e.arg)}[${access.index(e.arg)} + select(0u, u32(${g}) * ${u32(e.stride)}, ${ok})]`;
        break;
      }
      case 'scalar': x = uniforms.scalar(e.index, types[i]!); break;
      case 'literal': x = uniforms.literal(e.value, types[i]!); break;
      case 'position': x = access.position; break;
      case 'row':
        if (access.row === undefined) throw new InternalError('wgsl: row value outside a row kernel');
        x = access.row(e.index);
        break;
      case 'scratch':
        if (access.scratch === undefined) throw new InternalError('wgsl: scratch value outside a row kernel');
        x = access.scratch(e.index);
        break;
      case 'acc':
        if (access.acc === undefined) throw new InternalError('wgsl: matmul product outside a matmul epilogue');
        x = access.acc;
        break;
      case 'prim': x = wgslPrimitives[e.prim as ElementwisePrim](e.args.map(v), gpuDType(e.dtype, `node ${i}`), use); break;
      case 'cast': x = renderWgslCast(v(e.arg), types[e.arg]!, gpuDType(e.to, `node ${i}`), use); break;
      default: throw new InternalError(`wgsl: unknown expression ${(e as { op: string }).op}`);
    }
    lines.push(`let ${v(i)} = ${x};`);
  });
  return lines;
}

// ---------------------------------------------------------------------------------------
// Map

export function statusDecl(binding: number): string[] {
  return [
    `@group(0) @binding(${int(binding)}) var<storage, read_write> st: array<atomic<u32>, 4>;`,
    // Keeps the first failure: later ones see a non-zero kind and leave it.
    `fn k_fail(kind: u32, index: i32, size: u32) {`,
    `  loop {`,
    `    let r = atomicCompareExchangeWeak(&st[0], 0u, kind);`,
    `    if (r.exchanged) {`,
    `      atomicStore(&st[1], bitcast<u32>(index));`,
    `      atomicStore(&st[2], size);`,
    `      break;`,
    `    }`,
    `    if (r.old_value != 0u) {`,
    `      break;`,
    `    }`,
    `  }`,
    `}`,
  ];
}

export function indent(lines: readonly string[], by = '  '): string[] {
  return lines.map((l) => by + l);
}

function renderMap(spec: MapSpec, limits: WgslLimits, options: WgslOptions): WgslKernel {
  const nArgs = spec.dtypes.length;
  const argTypes = spec.dtypes.map((d, a) => gpuDType(d, `arg ${a}`));
  const types = nodeTypes(spec.body, argTypes);
  const shape = spec.shape;
  const total = product(shape);
  const rank = shape.length;
  if (spec.strides.length !== nArgs || spec.strides.some((s) => s.length !== rank)) throw new InternalError('wgsl: map strides do not match its args and shape');

  const stored = new Set(spec.stores.map((s) => s.arg));
  const loaded = new Set<number>();
  for (const e of spec.body) if (e.op === 'load' || e.op === 'gatherLoad') loaded.add(e.arg);
  const atomicArgs = new Set(spec.stores.filter((s) => s.scatter?.accumulate).map((s) => s.arg));
  for (const a of atomicArgs) {
    if (argTypes[a] === 'bool') throw new InternalError('wgsl: accumulating scatter into bool');
    if (loaded.has(a)) throw new InternalError(`wgsl: arg ${a} is both read and scatter-accumulated`);
  }
  const checks = spec.body.some((e) => e.op === 'gatherLoad') || spec.stores.some((s) => s.scatter !== undefined);
  const storageCount = nArgs + (checks ? 1 : 0);
  if (storageCount > limits.maxStorageBuffersPerShaderStage) {
    throw new InternalError(`wgsl: a map kernel needs ${storageCount} storage buffers, the device allows ${limits.maxStorageBuffersPerShaderStage}`);
  }

  // vec4: every arg walks the last dim contiguously (or not at all), outputs contiguously,
  // and every vec4 arg's other strides keep its index a multiple of 4.
  const last = rank - 1;
  const vecArg = (a: number) => spec.strides[a]![last] === 1;
  const vectorize = options.alignedOffsets === true && !checks && rank > 0 && shape[last]! % 4 === 0 && shape[last]! >= 4 &&
    spec.strides.every((s, a) => (s[last] === 1 || (s[last] === 0 && !stored.has(a))) && (s[last] === 0 || s.every((x, d) => d === last || (x >= 0 && x % 4 === 0))));
  const width: 1 | 4 = vectorize ? 4 : 1;

  const wg = pow2AtMost(Math.min(options.workgroupSize ?? DEFAULT_WG, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX));
  const invocations = total / width;
  const workgroups = grid(Math.ceil(invocations / wg), limits);
  const yUsed = workgroups[1] > 1;

  const uniforms = new Uniforms(nArgs);
  const helpers = new HelperSet();
  const iterShape = vectorize ? [...shape.slice(0, last), shape[last]! / 4] : shape;
  const { lines: coordLines, names } = coordinates(iterShape, 'gid', 'c');
  const main: string[] = [`let gid = ${linear('gid3', workgroups[0] * wg, yUsed)};`, `if (gid >= ${u32(invocations)}) {`, `  return;`, `}`, ...coordLines];

  // Each arg's index at this invocation: a vec4 index for vec4 args, an element index otherwise.
  for (let a = 0; a < nArgs; a++) {
    const base = vectorize && vecArg(a) ? `(${uniforms.offset(a)} >> 2u)` : uniforms.offset(a);
    const strides = vectorize && vecArg(a) ? spec.strides[a]!.map((s, d) => (d === last ? 1 : s / 4)) : spec.strides[a]!;
    main.push(`let p${a} = ${affine(base, names, strides)};`);
  }

  const elementType = (a: number) => wgslType(argTypes[a]!);
  const bodyFor = (access: BodyAccess): string[] => {
    const lines = renderBody(spec.body, types, access, uniforms, helpers.use);
    for (const st of spec.stores) {
      const v = `v${int(st.node)}`;
      if (types[st.node] !== argTypes[st.arg]) throw new InternalError(`wgsl: node ${st.node} is ${types[st.node]}, arg ${st.arg} is ${argTypes[st.arg]}`);
      if (st.scatter === undefined) {
        lines.push(vectorize ? `r${st.arg}[j] = ${v};` : `b${int(st.arg)}[${access.index(st.arg)}] = ${v};`);
        continue;
      }
      const { index, stride, size, accumulate } = st.scatter;
      if (types[index] !== 'int32') throw new InternalError(`wgsl: scatter index node ${index} is not int32`);
      const t = `t${int(st.node)}_${int(st.arg)}`;
      lines.push(`let ${t} = v${int(index)};`);
      lines.push(`if (${t} < 0i || u32(${t}) >= ${u32(size)}) {`, `  k_fail(${STATUS_SCATTER}u, ${t}, ${u32(size)});`, `} else {`);
      const target = `${access.index(st.arg)} + u32(${t}) * ${u32(stride)}`;
      if (!accumulate) lines.push(`  b${int(st.arg)}[${target}] = ${v};`);
      else if (argTypes[st.arg] === 'int32') lines.push(`  atomicAdd(&b${int(st.arg)}[${target}], ${v});`);
      else {
        // No float atomics in WGSL, and atomicAdd would not wrap uint8: add by compare-and-swap,
        // retrying on contention.
        const old = `old${t}`;
        const sum = argTypes[st.arg] === 'uint8' ? `(${old} + ${v}) & 255` : `bitcast<u32>(bitcast<f32>(${old}) + ${v})`;
        lines.push(
          `  let q${t} = ${target};`,
          `  var old${t} = atomicLoad(&b${int(st.arg)}[q${t}]);`,
          `  loop {`,
          `    let r${t} = atomicCompareExchangeWeak(&b${int(st.arg)}[q${t}], old${t}, ${sum});`,
          `    if (r${t}.exchanged) {`,
          `      break;`,
          `    }`,
          `    old${t} = r${t}.old_value;`,
          `  }`,
        );
      }
      lines.push(`}`);
    }
    return lines;
  };

  const position = names.length ? names[names.length - 1]! : '0u';
  if (vectorize) {
    for (const a of loaded) if (vecArg(a)) main.push(`let l${a} = b${a}[p${a}];`);
    for (const a of stored) main.push(`var r${a}: vec4<${elementType(a)}>;`);
    main.push(`for (var j = 0u; j < 4u; j++) {`);
    main.push(...indent(bodyFor({
      load: (a) => (vecArg(a) ? `l${a}[j]` : `b${int(a)}[p${a}]`),
      index: (a) => `p${a}`,
      position: `i32(${position} * 4u + j)`,
    })));
    main.push(`}`);
    for (const a of stored) main.push(`b${a}[p${a}] = r${a};`);
  } else {
    main.push(...bodyFor({ load: (a) => `b${int(a)}[p${a}]`, index: (a) => `p${a}`, position: `i32(${position})` }));
  }

  const decls: string[] = [];
  const bindings: WgslBinding[] = [];
  for (let a = 0; a < nArgs; a++) {
    const writable = stored.has(a);
    const t = elementType(a);
    const elem = atomicArgs.has(a) ? `atomic<${wgslType(argTypes[a]!) === 'i32' ? 'i32' : 'u32'}>` : vectorize && vecArg(a) ? `vec4<${t}>` : t;
    decls.push(`@group(0) @binding(${a}) var<storage, ${writable ? 'read_write' : 'read'}> b${a}: array<${elem}>;`);
    bindings.push({ kind: 'storage', arg: a, dtype: argTypes[a]!, writable });
  }
  const code = assemble(decls, uniforms, nArgs, checks, helpers, [], `@compute @workgroup_size(${int(wg)})`,
    `fn main(@builtin(global_invocation_id) gid3: vec3<u32>) {`, main);
  bindings.push({ kind: 'uniform', bytes: uniforms.words * 4 });
  if (checks) bindings.push({ kind: 'status' });
  return {
    code, workgroupSize: wg, bindings, vectorWidth: width,
    dispatch(offsets, scalars = []) {
      if (vectorize) {
        for (let a = 0; a < nArgs; a++) {
          if (vecArg(a) && offsets[a]! % 4 !== 0) throw new InternalError(`wgsl: vectorized kernel called with offset ${offsets[a]} for arg ${a}`);
        }
      }
      return { workgroups, uniforms: uniforms.pack(offsets, scalars) };
    },
  };
}

/** Puts a shader together: bindings, uniform block, status helpers, helper functions, extra module-scope lines, entry point. */
export function assemble(decls: string[], uniforms: Uniforms, nArgs: number, checks: boolean, helpers: HelperSet, extra: string[], attr: string, signature: string, body: string[]): string {
  return [
    ...decls,
    uniforms.declaration(nArgs),
    ...(checks ? statusDecl(nArgs + 1) : []),
    ...helpers.code(),
    ...extra,
    attr,
    signature,
    ...indent(body),
    '}',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------
// Reduce and row kernels
//
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
function fold(op: 'sum' | 'prod' | 'max' | 'min', dtype: GpuDType, outDtype: GpuDType, empty: boolean, use: UseHelper): Fold {
  const accType: GpuDType = op === 'sum' || op === 'prod' ? outDtype : dtype;
  if (accType !== outDtype) throw new InternalError(`wgsl: ${op} of ${dtype} cannot give ${outDtype}`);
  const isF = accType === 'float32', isI = wgslType(accType) === 'i32';
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
function betterFn(op: 'argmax' | 'argmin', dtype: GpuDType, use: UseHelper): string[] {
  const A = wgslType(dtype);
  return [
    // Marks an empty partial result (a lane that saw no element).
    `const NONE = 0xffffffffu;`,
    `fn k_better(v1: ${A}, i1: u32, v2: ${A}, i2: u32) -> bool {`,
    `  if (i2 == NONE) {`, `    return false;`, `  }`,
    `  if (i1 == NONE) {`, `    return true;`, `  }`,
    ...(dtype === 'float32' ? [
      `  let n1 = ${use('k_isnan')}(v1);`, `  let n2 = k_isnan(v2);`,
      `  if (n1 || n2) {`, `    return select(n2, i2 < i1, n1 && n2);`, `  }`,
    ] : []),
    `  return v2 ${op === 'argmax' ? '>' : '<'} v1 || (v2 == v1 && i2 < i1);`,
    `}`,
  ];
}

/** How a reduce or row kernel spreads its rows over invocations. */
interface RowMapping {
  /** Invocations per row, a power of two; with one, an invocation folds its row alone, in the CPU's order. */
  lanes: number;
  /** Rows per workgroup, a power of two. */
  rowsPerGroup: number;
  /** Invocations per workgroup: lanes × rowsPerGroup. */
  wg: number;
  /** Consecutive invocations take consecutive positions of one row (rows contiguous in memory), else the same position of consecutive rows. */
  alongRow: boolean;
  rows: number;
  /** Workgroups: ceil(rows / rowsPerGroup). */
  groups: number;
  workgroups: [number, number, number];
}

function rowProfile(options: WgslOptions): RowProfile {
  return options.fallbackAdapter === true ? CPU_ROWS : GPU_ROWS;
}

function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * Lanes and rows per workgroup for `rows` rows of `inner` elements, walked in `steps` steps
 * per row. `sharedPerLane`: bytes of workgroup memory each lane's partial results take
 * when lanes share them. `keepPerStep`: scratch elements a lane keeps per step; rows get
 * enough lanes for each lane's to fit the profile's keepElements, and where no number of
 * lanes allowed does, `keep` is false and the kernel recomputes scratch values instead.
 */
function rowMapping(rows: number, inner: number, steps: number, alongRow: boolean, sharedPerLane: number, keepPerStep: number, profile: RowProfile, limits: WgslLimits): { mapping: RowMapping; keep: boolean } {
  const maxWg = pow2AtMost(Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX, Math.floor(limits.maxComputeWorkgroupStorageSize / sharedPerLane)));
  // Walking across rows, only adjacent rows make contiguous reads: a workgroup takes several.
  const fewestRows = alongRow ? 1 : Math.min(ACROSS_ROWS, maxWg);
  const mostLanes = maxWg / fewestRows;
  let lanes = Math.min(pow2AtLeast(Math.ceil(profile.parallelism / Math.max(rows, 1))), pow2AtMost(Math.max(1, Math.floor(inner / MIN_PER_LANE))), mostLanes);
  const keepLanes = pow2AtLeast(Math.ceil((steps * keepPerStep) / profile.keepElements));
  const keep = keepPerStep > 0 && steps > 0 && keepLanes <= mostLanes;
  if (keep) lanes = Math.max(lanes, keepLanes);
  const perGroup = Math.min(Math.max(1, fewestRows, Math.min(ROW_WG, maxWg) / lanes), pow2AtLeast(rows));
  const groups = Math.ceil(rows / perGroup);
  return { mapping: { lanes, rowsPerGroup: perGroup, wg: lanes * perGroup, alongRow, rows, groups, workgroups: grid(groups, limits) }, keep };
}

/**
 * Whether consecutive invocations should walk along a row: unless more of `args` step by
 * one element along the last outer dim (a reduction over a leading axis) than along the
 * last inner dim.
 */
function walksAlongRow(outerStrides: readonly (readonly number[])[], innerStrides: readonly (readonly number[])[], args: Iterable<number>): boolean {
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
function rowPrologue(m: RowMapping): string[] {
  const yUsed = m.workgroups[1] > 1;
  const lines = [`let group = ${linear('wid', m.workgroups[0], yUsed)};`];
  // Only a 2-D grid has more workgroups than rows need; the test is uniform, so barriers may follow.
  if (yUsed) lines.push(`if (group >= ${u32(m.groups)}) {`, `  return;`, `}`);
  const T = u32(m.lanes), R = u32(m.rowsPerGroup);
  if (m.lanes > 1) lines.push(`let lane = ${m.alongRow ? `lid % ${T}` : `lid / ${R}`};`);
  lines.push(`let slot = ${m.lanes === 1 ? 'lid' : m.alongRow ? `lid / ${T}` : `lid % ${R}`};`);
  lines.push(`let place = group * ${R} + slot;`);
  if (m.rows % m.rowsPerGroup === 0) lines.push(`let row = place;`);
  else lines.push(`let live = place < ${u32(m.rows)};`, `let row = min(place, ${u32(m.rows - 1)});`);
  return lines;
}

/** `lines` run only by live rows, and with `oneLane` only by each row's first lane. */
function guarded(m: RowMapping, oneLane: boolean, lines: string[]): string[] {
  const conds = [...(oneLane && m.lanes > 1 ? ['lane == 0u'] : []), ...(m.rows % m.rowsPerGroup !== 0 ? ['live'] : [])];
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
function combineLanes(m: RowMapping, p: Partials): string[] {
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

function storageDecls(argTypes: readonly GpuDType[], writable: ReadonlySet<number>, vec: ReadonlySet<number> = new Set()): { decls: string[]; bindings: WgslBinding[] } {
  const decls: string[] = [];
  const bindings: WgslBinding[] = [];
  argTypes.forEach((t, a) => {
    const elem = vec.has(a) ? `vec4<${wgslType(t)}>` : wgslType(t);
    decls.push(`@group(0) @binding(${a}) var<storage, ${writable.has(a) ? 'read_write' : 'read'}> b${a}: array<${elem}>;`);
    bindings.push({ kind: 'storage', arg: a, dtype: t, writable: writable.has(a) });
  });
  return { decls, bindings };
}

const ROW_ENTRY = `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {`;

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
interface RowWalk {
  width: 1 | 4;
  /** Args held as vec4 arrays. */
  vec: ReadonlySet<number>;
  /** The shape one row's steps run over: the inner shape with its last dim divided by the width. */
  shape: number[];
  steps: number;
}

/**
 * Vectorizes when every offset is a multiple of 4 (`aligned`), the last inner dim is a
 * multiple of 4, every arg a loop reads or writes (`walked`) steps along it by one element
 * (keeping its other strides multiples of 4) or not at all (read, then, one element at a
 * time), and no vec4 arg is also read or written at the row's own position (`atRow`).
 */
function rowWalk(layout: RowLayout, walked: ReadonlySet<number>, stored: ReadonlySet<number>, atRow: ReadonlySet<number>, aligned: boolean): RowWalk {
  const inner = product(layout.inner);
  const single: RowWalk = { width: 1, vec: new Set(), shape: [...layout.inner], steps: inner };
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
  return { width: 4, vec, shape: [...layout.inner.slice(0, last), size / 4], steps: inner / 4 };
}

/** Every arg's offset at the current row, `q<a>`: in vec4 units for vec4 args. */
function rowOffsets(layout: RowLayout, walk: RowWalk, uniforms: Uniforms): string[] {
  const outer = coordinates(layout.outer, 'row', 'c');
  return [
    ...outer.lines,
    ...layout.outerStrides.map((s, a) => (walk.vec.has(a)
      ? `let q${a} = ${affine(`(${uniforms.offset(a)} >> 2u)`, outer.names, s.map((x) => x / 4))};`
      : `let q${a} = ${affine(uniforms.offset(a), outer.names, s)};`)),
  ];
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

/** Steps each lane takes through its row. */
function laneSteps(m: RowMapping, walk: RowWalk): number {
  return Math.ceil(walk.steps / m.lanes);
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
function rowLoop(m: RowMapping, walk: RowWalk, layout: RowLayout, argTypes: readonly GpuDType[], scratchTypes: readonly (GpuDType | undefined)[],
  guard: (lines: string[]) => string[], body: (el: RowElement) => RowElementCode): string[] {
  const coords = coordinates(walk.shape, 'i', 'e');
  const last = coords.names[coords.names.length - 1] ?? '0u';
  const lastDim = layout.inner.length - 1;
  const offsets = argTypes.map((_, a) => {
    const strides = layout.innerStrides[a]!.map((s, d) => (walk.vec.has(a) ? (d === lastDim ? 1 : s / 4) : s));
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
      ...guard(stores.map((st) => `b${int(st.arg)}[p${int(st.arg)}] = ${st.value};`)),
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
      ...guard(written.map((a) => `b${a}[p${a}] = r${a};`)),
    ];
  }
  step = [...coords.lines, ...offsets, ...step];
  const T = u32(m.lanes), steps = u32(walk.steps);
  if (!counted) return [m.lanes === 1 ? `for (var i = 0u; i < ${steps}; i++) {` : `for (var i = lane; i < ${steps}; i += ${T}) {`, ...indent(step), `}`];
  return [
    `for (var n = 0u; n < ${u32(laneSteps(m, walk))}; n++) {`,
    ...indent([
      m.lanes === 1 ? `let i = n;` : `let i = lane + n * ${T};`,
      // Lanes past the row's end skip its last step.
      ...(walk.steps % m.lanes === 0 ? step : [`if (i < ${steps}) {`, ...indent(step), `}`]),
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
function componentsInOrder(lines: string[]): string[] {
  return [`for (var c = 0u; c < 4u; c++) {`, ...indent(lines), `}`];
}

/** The launch of a reduce or row kernel; vec4 args must come with offsets that are multiples of 4. */
function rowDispatch(m: RowMapping, walk: RowWalk, uniforms: Uniforms): WgslKernel['dispatch'] {
  return (offsets, scalars = []) => {
    for (const a of walk.vec) {
      if (offsets[a]! % 4 !== 0) throw new InternalError(`wgsl: vectorized kernel called with offset ${offsets[a]} for arg ${a}`);
    }
    return { workgroups: m.rows === 0 ? [0, 1, 1] : m.workgroups, uniforms: uniforms.pack(offsets, scalars) };
  };
}

function renderReduce(spec: ReduceSpec, limits: WgslLimits, options: WgslOptions): WgslKernel {
  const nArgs = spec.dtypes.length;
  const argTypes = spec.dtypes.map((d, a) => gpuDType(d, `arg ${a}`));
  const dtype = gpuDType(spec.dtype, 'the reduced operand');
  const outDtype = gpuDType(spec.outDtype, 'the reduction output');
  if (argTypes[0] !== outDtype) throw new InternalError('wgsl: reduce output arg dtype differs from outDtype');
  const types = nodeTypes(spec.body, argTypes);
  if (types[spec.value] !== dtype) throw new InternalError(`wgsl: reduce value node is ${types[spec.value]}, expected ${dtype}`);
  if (spec.body.some((e) => e.op === 'gatherLoad')) throw new InternalError('wgsl: gather inside a reduction');
  if (nArgs > limits.maxStorageBuffersPerShaderStage) throw new InternalError(`wgsl: a reduce kernel needs ${nArgs} storage buffers, the device allows ${limits.maxStorageBuffersPerShaderStage}`);
  const rows = product(spec.outer);
  const inner = product(spec.inner);

  const helpers = new HelperSet();
  const use = helpers.use;
  const uniforms = new Uniforms(nArgs);
  const op = spec.op;
  const isArg = op === 'argmax' || op === 'argmin';
  const f = isArg ? undefined : fold(op, dtype, outDtype, inner === 0, use);
  const A = wgslType(f?.accType ?? dtype);
  const extra: string[] = isArg ? betterFn(op, dtype, use) : [];
  const inputs = new Set(Array.from({ length: nArgs - 1 }, (_, k) => k + 1));
  const walk = rowWalk(spec, inputs, new Set(), new Set([0]), options.alignedOffsets === true);
  const { mapping: m } = rowMapping(rows, inner, walk.steps, walksAlongRow(spec.outerStrides, spec.innerStrides, inputs), isArg ? 8 : 4, 0, rowProfile(options), limits);

  const better = (acc: string, at: string, v: string, i: string) => [`if (k_better(${acc}, ${at}, ${v}, ${i})) {`, `  ${acc} = ${v};`, `  ${at} = ${i};`, `}`];
  /** Folds the value `v` of element `i` into a partial result (acc, at). */
  const absorb = (acc: string, at: string, v: string, i: string): string[] => (f !== undefined ? [f.step(acc, v)] : better(acc, at, v, i));
  /** Folds partial result (v, i) into partial result (acc, at). */
  const merge = (acc: string, at: string, v: string, i: string): string[] => (f !== undefined ? [`${acc} = ${f.combine(acc, v)};`] : better(acc, at, v, i));
  const init = f?.init ?? '0';
  const reset = [`acc = ${init};`, ...(isArg ? [`at = NONE;`] : [])];
  const split = walk.width === 4;
  const main = [
    ...rowPrologue(m),
    ...rowOffsets(spec, walk, uniforms),
    `var acc: ${A};`,
    ...(isArg ? [`var at: u32;`] : []),
    ...reset,
    ...(split ? [`var acc4 = vec4<${A}>(${init});`, ...(isArg ? [`var at4 = vec4<u32>(NONE);`] : [])] : []),
    ...rowLoop(m, walk, spec, argTypes, [], (lines) => lines, (el) => ({
      lines: [
        ...renderBody(spec.body, types, { load: el.load, index: (a) => `p${a}`, position: el.position }, uniforms, use),
        ...absorb(split ? 'acc4[c]' : 'acc', split ? 'at4[c]' : 'at', `v${int(spec.value)}`, el.index),
      ],
      stores: [],
      saves: [],
    })),
    ...(split ? componentsInOrder(merge('acc', 'at', 'acc4[c]', 'at4[c]')) : []),
  ];
  if (m.lanes > 1) {
    extra.push(`var<workgroup> sa: array<${A}, ${int(m.wg)}>;`);
    if (isArg) extra.push(`var<workgroup> si: array<u32, ${int(m.wg)}>;`);
    main.push(...combineLanes(m, {
      write: [`sa[lid] = acc;`, ...(isArg ? [`si[lid] = at;`] : [])],
      merge: (into, from) => merge(`sa[${into}]`, `si[${into}]`, `sa[${from}]`, `si[${from}]`),
      reset,
      absorb: (from) => merge('acc', 'at', `sa[${from}]`, `si[${from}]`),
    }));
  }
  main.push(...guarded(m, true, [`b0[q0] = ${isArg ? `i32(select(at, 0u, at == NONE))` : 'acc'};`]));

  const { decls, bindings } = storageDecls(argTypes, new Set([0]), walk.vec);
  const code = assemble(decls, uniforms, nArgs, false, helpers, extra, `@compute @workgroup_size(${int(m.wg)})`, ROW_ENTRY, main);
  bindings.push({ kind: 'uniform', bytes: uniforms.words * 4 });
  return { code, workgroupSize: m.wg, bindings, vectorWidth: walk.width, dispatch: rowDispatch(m, walk, uniforms) };
}

/**
 * A row kernel (softmax, layerNorm): each row's lanes run the passes in order, every
 * reduction combined across the lanes (combineLanes) so that all of them hold the row value.
 * Values the CPU keeps in scratch rows stay in each lane's own memory where they fit (a
 * lane reads back only elements it saved itself); otherwise each later pass recomputes
 * them from the saving pass's body, which gives the same bits.
 * Partial results of reductions travel as u32 bits in two arrays used in turn: a pass
 * writes one while slower lanes may still read the other's previous result.
 */
function renderRow(spec: RowSpec, limits: WgslLimits, options: WgslOptions): WgslKernel {
  const nArgs = spec.dtypes.length;
  const argTypes = spec.dtypes.map((d, a) => gpuDType(d, `arg ${a}`));
  if (nArgs > limits.maxStorageBuffersPerShaderStage) throw new InternalError(`wgsl: a row kernel needs ${nArgs} storage buffers, the device allows ${limits.maxStorageBuffersPerShaderStage}`);
  const rows = product(spec.outer);
  const inner = product(spec.inner);
  const helpers = new HelperSet();
  const use = helpers.use;
  const uniforms = new Uniforms(nArgs);

  // Node types pass by pass: row values and scratch take the type of what produced them.
  const rowTypes: RowTypes = { rows: [], scratch: [] };
  const saver: { pass: number; node: number }[] = [];
  const passTypes = spec.passes.map((pass, p) => {
    if (pass.body.some((e) => e.op === 'gatherLoad')) throw new InternalError('wgsl: gather inside a row kernel');
    const types = nodeTypes(pass.body, argTypes, rowTypes);
    if (pass.kind === 'reduce') rowTypes.rows[pass.row] = gpuDType(pass.outDtype, `row ${pass.row}`);
    if (pass.kind === 'scalar') rowTypes.rows[pass.row] = types[pass.value]!;
    if (pass.kind !== 'scalar') {
      for (const sv of pass.saves) {
        if (!Number.isInteger(sv.index) || sv.index < 0 || sv.index >= spec.scratch) throw new InternalError(`wgsl: scratch ${sv.index} is out of range`);
        rowTypes.scratch[sv.index] = types[sv.node]!;
        saver[sv.index] = { pass: p, node: sv.node };
      }
    }
    return types;
  });
  for (let k = 0; k < spec.scratch; k++) if (saver[k] === undefined) throw new InternalError(`wgsl: scratch ${k} is never saved`);
  // Args read or written in loops over the row, and at the row's own position.
  const writable = new Set<number>(), walked = new Set<number>(), stored = new Set<number>(), atRow = new Set<number>();
  for (const pass of spec.passes) {
    const loads = pass.body.flatMap((e) => (e.op === 'load' ? [e.arg] : []));
    if (pass.kind === 'map') {
      for (const st of pass.stores) {
        if (st.scatter !== undefined) throw new InternalError('wgsl: scatter inside a row kernel');
        writable.add(st.arg);
        walked.add(st.arg);
        stored.add(st.arg);
      }
    } else if (pass.store !== undefined) {
      writable.add(pass.store);
      atRow.add(pass.store);
    }
    for (const a of loads) (pass.kind === 'scalar' ? atRow : walked).add(a);
  }
  const folds = spec.passes.map((pass) => (pass.kind === 'reduce' ? fold(pass.op, gpuDType(pass.dtype, 'a row reduction'), gpuDType(pass.outDtype, 'a row reduction'), inner === 0, use) : undefined));
  const reductions = folds.filter((f) => f !== undefined).length;
  const walk = rowWalk(spec, walked, stored, atRow, options.alignedOffsets === true);
  const { mapping: m, keep } = rowMapping(rows, inner, walk.steps, walksAlongRow(spec.outerStrides, spec.innerStrides, walked),
    4 * Math.min(reductions, 2), walk.width * spec.scratch, rowProfile(options), limits);

  const main = [...rowPrologue(m), ...rowOffsets(spec, walk, uniforms)];
  if (keep) {
    rowTypes.scratch.forEach((t, k) => main.push(`var keep${k}: array<${walk.width === 4 ? `vec4<${wgslType(t!)}>` : wgslType(t!)}, ${u32(laneSteps(m, walk))}>;`));
  }
  rowTypes.rows.forEach((t, k) => { if (t !== undefined) main.push(`var w${k}: ${wgslType(t)};`); });
  const rowValue = (k: number) => `w${int(k)}`;

  /** One pass's loop over the row: scratch values, body and saves, then `after`; stores guarded to live rows. */
  const overRow = (p: number, after: string[]): string[] => rowLoop(m, walk, spec, argTypes, rowTypes.scratch, (lines) => guarded(m, false, lines), (el) => {
    const pass = spec.passes[p] as Extract<RowPass, { saves: unknown }>;
    const lines: string[] = [];
    const emitted = new Set<number>();
    const access: BodyAccess = {
      load: el.load,
      index: (a) => `p${a}`,
      position: el.position,
      row: rowValue,
      scratch: (index) => {
        const from = saver[index]!;
        if (keep) return el.scratch(index);
        emit(from.pass);
        return `x${int(from.pass)}_${int(from.node)}`;
      },
    };
    // Recomputing: the saving pass's body, rendered once per element under its own prefix (and its own saved inputs first).
    const emit = (q: number): void => {
      if (emitted.has(q)) return;
      emitted.add(q);
      lines.push(...renderBody(spec.passes[q]!.body, passTypes[q]!, access, uniforms, use, `x${int(q)}_`));
    };
    lines.push(...renderBody(pass.body, passTypes[p]!, access, uniforms, use), ...after);
    return {
      lines,
      stores: pass.kind === 'map' ? pass.stores.map((st) => ({ arg: st.arg, value: `v${int(st.node)}` })) : [],
      saves: keep ? pass.saves.map((sv) => ({ index: sv.index, value: `v${int(sv.node)}` })) : [],
    };
  });
  const storeRow = (arg: number | undefined, k: number) => (arg === undefined ? [] : guarded(m, true, [`b${int(arg)}[q${int(arg)}] = ${rowValue(k)};`]));

  let shared = 0;
  spec.passes.forEach((pass, p) => {
    const block: string[] = [];
    switch (pass.kind) {
      case 'reduce': {
        const f = folds[p]!;
        const A = wgslType(f.accType);
        const split = walk.width === 4;
        block.push(`var acc: ${A} = ${f.init};`);
        if (split) block.push(`var acc4 = vec4<${A}>(${f.init});`);
        block.push(...overRow(p, [f.step(split ? 'acc4[c]' : 'acc', `v${int(pass.value)}`)]));
        if (split) block.push(...componentsInOrder([`acc = ${f.combine('acc', 'acc4[c]')};`]));
        if (m.lanes > 1) {
          const sr = `sr${shared++ % 2}`;
          const bits = (x: string) => `bitcast<u32>(${x})`;
          const value = (slot: string) => `bitcast<${A}>(${sr}[${slot}])`;
          block.push(...combineLanes(m, {
            write: [`${sr}[lid] = ${bits('acc')};`],
            merge: (into, from) => [`${sr}[${into}] = ${bits(f.combine(value(into), value(from)))};`],
            reset: [`acc = ${f.init};`],
            absorb: (from) => [`acc = ${f.combine('acc', value(from))};`],
          }));
        }
        block.push(`${rowValue(pass.row)} = acc;`, ...storeRow(pass.store, pass.row));
        break;
      }
      case 'scalar':
        block.push(...renderBody(pass.body, passTypes[p]!, {
          load: (a) => `b${int(a)}[q${a}]`,
          index: (a) => `q${a}`,
          position: '0i',
          row: rowValue,
        }, uniforms, use));
        block.push(`${rowValue(pass.row)} = v${int(pass.value)};`, ...storeRow(pass.store, pass.row));
        break;
      case 'map':
        block.push(...overRow(p, []));
        break;
    }
    main.push('{', ...indent(block), '}');
  });

  const extra = [
    ...Array.from({ length: Math.min(shared, 2) }, (_, k) => `var<workgroup> sr${k}: array<u32, ${int(m.wg)}>;`),
  ];
  const { decls, bindings } = storageDecls(argTypes, writable, walk.vec);
  const code = assemble(decls, uniforms, nArgs, false, helpers, extra, `@compute @workgroup_size(${int(m.wg)})`, ROW_ENTRY, main);
  bindings.push({ kind: 'uniform', bytes: uniforms.words * 4 });
  return { code, workgroupSize: m.wg, bindings, vectorWidth: walk.width, dispatch: rowDispatch(m, walk, uniforms) };
}

// ---------------------------------------------------------------------------------------
// Matmul
//
// Each invocation keeps an RM x RN block of C in registers: per step along k it loads RM
// values of A and RN of B and does RM·RN multiply-adds, instead of 2 loads per product.
// Invocation (x, y) of a WX x WY workgroup owns rows y + i·WY and columns x + j·WX of the
// workgroup's (WY·RM) x (WX·RN) block, so neighbouring invocations touch neighbouring
// columns (coalesced on a GPU, adjacent SIMD lanes on a CPU).
//
// On a GPU the block's panels of A and B are staged in workgroup memory, KT steps of k at
// a time, between two barriers. A CPU implementation (lavapipe) runs a workgroup's
// invocations as SIMD lanes of one thread and pays for every barrier with a switch of all
// of them, while its caches already do what workgroup memory would: there each invocation
// reads A and B straight from storage, with no barrier at all.

/** How a matmul kernel splits C among invocations (see above). */
interface MatmulLayout {
  wx: number;
  wy: number;
  rm: number;
  rn: number;
  /** Stage panels of A and B in workgroup memory. */
  staged: boolean;
}

/**
 * The largest register blocks (rm x rn). A GPU keeps 4 x 4 per invocation in its registers.
 * lavapipe's time goes to per-lane loads (gathers), which a larger block amortizes over more
 * multiply-adds: 1024³ took 147 ms with 4 x 4 blocks, 86 ms with 8 x 8, 67 ms with 8 x 16.
 */
const GPU_MATMUL: MatmulLayout = { wx: 16, wy: 16, rm: 4, rn: 4, staged: true };
const CPU_MATMUL: MatmulLayout = { wx: 8, wy: 4, rm: 8, rn: 16, staged: false };
/** Steps of k per staged panel. */
const KT = 16;

function renderMatmul(spec: MatmulSpec, limits: WgslLimits, options: WgslOptions): WgslKernel {
  const dtype = gpuDType(spec.dtype, 'matmul');
  const L = matmulLayout(spec, options);
  const wg = L.wx * L.wy;
  const sharedBytes = L.staged ? 4 * KT * (L.wy * L.rm + L.wx * L.rn) : 0;
  if (wg > limits.maxComputeInvocationsPerWorkgroup || L.wx > limits.maxComputeWorkgroupSizeX || sharedBytes > limits.maxComputeWorkgroupStorageSize) {
    throw new InternalError(`wgsl: device cannot run ${L.wx}x${L.wy} matmul workgroups`);
  }
  const extras = spec.extras ?? [];
  const epilogue = spec.epilogue ?? null;
  const nArgs = 3 + extras.length;
  if (nArgs > limits.maxStorageBuffersPerShaderStage) throw new InternalError(`wgsl: a matmul kernel needs ${nArgs} storage buffers, the device allows ${limits.maxStorageBuffersPerShaderStage}`);
  // With an epilogue, C holds the epilogue's value (a fused bias, activation or residual).
  const outDtype = epilogue === null ? dtype : gpuDType(epilogue.dtype, 'the matmul epilogue');
  const argTypes: GpuDType[] = [outDtype, dtype, dtype, ...extras.map((x, e) => gpuDType(x.dtype, `matmul operand ${3 + e}`))];
  const { m, n } = spec;
  // At least one tile each way, so that an empty C still renders (its dispatch is empty).
  const tilesM = Math.max(1, Math.ceil(m / (L.wy * L.rm)));
  const tilesN = Math.max(1, Math.ceil(n / (L.wx * L.rn)));
  const tiles = product([product(spec.batch) * tilesM * tilesN]);
  const workgroups = grid(tiles, limits);
  const uniforms = new Uniforms(nArgs);
  const helpers = new HelperSet();
  const batchCoords = coordinates(spec.batch, 'bi', 'z');
  const main = [
    `let tile = ${linear('wid', workgroups[0], workgroups[1] > 1)};`,
    `if (tile >= ${u32(tiles)}) {`, `  return;`, `}`,
    `let tn = tile % ${u32(tilesN)};`,
    `let tr = tile / ${u32(tilesN)};`,
    `let tm = tr % ${u32(tilesM)};`,
    `let bi = tr / ${u32(tilesM)};`,
    ...batchCoords.lines,
    `let pc = ${affine(uniforms.offset(0), batchCoords.names, spec.batchStrides[0])};`,
    `let pa = ${affine(uniforms.offset(1), batchCoords.names, spec.batchStrides[1])};`,
    `let pb = ${affine(uniforms.offset(2), batchCoords.names, spec.batchStrides[2])};`,
    ...extras.map((x, e) => `let pe${3 + e} = ${affine(uniforms.offset(3 + e), batchCoords.names, x.batchStrides)};`),
    `let r0 = tm * ${u32(L.wy * L.rm)} + lid.y;`,
    `let c0 = tn * ${u32(L.wx * L.rn)} + lid.x;`,
    ...blockIndices(L).map(([i, j]) => `var acc${i}_${j}: ${wgslType(dtype)} = ${zeroOf(dtype)};`),
    ...(L.staged ? stagedProduct(spec, dtype, L) : directProduct(spec, dtype, L)),
    ...matmulStores(spec, L, argTypes, uniforms, helpers),
  ];
  const { decls, bindings } = storageDecls(argTypes, new Set([0]));
  const T = wgslType(dtype);
  const shared = L.staged ? [`var<workgroup> ta: array<array<${T}, ${KT}>, ${L.wy * L.rm}>;`, `var<workgroup> tb: array<array<${T}, ${L.wx * L.rn}>, ${KT}>;`] : [];
  const code = assemble(decls, uniforms, nArgs, false, helpers, shared, `@compute @workgroup_size(${int(L.wx)}, ${int(L.wy)})`,
    `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {`, main);
  bindings.push({ kind: 'uniform', bytes: uniforms.words * 4 });
  return {
    code, workgroupSize: wg, vectorWidth: 1, bindings,
    dispatch: (offsets, scalars = []) => ({ workgroups: m * n === 0 ? [0, 1, 1] : workgroups, uniforms: uniforms.pack(offsets, scalars) }),
  };
}

/**
 * The device's layout, with register blocks shrunk (to powers of two, so staged panels still
 * divide evenly among invocations) where C is too small to fill them: a 10-column C would
 * otherwise compute 128 columns per row.
 */
function matmulLayout(spec: MatmulSpec, options: WgslOptions): MatmulLayout {
  const L = options.fallbackAdapter === true ? CPU_MATMUL : GPU_MATMUL;
  const fit = (size: number, lanes: number, most: number) => Math.min(most, pow2AtLeast(Math.ceil(Math.max(1, size) / lanes)));
  return { ...L, rm: fit(spec.m, L.wy, L.rm), rn: fit(spec.n, L.wx, L.rn) };
}

function zeroOf(dtype: GpuDType): string {
  return dtype === 'float32' ? '0.0' : wgslType(dtype) === 'i32' ? '0i' : '0u';
}

/** Every (i, j) of an invocation's register block, row by row. */
function blockIndices(L: MatmulLayout): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < L.rm; i++) for (let j = 0; j < L.rn; j++) out.push([i, j]);
  return out;
}

/** The multiply-adds of one step of k, from `a${i}` and `w${j}`. */
function blockUpdate(dtype: GpuDType, L: MatmulLayout): string[] {
  // bool: C = OR over k of (A AND B), what casting the sum of products to bool gives.
  return blockIndices(L).map(([i, j]) => dtype === 'bool' ? `acc${i}_${j} = acc${i}_${j} | (a${i} & w${j});` : `acc${i}_${j} = acc${i}_${j} + a${i} * w${j};`);
}

/**
 * The product read straight from storage. Rows and columns past the edge of C are clamped
 * to its last row and column, so every load is in range without a branch in the loop;
 * their sums are computed and never stored. (An empty C renders m - 1 or n - 1 as a
 * wrapped u32, but is never dispatched.)
 */
function directProduct(spec: MatmulSpec, dtype: GpuDType, L: MatmulLayout): string[] {
  const { m, n, k } = spec;
  const [sam, sak] = spec.aStrides;
  const [sbk, sbn] = spec.bStrides;
  const lines: string[] = [];
  for (let i = 0; i < L.rm; i++) lines.push(`let ra${i} = ${affine('pa', [`min(r0 + ${u32(i * L.wy)}, ${u32(m - 1)})`], [sam])};`);
  for (let j = 0; j < L.rn; j++) lines.push(`let cb${j} = ${affine('pb', [`min(c0 + ${u32(j * L.wx)}, ${u32(n - 1)})`], [sbn])};`);
  return [
    ...lines,
    `for (var kk = 0u; kk < ${u32(k)}; kk++) {`,
    ...range(L.rm).map((i) => `  let a${i} = b1[${affine(`ra${i}`, ['kk'], [sak])}];`),
    ...range(L.rn).map((j) => `  let w${j} = b2[${affine(`cb${j}`, ['kk'], [sbk])}];`),
    ...indent(blockUpdate(dtype, L)),
    `}`,
  ];
}

/** The product from panels of A and B staged in workgroup memory, KT steps of k at a time. */
function stagedProduct(spec: MatmulSpec, dtype: GpuDType, L: MatmulLayout): string[] {
  const { m, n, k } = spec;
  const [sam, sak] = spec.aStrides;
  const [sbk, sbn] = spec.bStrides;
  const wg = L.wx * L.wy;
  const bm = L.wy * L.rm;
  const bn = L.wx * L.rn;
  const zero = zeroOf(dtype);
  // Each invocation stages (bm·KT)/wg elements of A's panel and (KT·bn)/wg of B's; past the
  // edges of A and B it stages zeros (the clamped load beside them stays in range).
  const stageA = range((bm * KT) / wg).flatMap((t) => [
    `  {`,
    `    let e = li + ${u32(t * wg)};`,
    `    let r = tm * ${u32(bm)} + e / ${u32(KT)};`,
    `    let kk = k0 + e % ${u32(KT)};`,
    `    ta[e / ${u32(KT)}][e % ${u32(KT)}] = select(${zero}, b1[${affine('pa', [`min(r, ${u32(m - 1)})`, `min(kk, ${u32(k - 1)})`], [sam, sak])}], r < ${u32(m)} && kk < ${u32(k)});`,
    `  }`,
  ]);
  const stageB = range((KT * bn) / wg).flatMap((t) => [
    `  {`,
    `    let e = li + ${u32(t * wg)};`,
    `    let kk = k0 + e / ${u32(bn)};`,
    `    let c = tn * ${u32(bn)} + e % ${u32(bn)};`,
    `    tb[e / ${u32(bn)}][e % ${u32(bn)}] = select(${zero}, b2[${affine('pb', [`min(kk, ${u32(k - 1)})`, `min(c, ${u32(n - 1)})`], [sbk, sbn])}], kk < ${u32(k)} && c < ${u32(n)});`,
    `  }`,
  ]);
  return [
    `for (var k0 = 0u; k0 < ${u32(k)}; k0 += ${u32(KT)}) {`,
    ...stageA,
    ...stageB,
    `  workgroupBarrier();`,
    `  for (var kk = 0u; kk < ${u32(KT)}; kk++) {`,
    ...range(L.rm).map((i) => `    let a${i} = ta[lid.y + ${u32(i * L.wy)}][kk];`),
    ...range(L.rn).map((j) => `    let w${j} = tb[kk][lid.x + ${u32(j * L.wx)}];`),
    ...indent(blockUpdate(dtype, L), '    '),
    `  }`,
    `  workgroupBarrier();`,
    `}`,
  ];
}

/** Stores every in-range element of the register block: the product, or the epilogue computed from it and the extras there. */
function matmulStores(spec: MatmulSpec, L: MatmulLayout, argTypes: readonly GpuDType[], uniforms: Uniforms, helpers: HelperSet): string[] {
  const { m, n } = spec;
  const extras = spec.extras ?? [];
  const epilogue = spec.epilogue ?? null;
  let store = [`b0[pc + row * ${u32(n)} + col] = acc;`];
  if (epilogue !== null) {
    const types = nodeTypes(epilogue.body, argTypes, { rows: [], scratch: [], acc: argTypes[1]! });
    if (types[epilogue.value] !== argTypes[0]) throw new InternalError(`wgsl: matmul epilogue value is ${types[epilogue.value]}, expected ${argTypes[0]}`);
    const at = (a: number) => {
      const x = extras[a - 3];
      if (x === undefined) throw new InternalError(`wgsl: matmul epilogue reads arg ${a}, which is not an extra operand`);
      return affine(`pe${a}`, ['row', 'col'], x.strides);
    };
    const body = renderBody(epilogue.body, types, { load: (a) => `b${int(a)}[${at(a)}]`, index: at, position: '0i', acc: 'acc' }, uniforms, helpers.use);
    store = [...body, `b0[pc + row * ${u32(n)} + col] = v${int(epilogue.value)};`];
  }
  // One copy of the store in a loop over the block: unrolled, lavapipe took 10 s to compile
  // a 128-element block with a bias-relu-residual epilogue (0.2 s as a loop). The loop indexes
  // a private array, so the accumulators move there once, after the product.
  const count = L.rm * L.rn;
  return [
    `var block: array<${wgslType(argTypes[1]!)}, ${int(count)}>;`,
    ...blockIndices(L).map(([i, j]) => `block[${int(i * L.rn + j)}] = acc${i}_${j};`),
    `for (var e = 0u; e < ${u32(count)}; e++) {`,
    `  let row = r0 + (e / ${u32(L.rn)}) * ${u32(L.wy)};`,
    `  let col = c0 + (e % ${u32(L.rn)}) * ${u32(L.wx)};`,
    `  if (row < ${u32(m)} && col < ${u32(n)}) {`,
    `    let acc = block[e];`,
    ...indent(store, '    '),
    `  }`,
    `}`,
  ];
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

// ---------------------------------------------------------------------------------------
// Random

/**
 * Philox4x32-10 line for line as compiler/random/philox.ts specifies: mulhi from 16-bit
 * halves (the k_mulhi helper), wrapping u32 products for the low words.
 */
const PHILOX = [
  `fn k_philox(c: vec4<u32>, key: vec2<u32>) -> vec4<u32> {`,
  `  var x = c;`,
  `  var k = key;`,
  `  for (var r = 0u; r < 10u; r++) {`,
  `    let hi0 = k_mulhi(0xd2511f53u, x.x);`,
  `    let lo0 = 0xd2511f53u * x.x;`,
  `    let hi1 = k_mulhi(0xcd9e8d57u, x.z);`,
  `    let lo1 = 0xcd9e8d57u * x.z;`,
  `    x = vec4<u32>(hi1 ^ x.y ^ k.x, lo1, hi0 ^ x.w ^ k.y, lo0);`,
  `    k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);`,
  `  }`,
  `  return x;`,
  `}`,
];

function renderRandom(spec: RandomSpec, limits: WgslLimits, options: WgslOptions): WgslKernel {
  const size = product([spec.size]);
  if (size > 4294967296 - 16) throw new InternalError('wgsl: random size too large');
  // One invocation per Philox block: the run of `size` elements starting at a stream offset
  // with phase offset % 4 touches at most ceil((size + 3) / 4) blocks.
  const blocks = Math.ceil((size + 3) / 4);
  const wg = pow2AtMost(Math.min(options.workgroupSize ?? DEFAULT_WG, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX));
  const workgroups = grid(Math.ceil(blocks / wg), limits);
  const yUsed = workgroups[1] > 1;
  const uniforms = new Uniforms(1);
  const key = uniforms.reserve(4);
  const w = (i: number) => Uniforms.word(key + i);
  const main = [
    `let j = ${linear('gid3', workgroups[0] * wg, yUsed)};`,
    `if (j >= ${u32(blocks)}) {`, `  return;`, `}`,
    `let off_lo = ${w(2)};`,
    `let off_hi = ${w(3)};`,
    `let phase = off_lo & 3u;`,
    // The first block (offset >> 2) as two words, plus j with a carry, as the CPU stream does.
    `let f0 = (off_lo >> 2u) | (off_hi << 30u);`,
    `let c0 = f0 + j;`,
    `let c1 = (off_hi >> 2u) + select(0u, 1u, c0 < f0);`,
    `let x = k_philox(vec4<u32>(c0, c1, 0u, 0u), vec2<u32>(${w(0)}, ${w(1)}));`,
    `let o0 = ${uniforms.offset(0)};`,
    `for (var t = 0u; t < 4u; t++) {`,
    `  let e = j * 4u + t;`,
    `  if (e >= phase && e - phase < ${u32(size)}) {`,
    // 24 high bits times 2^-24: exact in f32, in [0, 1).
    `    b0[o0 + e - phase] = f32(x[t] >> 8u) * 5.9604644775390625e-8;`,
    `  }`,
    `}`,
  ];
  const decls = [`@group(0) @binding(0) var<storage, read_write> b0: array<f32>;`];
  const helpers = new HelperSet();
  helpers.use('k_mulhi');
  const code = assemble(decls, uniforms, 1, false, helpers, PHILOX, `@compute @workgroup_size(${int(wg)})`,
    `fn main(@builtin(global_invocation_id) gid3: vec3<u32>) {`, main);
  return {
    code, workgroupSize: wg, vectorWidth: 1,
    bindings: [{ kind: 'storage', arg: 0, dtype: 'float32', writable: true }, { kind: 'uniform', bytes: uniforms.words * 4 }],
    dispatch(offsets, scalars = []) {
      const [seed, offset] = scalars;
      validateSeed(seed, 'random');
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || offset + size > Number.MAX_SAFE_INTEGER) {
        throw new RangeError(`random: offset must be a non-negative safe integer with offset + size <= 2^53 - 1 (got ${String(offset)})`);
      }
      const words = uniforms.pack(offsets, []);
      words[key] = seed >>> 0;
      words[key + 1] = Math.floor(seed / 4294967296);
      words[key + 2] = offset >>> 0;
      words[key + 3] = Math.floor(offset / 4294967296);
      return { workgroups: size === 0 ? [0, 1, 1] : workgroups, uniforms: words };
    },
  };
}

// ---------------------------------------------------------------------------------------
// Loop kernels
//
// Renders a loop kernel (LoopSpec, see compiler/loop-kernel.ts) as WGSL: one invocation
// keeps the loop variables in registers and runs condition and body until the condition is
// false, then stores the variables and the iteration count. A loop that reaches the spec's
// iteration cap stops and reports it through the status buffer, which the next readback
// turns into an error naming the cap: a runaway loop must not hang the device.

/** The truth of a condition value as a WGSL bool: nonzero and not NaN, as a `while` reads a tensor. */
function truth(v: string, dtype: GpuDType, use: UseHelper): string {
  switch (dtype) {
    case 'float32': return `(${v} != 0.0 && !${use('k_isnan')}(${v}))`;
    case 'int32': case 'uint8': return `(${v} != 0i)`;
    case 'bool': return `(${v} != 0u)`;
  }
}

/** The WGSL of a loop kernel: one workgroup of one invocation. */
export function renderLoop(spec: LoopSpec): WgslKernel {
  const { carried, invariants } = spec;
  const nArgs = spec.dtypes.length;
  if (nArgs !== 2 * carried + 1 + invariants) {
    throw new InternalError('wgsl: a loop kernel\'s args do not match its variables');
  }
  const argTypes = spec.dtypes.map((d, a) => gpuDType(d, `arg ${a}`));
  if (argTypes[carried] !== 'int32') throw new InternalError('wgsl: a loop kernel counts its iterations in int32');
  const varTypes = argTypes.slice(carried + 1, 2 * carried + 1);
  const readTypes = [...varTypes, ...argTypes.slice(2 * carried + 1)];
  const condTypes = nodeTypes(spec.cond, readTypes);
  const bodyTypes = nodeTypes(spec.body, [...readTypes, ...spec.exports.map((x) => condTypes[x]!)]);
  spec.results.forEach((x, j) => {
    if (bodyTypes[x] !== varTypes[j]) {
      throw new InternalError(`wgsl: loop variable ${j} is ${varTypes[j]}, its next value ${bodyTypes[x]}`);
    }
  });

  const uniforms = new Uniforms(nArgs);
  const helpers = new HelperSet();
  const at = (a: number) => `b${int(a)}[${uniforms.offset(a)}]`;
  // Loop variables, then invariants (read from their buffers where the loop uses them).
  const read = (j: number) => (j < carried ? `s${int(j)}` : at(j + carried + 1));
  const condAccess: BodyAccess = { load: read, index: (j) => uniforms.offset(j + carried + 1), position: '0i' };
  const bodyAccess: BodyAccess = {
    load: (j) => (j < carried + invariants ? read(j) : `c${int(spec.exports[j - carried - invariants]!)}`),
    index: (j) => uniforms.offset(j + carried + 1),
    position: '0i',
  };
  const cond = renderBody(spec.cond, condTypes, condAccess, uniforms, helpers.use, 'c');
  const body = renderBody(spec.body, bodyTypes, bodyAccess, uniforms, helpers.use, 'v');
  const go = truth(`c${int(spec.condValue)}`, condTypes[spec.condValue]!, helpers.use);
  const cap = u32(spec.maxIterations);

  const main: string[] = [];
  for (let j = 0; j < carried; j++) main.push(`var s${j}: ${wgslType(varTypes[j]!)} = ${at(carried + 1 + j)};`);
  main.push('var n = 0u;', 'loop {');
  const stop = [
    ...spec.exits.map((x, j) => `${at(j)} = c${int(x)};`),
    `${at(carried)} = bitcast<i32>(n);`,
    'break;',
  ];
  main.push(...indent([
    ...cond,
    `let go = ${go};`,
    `if (!go || n >= ${cap}) {`,
    `  if (go) {`,
    `    k_fail(${int(STATUS_LOOP)}u, bitcast<i32>(n), ${cap});`,
    '  }',
    ...indent(stop),
    '}',
    ...body,
    ...spec.results.map((x, j) => `s${j} = v${int(x)};`),
    'n = n + 1u;',
  ]));
  main.push('}');

  const decls: string[] = [];
  const bindings: WgslBinding[] = [];
  for (let a = 0; a < nArgs; a++) {
    const writable = a <= carried;
    const access = writable ? 'read_write' : 'read';
    decls.push(`@group(0) @binding(${a}) var<storage, ${access}> b${a}: array<${wgslType(argTypes[a]!)}>;`);
    bindings.push({ kind: 'storage', arg: a, dtype: argTypes[a]!, writable });
  }
  const code = assemble(decls, uniforms, nArgs, true, helpers, [], '@compute @workgroup_size(1)', 'fn main() {', main);
  bindings.push({ kind: 'uniform', bytes: uniforms.words * 4 }, { kind: 'status' });
  return {
    code, workgroupSize: 1, bindings, vectorWidth: 1,
    dispatch: (offsets, scalars = []) => ({ workgroups: [1, 1, 1], uniforms: uniforms.pack(offsets, scalars) }),
  };
}
