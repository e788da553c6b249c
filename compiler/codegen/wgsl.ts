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
import type { Expr, KernelSpec, MapSpec, MatmulSpec, RandomSpec, ReduceSpec, RowSpec } from '../kernel.js';
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

/** Choices the caller makes per call site; both are part of the pipeline's identity. */
export interface WgslOptions {
  /**
   * Every arg's element offset is a multiple of 4, so contiguous args may be read and
   * written as vec4 (the shader indexes vec4 arrays, so it cannot shift by a run-time
   * remainder). Map kernels only; `dispatch` checks it.
   */
  alignedOffsets?: boolean;
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
    case 'reduce': return renderReduce(spec, limits);
    case 'row': return renderRow(spec, limits);
    case 'matmul': return renderMatmul(spec, limits);
    case 'random': return renderRandom(spec, limits, options);
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
  throw new InternalError(`wgsl: unknown status word ${kind}`);
}

/** Default invocations per workgroup of map and random kernels (see WgslOptions.workgroupSize). */
const DEFAULT_WG = 256;
const STATUS_GATHER = 1;
const STATUS_SCATTER = 2;
/** The status binding's size in bytes. */
export const STATUS_BYTES = 16;

// ---------------------------------------------------------------------------------------
// Literals and validation

function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new InternalError(`wgsl: ${n} is not a safe integer`);
  return String(n);
}

/** A u32 literal; negative strides wrap to their two's complement, so u32 index math still lands right. */
function u32(n: number): string {
  if (!Number.isSafeInteger(n) || n <= -4294967296 || n >= 4294967296) throw new InternalError(`wgsl: ${n} does not fit in 32 bits`);
  return `${n < 0 ? n + 4294967296 : n}u`;
}

function gpuDType(dtype: DType, what: string): GpuDType {
  if (dtype === 'float64') {
    throw new DTypeError(`webgpu: float64 is not supported: WGSL has no 64-bit float (got float64 for ${what}); cast to float32 first`);
  }
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') throw new InternalError(`wgsl: unknown dtype ${String(dtype)}`);
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
    lines.push(`let ${prefix}${d} = ${rest} % ${u32(shape[d]!)};`);
    lines.push(`let ${prefix}r${d} = ${rest} / ${u32(shape[d]!)};`);
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
class Uniforms {
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
    return entry.dtype === 'float32' ? `bitcast<f32>(${w})` : entry.dtype === 'int32' ? `bitcast<i32>(${w})` : w;
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
        else if (dtype === 'int32') i32[slot] = v;
        else words[slot] = v;
      }
    }
    return words;
  }
}

// ---------------------------------------------------------------------------------------
// The per-element expression DAG

/** How a body reads its args, row values and saved values at the current position. */
interface BodyAccess {
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
function nodeTypes(body: readonly Expr[], argTypes: readonly GpuDType[], rowTypes?: RowTypes): GpuDType[] {
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
function renderBody(body: readonly Expr[], types: readonly GpuDType[], access: BodyAccess, uniforms: Uniforms, use: UseHelper, prefix = 'v'): string[] {
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

function statusDecl(binding: number): string[] {
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

function indent(lines: readonly string[], by = '  '): string[] {
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
        // No float atomics in WGSL: add by compare-and-swap on the bits, retrying on contention.
        lines.push(
          `  let q${t} = ${target};`,
          `  var old${t} = atomicLoad(&b${int(st.arg)}[q${t}]);`,
          `  loop {`,
          `    let r${t} = atomicCompareExchangeWeak(&b${int(st.arg)}[q${t}], old${t}, bitcast<u32>(bitcast<f32>(old${t}) + ${v}));`,
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
    const elem = atomicArgs.has(a) ? `atomic<${argTypes[a] === 'int32' ? 'i32' : 'u32'}>` : vectorize && vecArg(a) ? `vec4<${t}>` : t;
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
function assemble(decls: string[], uniforms: Uniforms, nArgs: number, checks: boolean, helpers: HelperSet, extra: string[], attr: string, signature: string, body: string[]): string {
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

/** Inner sizes up to this run one row per invocation, in the CPU's order; longer rows get a workgroup each. */
const SERIAL_INNER = 16;
/** Workgroup size cap for row reductions. */
const REDUCE_WG = 256;

/** A fold: accumulator type, start value, how a value enters it and how partial results combine. */
interface Fold {
  accType: GpuDType;
  init: string;
  step(acc: string, v: string): string;
  combine(a: string, b: string): string;
}

/** The fold of sum, prod, max or min over values of `dtype`, giving `outDtype` (the JS renderer's reduceParts). */
function fold(op: 'sum' | 'prod' | 'max' | 'min', dtype: GpuDType, outDtype: GpuDType, use: UseHelper): Fold {
  const accType: GpuDType = op === 'sum' || op === 'prod' ? outDtype : dtype;
  if (accType !== outDtype) throw new InternalError(`wgsl: ${op} of ${dtype} cannot give ${outDtype}`);
  const isF = accType === 'float32', isI = accType === 'int32';
  const c = (f: string, i: string, b: string) => (isF ? f : isI ? i : b);
  let init: string, combine: (a: string, b: string) => string;
  switch (op) {
    case 'sum': init = c('0.0', '0i', '0u'); combine = (a, b) => `${a} + ${b}`; break;
    case 'prod': init = c('1.0', '1i', '1u'); combine = (a, b) => `${a} * ${b}`; break;
    // NaN wins and stays, like the CPU's `v > acc || v !== v`.
    case 'max': init = c(`-${use('k_inf')}()`, 'i32(-2147483648)', '0u'); combine = (a, b) => (isF ? `${use('k_max_f32')}(${a}, ${b})` : `max(${a}, ${b})`); break;
    case 'min': init = c(`${use('k_inf')}()`, '2147483647i', '1u'); combine = (a, b) => (isF ? `${use('k_min_f32')}(${a}, ${b})` : `min(${a}, ${b})`); break;
  }
  return { accType, init, combine, step: (acc, v) => `${acc} = ${combine(acc, renderWgslCast(v, dtype, accType, use))};` };
}

/** argmax / argmin: does (v2, i2) beat (v1, i1)? The first NaN wins, then the larger (smaller) value, then the smaller index. */
function betterFn(op: 'argmax' | 'argmin', dtype: GpuDType, use: UseHelper): string[] {
  const A = wgslType(dtype);
  return [
    // Marks an empty partial result (an invocation that saw no element).
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

/** Workgroup size for one-workgroup-per-row kernels: the row's length rounded down to a power of two, capped. */
function rowWorkgroup(inner: number, bytesPerSlot: number, limits: WgslLimits): number {
  return pow2AtMost(Math.min(REDUCE_WG, inner, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX,
    Math.floor(limits.maxComputeWorkgroupStorageSize / bytesPerSlot)));
}

function serialWorkgroup(limits: WgslLimits): number {
  return pow2AtMost(Math.min(64, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX));
}

/** The tree over shared array `sa`: every step halves the live partial results; all invocations take part. */
function tree(wg: number, combineInto: string[]): string[] {
  return [
    `workgroupBarrier();`,
    `for (var s = ${wg >> 1}u; s > 0u; s = s >> 1u) {`,
    `  if (lid < s) {`,
    ...indent(combineInto, '    '),
    `  }`,
    `  workgroupBarrier();`,
    `}`,
  ];
}

function storageDecls(argTypes: readonly GpuDType[], writable: ReadonlySet<number>): { decls: string[]; bindings: WgslBinding[] } {
  const decls: string[] = [];
  const bindings: WgslBinding[] = [];
  argTypes.forEach((t, a) => {
    decls.push(`@group(0) @binding(${a}) var<storage, ${writable.has(a) ? 'read_write' : 'read'}> b${a}: array<${wgslType(t)}>;`);
    bindings.push({ kind: 'storage', arg: a, dtype: t, writable: writable.has(a) });
  });
  return { decls, bindings };
}

function renderReduce(spec: ReduceSpec, limits: WgslLimits): WgslKernel {
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
  const f = isArg ? undefined : fold(op, dtype, outDtype, use);
  const A = wgslType(f?.accType ?? dtype);
  const extra: string[] = isArg ? betterFn(op, dtype, use) : [];
  const step = (v: string, i: string): string[] => f !== undefined
    ? [f.step('acc', v)]
    : [`if (k_better(acc, at, ${v}, ${i})) {`, `  acc = ${v};`, `  at = ${i};`, `}`];
  const result = (acc: string, at: string): string => (isArg ? `i32(select(${at}, 0u, ${at} == NONE))` : acc);

  const serial = inner <= SERIAL_INNER;
  const wg = serial ? serialWorkgroup(limits) : rowWorkgroup(inner, isArg ? 8 : 4, limits);
  const workgroups = grid(serial ? Math.ceil(rows / wg) : rows, limits);
  const yUsed = workgroups[1] > 1;

  const outer = coordinates(spec.outer, 'row', 'c');
  const innerCoords = coordinates(spec.inner, 'i', 'e');
  const main: string[] = [];
  main.push(serial ? `let row = ${linear('gid3', workgroups[0] * wg, yUsed)};` : `let row = ${linear('wid', workgroups[0], yUsed)};`);
  main.push(`if (row >= ${u32(rows)}) {`, `  return;`, `}`, ...outer.lines);
  for (let a = 0; a < nArgs; a++) main.push(`let q${a} = ${affine(uniforms.offset(a), outer.names, spec.outerStrides[a]!)};`);
  main.push(`var acc: ${A} = ${f?.init ?? '0'};`);
  if (isArg) main.push(`var at = NONE;`);
  const loopBody = [
    ...innerCoords.lines,
    ...Array.from({ length: nArgs - 1 }, (_, k) => `let p${k + 1} = ${affine(`q${k + 1}`, innerCoords.names, spec.innerStrides[k + 1]!)};`),
    ...renderBody(spec.body, types, {
      load: (a) => `b${int(a)}[p${a}]`,
      index: (a) => `p${a}`,
      position: `i32(${innerCoords.names[innerCoords.names.length - 1] ?? '0u'})`,
    }, uniforms, use),
    ...step(`v${int(spec.value)}`, 'i'),
  ];
  if (serial) {
    main.push(`for (var i = 0u; i < ${u32(inner)}; i++) {`, ...indent(loopBody), `}`);
    main.push(`b0[q0] = ${result('acc', 'at')};`);
  } else {
    extra.push(`var<workgroup> sa: array<${A}, ${wg}>;`);
    if (isArg) extra.push(`var<workgroup> si: array<u32, ${wg}>;`);
    main.push(`for (var i = lid; i < ${u32(inner)}; i += ${wg}u) {`, ...indent(loopBody), `}`);
    main.push(`sa[lid] = acc;`);
    if (isArg) main.push(`si[lid] = at;`);
    main.push(...tree(wg, isArg
      ? [`if (k_better(sa[lid], si[lid], sa[lid + s], si[lid + s])) {`, `  sa[lid] = sa[lid + s];`, `  si[lid] = si[lid + s];`, `}`]
      : [`sa[lid] = ${f!.combine('sa[lid]', 'sa[lid + s]')};`]));
    main.push(`if (lid == 0u) {`, `  b0[q0] = ${result('sa[0]', 'si[0]')};`, `}`);
  }

  const { decls, bindings } = storageDecls(argTypes, new Set([0]));
  const code = assemble(decls, uniforms, nArgs, false, helpers, extra, `@compute @workgroup_size(${int(wg)})`, entry(serial), main);
  bindings.push({ kind: 'uniform', bytes: uniforms.words * 4 });
  return {
    code, workgroupSize: wg, bindings, vectorWidth: 1,
    dispatch: (offsets, scalars = []) => ({ workgroups: rows === 0 ? [0, 1, 1] : workgroups, uniforms: uniforms.pack(offsets, scalars) }),
  };
}

function entry(serial: boolean): string {
  return serial
    ? `fn main(@builtin(global_invocation_id) gid3: vec3<u32>) {`
    : `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {`;
}

/**
 * A row kernel (softmax, layerNorm): one workgroup per row runs the passes in order, each
 * reduction a tree whose result every invocation then reads; short rows run one per
 * invocation, in the CPU's order. Values the CPU keeps in scratch rows are recomputed
 * from the saving pass's body instead: the same expression on the same inputs gives the
 * same bits, and it spares a round trip through global memory.
 */
function renderRow(spec: RowSpec, limits: WgslLimits): WgslKernel {
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
        rowTypes.scratch[sv.index] = types[sv.node]!;
        saver[sv.index] = { pass: p, node: sv.node };
      }
    }
    return types;
  });
  const writable = new Set<number>();
  for (const pass of spec.passes) {
    if (pass.kind !== 'map' && pass.store !== undefined) writable.add(pass.store);
    if (pass.kind === 'map') {
      for (const st of pass.stores) {
        if (st.scatter !== undefined) throw new InternalError('wgsl: scatter inside a row kernel');
        writable.add(st.arg);
      }
    }
  }

  const reduceTypes = new Set<GpuDType>();
  const folds = spec.passes.map((pass) => {
    if (pass.kind !== 'reduce') return undefined;
    const f = fold(pass.op, gpuDType(pass.dtype, 'a row reduction'), gpuDType(pass.outDtype, 'a row reduction'), use);
    reduceTypes.add(f.accType);
    return f;
  });
  const serial = inner <= SERIAL_INNER || reduceTypes.size === 0;
  const wg = serial ? serialWorkgroup(limits) : rowWorkgroup(inner, 4 * reduceTypes.size, limits);
  const workgroups = grid(serial ? Math.ceil(rows / wg) : rows, limits);
  const yUsed = workgroups[1] > 1;

  const outer = coordinates(spec.outer, 'row', 'c');
  const innerCoords = coordinates(spec.inner, 'i', 'e');
  const main: string[] = [];
  main.push(serial ? `let row = ${linear('gid3', workgroups[0] * wg, yUsed)};` : `let row = ${linear('wid', workgroups[0], yUsed)};`);
  main.push(`if (row >= ${u32(rows)}) {`, `  return;`, `}`, ...outer.lines);
  for (let a = 0; a < nArgs; a++) main.push(`let q${a} = ${affine(uniforms.offset(a), outer.names, spec.outerStrides[a]!)};`);
  rowTypes.rows.forEach((t, k) => { if (t !== undefined) main.push(`var w${k}: ${wgslType(t)};`); });
  const rowValue = (k: number) => `w${int(k)}`;
  const store = (arg: number, value: string) => (serial ? [`b${int(arg)}[q${int(arg)}] = ${value};`] : [`if (lid == 0u) {`, `  b${int(arg)}[q${int(arg)}] = ${value};`, `}`]);

  /** One pass's loop over the row: positions, recomputed scratch, body, then `after`. */
  const overRow = (p: number, after: string[]): string[] => {
    const pass = spec.passes[p]!;
    const lines = [
      ...innerCoords.lines,
      ...Array.from({ length: nArgs }, (_, a) => `let p${a} = ${affine(`q${a}`, innerCoords.names, spec.innerStrides[a]!)};`),
    ];
    const position = `i32(${innerCoords.names[innerCoords.names.length - 1] ?? '0u'})`;
    const emitted = new Set<number>();
    const access: BodyAccess = {
      load: (a) => `b${int(a)}[p${a}]`,
      index: (a) => `p${a}`,
      position,
      row: rowValue,
      scratch: (index) => {
        const from = saver[index];
        if (from === undefined) throw new InternalError(`wgsl: scratch ${index} is never saved`);
        emit(from.pass);
        return `x${int(from.pass)}_${int(from.node)}`;
      },
    };
    // The saving pass's body, rendered once per loop under its own prefix (and its own saved inputs first).
    const emit = (q: number): void => {
      if (emitted.has(q)) return;
      emitted.add(q);
      const body = renderBody(spec.passes[q]!.body, passTypes[q]!, access, uniforms, use, `x${int(q)}_`);
      lines.push(...body);
    };
    const own = renderBody(pass.body, passTypes[p]!, access, uniforms, use);
    lines.push(...own, ...after);
    return [serial ? `for (var i = 0u; i < ${u32(inner)}; i++) {` : `for (var i = lid; i < ${u32(inner)}; i += ${wg}u) {`, ...indent(lines), `}`];
  };

  spec.passes.forEach((pass, p) => {
    const block: string[] = [];
    switch (pass.kind) {
      case 'reduce': {
        const f = folds[p]!;
        const T = wgslType(f.accType);
        block.push(`var acc: ${T} = ${f.init};`);
        block.push(...overRow(p, [f.step('acc', `v${int(pass.value)}`)]));
        if (serial) {
          block.push(`${rowValue(pass.row)} = acc;`);
        } else {
          block.push(`sa_${T}[lid] = acc;`);
          block.push(...tree(wg, [`sa_${T}[lid] = ${f.combine(`sa_${T}[lid]`, `sa_${T}[lid + s]`)};`]));
          // Every invocation reads the total, then waits so no one overwrites it early.
          block.push(`${rowValue(pass.row)} = sa_${T}[0];`, `workgroupBarrier();`);
        }
        if (pass.store !== undefined) block.push(...store(pass.store, rowValue(pass.row)));
        break;
      }
      case 'scalar':
        block.push(...renderBody(pass.body, passTypes[p]!, {
          load: (a) => `b${int(a)}[q${a}]`,
          index: (a) => `q${a}`,
          position: '0i',
          row: rowValue,
        }, uniforms, use));
        block.push(`${rowValue(pass.row)} = v${int(pass.value)};`);
        if (pass.store !== undefined) block.push(...store(pass.store, rowValue(pass.row)));
        break;
      case 'map':
        block.push(...overRow(p, pass.stores.map((st) => `b${int(st.arg)}[p${int(st.arg)}] = v${int(st.node)};`)));
        break;
    }
    main.push('{', ...indent(block), '}');
  });

  const extra = serial ? [] : [...reduceTypes].map((t) => `var<workgroup> sa_${wgslType(t)}: array<${wgslType(t)}, ${wg}>;`);
  const { decls, bindings } = storageDecls(argTypes, writable);
  const code = assemble(decls, uniforms, nArgs, false, helpers, extra, `@compute @workgroup_size(${int(wg)})`, entry(serial), main);
  bindings.push({ kind: 'uniform', bytes: uniforms.words * 4 });
  return {
    code, workgroupSize: wg, bindings, vectorWidth: 1,
    dispatch: (offsets, scalars = []) => ({ workgroups: rows === 0 ? [0, 1, 1] : workgroups, uniforms: uniforms.pack(offsets, scalars) }),
  };
}

// ---------------------------------------------------------------------------------------
// Matmul

/** Tile edge: a TILE x TILE workgroup computes a TILE x TILE block of C from TILE-wide panels of A and B. */
const TILE = 16;

function renderMatmul(spec: MatmulSpec, limits: WgslLimits): WgslKernel {
  const dtype = gpuDType(spec.dtype, 'matmul');
  const T = wgslType(dtype);
  const { m, n, k } = spec;
  const [sam, sak] = spec.aStrides;
  const [sbk, sbn] = spec.bStrides;
  if (TILE * TILE > limits.maxComputeInvocationsPerWorkgroup || TILE > limits.maxComputeWorkgroupSizeX) throw new InternalError('wgsl: device cannot run 16x16 workgroups');
  const extras = spec.extras ?? [];
  const epilogue = spec.epilogue ?? null;
  const nArgs = 3 + extras.length;
  if (nArgs > limits.maxStorageBuffersPerShaderStage) throw new InternalError(`wgsl: a matmul kernel needs ${nArgs} storage buffers, the device allows ${limits.maxStorageBuffersPerShaderStage}`);
  // With an epilogue, C holds the epilogue's value (a fused bias, activation or residual).
  const outDtype = epilogue === null ? dtype : gpuDType(epilogue.dtype, 'the matmul epilogue');
  const argTypes: GpuDType[] = [outDtype, dtype, dtype, ...extras.map((x, e) => gpuDType(x.dtype, `matmul operand ${3 + e}`))];
  const batch = product(spec.batch);
  const tilesM = Math.ceil(m / TILE);
  const tilesN = Math.ceil(n / TILE);
  const tiles = batch * tilesM * tilesN;
  product([tiles]);
  const workgroups = grid(tiles, limits);
  const yUsed = workgroups[1] > 1;
  const uniforms = new Uniforms(nArgs);
  const helpers = new HelperSet();
  const zero = dtype === 'float32' ? '0.0' : dtype === 'int32' ? '0i' : '0u';

  // The value stored at (row, col): the product, or the epilogue computed from it and the extras there.
  let store = [`  b0[pc + row * ${u32(n)} + col] = acc;`];
  if (epilogue !== null) {
    const types = nodeTypes(epilogue.body, argTypes, { rows: [], scratch: [], acc: dtype });
    if (types[epilogue.value] !== outDtype) throw new InternalError(`wgsl: matmul epilogue value is ${types[epilogue.value]}, expected ${outDtype}`);
    const at = (a: number) => {
      const x = extras[a - 3];
      if (x === undefined) throw new InternalError(`wgsl: matmul epilogue reads arg ${a}, which is not an extra operand`);
      return affine(`pe${a}`, ['row', 'col'], x.strides);
    };
    const body = renderBody(epilogue.body, types, { load: (a) => `b${int(a)}[${at(a)}]`, index: at, position: '0i', acc: 'acc' }, uniforms, helpers.use);
    store = [...indent(body), `  b0[pc + row * ${u32(n)} + col] = v${int(epilogue.value)};`];
  }

  const batchCoords = coordinates(spec.batch, 'bi', 'z');
  const main = [
    `let tile = ${linear('wid', workgroups[0], yUsed)};`,
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
    `let row = tm * ${TILE}u + lid.y;`,
    `let col = tn * ${TILE}u + lid.x;`,
    `var acc: ${T} = ${zero};`,
    `for (var k0 = 0u; k0 < ${u32(k)}; k0 += ${TILE}u) {`,
    `  let ak = k0 + lid.x;`,
    `  if (row < ${u32(m)} && ak < ${u32(k)}) {`,
    `    ta[lid.y][lid.x] = b1[pa + row * ${u32(sam)} + ak * ${u32(sak)}];`,
    `  } else {`,
    `    ta[lid.y][lid.x] = ${zero};`,
    `  }`,
    `  let bk = k0 + lid.y;`,
    `  if (bk < ${u32(k)} && col < ${u32(n)}) {`,
    `    tb[lid.y][lid.x] = b2[pb + bk * ${u32(sbk)} + col * ${u32(sbn)}];`,
    `  } else {`,
    `    tb[lid.y][lid.x] = ${zero};`,
    `  }`,
    `  workgroupBarrier();`,
    `  for (var kk = 0u; kk < ${TILE}u; kk++) {`,
    // bool: C = OR over k of (A AND B), what casting the sum of products to bool gives.
    dtype === 'bool' ? `    acc = acc | (ta[lid.y][kk] & tb[kk][lid.x]);` : `    acc = acc + ta[lid.y][kk] * tb[kk][lid.x];`,
    `  }`,
    `  workgroupBarrier();`,
    `}`,
    `if (row < ${u32(m)} && col < ${u32(n)}) {`,
    ...store,
    `}`,
  ];
  const { decls, bindings } = storageDecls(argTypes, new Set([0]));
  const extra = [`var<workgroup> ta: array<array<${T}, ${TILE}>, ${TILE}>;`, `var<workgroup> tb: array<array<${T}, ${TILE}>, ${TILE}>;`];
  const code = assemble(decls, uniforms, nArgs, false, helpers, extra, `@compute @workgroup_size(${TILE}, ${TILE})`,
    `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {`, main);
  bindings.push({ kind: 'uniform', bytes: uniforms.words * 4 });
  return {
    code, workgroupSize: TILE * TILE, vectorWidth: 1, bindings,
    dispatch: (offsets, scalars = []) => ({ workgroups: m * n === 0 ? [0, 1, 1] : workgroups, uniforms: uniforms.pack(offsets, scalars) }),
  };
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
