/** Literals, validation, grids and shader assembly shared by every kind of WGSL kernel. */
import type { DType } from '../../../runtime/dtype.js';
import { DTypeError, InternalError } from '../../../runtime/errors.js';
import { type GpuDType, wgslStorageType } from '../wgsl-prims.js';
import { HelperSet } from '../wgsl-helpers.js';
import type { Uniforms } from './uniforms.js';
import type { WgslBinding, WgslLimits } from './types.js';

/** Default invocations per workgroup of map and random kernels (see WgslOptions.workgroupSize). */
export const DEFAULT_WG = 256;
export const STATUS_GATHER = 1;
export const STATUS_SCATTER = 2;
/** A loop kernel stopped at its iteration cap (./loop.ts). */
export const STATUS_LOOP = 3;
/** The status binding's size in bytes. */
export const STATUS_BYTES = 16;


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
  if (dtype !== 'float16' && dtype !== 'float32' && dtype !== 'int32' && dtype !== 'uint8' && dtype !== 'bool') {
    throw new InternalError(`wgsl: unknown dtype ${String(dtype)}`);
  }
  return dtype;
}

export function pow2AtMost(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

/** The least power of two that is at least n. */
export function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new InternalError(`wgsl: bad dim ${d}`);
    n *= d;
  }
  if (n >= 4294967296) throw new InternalError(`wgsl: ${n} elements do not fit in u32 indices`);
  return n;
}

/** Workgroup counts covering `count` workgroups: x first, y when x runs past the per-dimension limit. */
export function grid(count: number, limits: WgslLimits): [number, number, number] {
  if (count === 0) return [0, 1, 1];
  const x = Math.min(count, limits.maxComputeWorkgroupsPerDimension);
  const y = Math.ceil(count / x);
  if (y > limits.maxComputeWorkgroupsPerDimension) {
    throw new InternalError(`wgsl: ${count} workgroups exceed the device's ${limits.maxComputeWorkgroupsPerDimension}^2 grid`);
  }
  return [x, y, 1];
}

/** The linear workgroup (or invocation) number of a possibly 2-D grid whose x extent is `xExtent`. */
export function linear(id: string, xExtent: number, yUsed: boolean): string {
  return yUsed ? `(${id}.x + ${id}.y * ${u32(xExtent)})` : `${id}.x`;
}

/**
 * A size of a kernel: a number rendered as a u32 literal, or a symbolic size with its value
 * in the member being rendered and the u32 expression (a uniform word) that reads it.
 */
export type SizeText = number | { value: number; text: string };

export const sizeValue = (s: SizeText): number => (typeof s === 'number' ? s : s.value);
export const sizeU32 = (s: SizeText): string => (typeof s === 'number' ? u32(s) : s.text);

/** The u32 expression of `size - 1`, the last index along a dim (wrapping for an empty dim, which no launch reaches). */
export const lastIndex = (s: SizeText): string => (typeof s === 'number' ? u32(s - 1) : `(${s.text} - 1u)`);

/** `base + c0 * s0 + ...`, skipping zero strides (decided by the member's own values: it shows in the text). */
export function affine(base: string, coords: readonly string[], strides: readonly SizeText[]): string {
  let s = base;
  coords.forEach((c, d) => {
    const st = strides[d]!;
    if (sizeValue(st) === 0) return;
    s += sizeValue(st) === 1 && typeof st === 'number' ? ` + ${c}` : ` + ${c} * ${sizeU32(st)}`;
  });
  return s;
}

/** Lines naming the coordinates `${prefix}0..` of linear index `lin` over `shape` (row-major). */
export function coordinates(
  shape: readonly SizeText[], lin: string, prefix: string,
): { lines: string[]; names: string[] } {
  const names = shape.map((_, d) => `${prefix}${d}`);
  const lines: string[] = [];
  let rest = lin;
  for (let d = shape.length - 1; d > 0; d--) {
    // Over a size-0 shape no invocation gets here, but WGSL rejects `% 0u` outright.
    const dim = shape[d]!;
    const size = typeof dim === 'number' ? u32(Math.max(dim, 1)) : `max(${dim.text}, 1u)`;
    lines.push(`let ${prefix}${d} = ${rest} % ${size};`);
    lines.push(`let ${prefix}r${d} = ${rest} / ${size};`);
    rest = `${prefix}r${d}`;
  }
  if (shape.length > 0) lines.push(`let ${prefix}0 = ${rest};`);
  return { lines, names };
}


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

/** Storage element `x` of `dtype` as a register value (a half widens to f32 exactly). */
export function fromStorage(dtype: GpuDType, x: string): string {
  return dtype === 'float16' ? `f32(${x})` : x;
}

/**
 * Register value `x` of `dtype` as its storage element (scalar, or vec4 when `vec`): a
 * float16 value is already rounded to a half by k_f16, so the f16 conversion is exact.
 */
export function toStorage(dtype: GpuDType, x: string, vec = false): string {
  if (dtype !== 'float16') return x;
  return vec ? `vec4<f16>(${x})` : `f16(${x})`;
}

export function indent(lines: readonly string[], by = '  '): string[] {
  return lines.map((l) => by + l);
}


/** Puts a shader together: bindings, uniform block, status helpers, helper functions, extra module-scope lines, entry point. */
export function assemble(decls: string[], uniforms: Uniforms, nArgs: number, checks: boolean, helpers: HelperSet, extra: string[], attr: string, signature: string, body: string[]): string {
  return [
    // f16 storage is an extension every module using it enables first (the device has shader-f16).
    ...(decls.some((d) => d.includes('f16>')) ? ['enable f16;'] : []),
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


export function storageDecls(argTypes: readonly GpuDType[], writable: ReadonlySet<number>, vec: ReadonlySet<number> = new Set()): { decls: string[]; bindings: WgslBinding[] } {
  const decls: string[] = [];
  const bindings: WgslBinding[] = [];
  argTypes.forEach((t, a) => {
    const elem = vec.has(a) ? `vec4<${wgslStorageType(t)}>` : wgslStorageType(t);
    decls.push(`@group(0) @binding(${a}) var<storage, ${writable.has(a) ? 'read_write' : 'read'}> b${a}: array<${elem}>;`);
    bindings.push({ kind: 'storage', arg: a, dtype: t, writable: writable.has(a) });
  });
  return { decls, bindings };
}
