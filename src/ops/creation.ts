/** Creating tensors: from JS data, filled, ranges, identity, and random. */
import { ARRAY_OF, dtypeOfArray, isDType, type DType, type TypedArray } from '../../runtime/dtype.js';
import { DTypeError, ValueError, fmtValue } from '../../runtime/errors.js';
import { refCast } from '../../compiler/ir/primitives.js';
import { fromElement, storedValue, toElement } from '../../runtime/stored.js';
import { checkShape, sizeOf } from '../../compiler/ir/shape.js';
import { apply, created, empty, onDevice } from '../dispatch.js';
import { checkDevice, toGpu } from '../device.js';
import { resultType, type Scalar } from '../dtype.js';
import { tidy } from '../memory.js';
import { takeCounters } from '../random.js';
import { readStorageSync, writeStorage } from '../storage.js';
import { Tensor, type Device } from '../tensor.js';
import { add, cast, cos, eq, floor, log, mul, sqrt, sub } from './elementwise.js';
import { reshape } from './shape.js';
import { checkScalar } from './scalars.js';

/** Options of the creation functions. */
export interface CreateOptions {
  /** 'int64' is accepted for PyTorch's index dtype and stored as int32 (values beyond its range are an error). */
  dtype?: DType | 'int64';
  requiresGrad?: boolean;
  /** Where the tensor lives (default 'cpu'; 'webgpu' needs `await webgpu.init()` first). */
  device?: Device;
}

/** Nested JS arrays of numbers or booleans. */
export type NestedInput = number | boolean | NestedInput[];

function checkDtype(op: string, dtype: unknown): DType | undefined {
  if (dtype === undefined) return undefined;
  if (dtype === 'int64') return 'int32';
  if (!isDType(dtype)) throw new DTypeError(`${op}: unknown dtype ${String(dtype)} (valid: float16, float32, float64, int32, uint8, bool, int64)`);
  return dtype;
}

const INT32_MIN = -(2 ** 31), INT32_MAX = 2 ** 31 - 1;

/** int64 data is stored as int32: every value must fit (integral values beyond ±2^31 would wrap silently). */
function checkInt64(values: ArrayLike<number | bigint>): void {
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (!(v >= INT32_MIN && v <= INT32_MAX)) {
      throw new ValueError(`tensor: int64 value ${String(values[i])} at index ${i} does not fit int32, which kiln stores int64 as (valid: ${INT32_MIN}..${INT32_MAX})`);
    }
  }
}

/** Checks dtype and device before anything is made (a bad device must not advance the random stream). */
function checkOptions(op: string, options: CreateOptions | undefined): DType | undefined {
  checkDevice(op, options?.device);
  return checkDtype(op, options?.dtype);
}

function finish(op: string, t: Tensor, options: CreateOptions | undefined): Tensor {
  // Values are made on the CPU and uploaded once, so every device holds the same numbers.
  const device = checkDevice(op, options?.device);
  if (device !== undefined && device !== t.device) {
    const cpu = t;
    t = toGpu(cpu);
    cpu.dispose();
  }
  if (options?.requiresGrad) t.requiresGrad = true;
  return t;
}

/** Shape of nested input, checking that it is not ragged. */
function nestedShape(data: NestedInput): number[] {
  const shape: number[] = [];
  let level: NestedInput = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0]!;
  }
  const check = (x: NestedInput, d: number, path: string): void => {
    if (d === shape.length) {
      if (typeof x !== 'number' && typeof x !== 'boolean') {
        throw new ValueError(`tensor: elements must be numbers or booleans (got ${Array.isArray(x) ? 'an array' : typeof x} at ${path || 'the top'})`);
      }
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[d]) {
      throw new ValueError(`tensor: ragged nested array: expected ${shape[d]} elements at ${path || 'the top'} (shape so far [${shape.slice(0, d + 1).join(',')}]), got ${Array.isArray(x) ? x.length : 'a scalar'}`);
    }
    x.forEach((y, i) => check(y, d + 1, `${path}[${i}]`));
  };
  check(data, 0, '');
  return shape;
}

/**
 * A tensor from a number, a boolean, nested arrays or a typed array. Numbers default to
 * float32, booleans to bool; typed arrays keep their type (a Uint8Array is uint8, as for images).
 */
export function tensor(data: NestedInput | TypedArray | BigInt64Array | ArrayLike<number>, options?: CreateOptions & { shape?: number[] }): Tensor {
  let dtype = checkOptions('tensor', options);
  if (data instanceof BigInt64Array) {
    checkInt64(data);
    return tensor(Int32Array.from(data, Number), { ...options, dtype: dtype ?? 'int32' });
  }
  // A Uint16Array holds half bits, as float16 tensors' data() gives them (PyTorch's float16 NumPy arrays).
  if (data instanceof Uint16Array && dtype !== 'float16') {
    const got = dtype ?? 'none';
    throw new DTypeError(`tensor: a Uint16Array holds float16 bits; pass { dtype: 'float16' } (got dtype ${got})`);
  }
  if (ArrayBuffer.isView(data)) {
    const arr = data as unknown as TypedArray;
    const own = data instanceof Uint16Array ? 'float16' : dtypeOfArray(data);
    if (own === undefined) throw new DTypeError(`tensor: typed arrays must be Float32Array, Float64Array, Int32Array, Uint8Array or (float16 bits) Uint16Array (got ${data.constructor.name})`);
    dtype ??= own;
    if (options?.dtype === 'int64') checkInt64(arr);
    const shape = options?.shape ? checkShape('tensor', options.shape) : [arr.length];
    if (sizeOf(shape) !== arr.length) throw new ValueError(`tensor: shape [${shape.join(',')}] needs ${sizeOf(shape)} elements, the array has ${arr.length}`);
    const out = empty(shape, dtype);
    const halves = dtype === 'float16' && !(arr instanceof Uint16Array);
    writeStorage(out.storage, dtype, halves ? Uint16Array.from(arr, (v) => toElement(v, 'float16')) : arr);
    return finish('tensor', created(out, { data: readStorageSync(out.storage, dtype, 0, arr.length) }), options);
  }
  const nested = nestedShape(data as NestedInput);
  const flat: Scalar[] = Array.isArray(data) ? ((data as unknown[]).flat(Infinity) as Scalar[]) : [data as Scalar];
  if (options?.dtype === 'int64') checkInt64(flat.map(Number));
  // `shape` reads the elements in row-major order, as for typed arrays.
  const shape = options?.shape ? checkShape('tensor', options.shape) : nested;
  if (sizeOf(shape) !== flat.length) {
    throw new ValueError(`tensor: shape [${shape.join(',')}] needs ${sizeOf(shape)} elements, the data has ${flat.length} (shape [${nested.join(',')}])`);
  }
  dtype ??= flat.length > 0 && flat.every((v) => typeof v === 'boolean') ? 'bool' : 'float32';
  const buf = new ARRAY_OF[dtype](flat.length);
  if (dtype === 'int32' || dtype === 'uint8' || dtype === 'bool') {
    const conv = new ARRAY_OF[dtype](1);
    for (let i = 0; i < flat.length; i++) {
      const v = Number(flat[i]);
      conv[0] = dtype === 'bool' ? (v !== 0 ? 1 : 0) : refCast(v, dtype);
      buf[i] = conv[0]!;
    }
  } else {
    for (let i = 0; i < flat.length; i++) buf[i] = toElement(Number(flat[i]), dtype);
  }
  const out = empty(shape, dtype);
  writeStorage(out.storage, dtype, buf);
  return finish('tensor', created(out, { data: buf }), options);
}

/** `value` as a tensor of `dtype` stores it (rounded, truncated or made 0/1). */
function storedScalar(value: Scalar, dtype: DType): number {
  return dtype === 'bool' ? (value ? 1 : 0) : storedValue(refCast(Number(value), dtype), dtype);
}

/** A 0-d tensor holding one scalar. */
export function scalarTensor(value: Scalar, dtype: DType): Tensor {
  const out = empty([], dtype);
  // The element array rounds the value as storage does, so it is made once, not also in
  // storedScalar: every scalar operand (`x * 0.5`) of an eager op comes here.
  const one = new ARRAY_OF[dtype](1);
  one[0] = dtype === 'bool' ? (value ? 1 : 0) : toElement(refCast(Number(value), dtype), dtype);
  writeStorage(out.storage, dtype, one);
  return created(out, { value: fromElement(one[0]!, dtype) });
}

/** `full` under the name of the function the user called. */
function filled(op: string, shape: number[], value: Scalar, options: CreateOptions | undefined): Tensor {
  const s = checkShape(op, shape);
  checkScalar(op, 'value', value);
  const dtype = checkOptions(op, options) ?? resultType(value === true || value === false ? value : 0.5);
  const out = empty(s, dtype);
  const one = storedScalar(value, dtype);
  // Fresh CPU storage holds +0 already.
  if (!Object.is(one, 0)) writeStorage(out.storage, dtype, new ARRAY_OF[dtype](out.size).fill(toElement(one, dtype)));
  return finish(op, created(out, { fill: one }), options);
}

function checkTensor(op: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new ValueError(`${op}: expects a tensor (got ${fmtValue(x)})`);
}

/** A tensor of `shape` with every element `value`. */
export function full(shape: number[], value: Scalar, options?: CreateOptions): Tensor {
  return filled('full', shape, value, options);
}

/** Zeros of `shape` (float32 unless `dtype`). */
export function zeros(shape: number[], options?: CreateOptions): Tensor {
  return filled('zeros', shape, 0, { dtype: 'float32', ...options });
}

/** Ones of `shape` (float32 unless `dtype`). */
export function ones(shape: number[], options?: CreateOptions): Tensor {
  return filled('ones', shape, 1, { dtype: 'float32', ...options });
}

function filledLike(op: string, x: Tensor, value: Scalar, options: CreateOptions | undefined): Tensor {
  checkTensor(op, x);
  return filled(op, x.shape, value, { dtype: x.dtype, device: x.device, ...options });
}

/** A tensor like `x` (shape, dtype and device unless overridden) full of `value`. */
export const fullLike = (x: Tensor, value: Scalar, options?: CreateOptions): Tensor => filledLike('fullLike', x, value, options);
export const zerosLike = (x: Tensor, options?: CreateOptions): Tensor => filledLike('zerosLike', x, 0, options);
export const onesLike = (x: Tensor, options?: CreateOptions): Tensor => filledLike('onesLike', x, 1, options);

function checkFinite(op: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`${op}: ${name} must be a finite number (got ${v})`);
}

/** int32 0..n-1 (on `device`, by default the one nullary ops currently produce on). */
export function iota(n: number, device?: Device): Tensor {
  return device === undefined ? apply('iota', [], { n }) : onDevice(device, () => apply('iota', [], { n }));
}

/**
 * Values from `start` up to (not including) `end` by `step`: `arange(5)`, `arange(1, 5)`,
 * `arange(0, 1, 0.25)`. int32 when all three are integers, else float32.
 */
export function arange(start: number, end?: number, step = 1, options?: CreateOptions): Tensor {
  if (end === undefined) [start, end] = [0, start];
  checkFinite('arange', 'start', start);
  checkFinite('arange', 'end', end);
  checkFinite('arange', 'step', step);
  if (step === 0) throw new ValueError('arange: step must be non-zero');
  if ((end - start) * step < 0) throw new ValueError(`arange: end ${end} cannot be reached from start ${start} with step ${step}`);
  // max(0, ·) turns the -0 of an empty descending range into 0, so the shape is [0].
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = checkOptions('arange', options) ?? resultType(start, end, step);
  // start + i·step computed in float64, rounded once to the dtype.
  const values = add(mul(cast(iota(n), 'float64'), step), start);
  return finish('arange', cast(values, dtype), options);
}

/** `steps` evenly spaced values from `start` to `end` inclusive. */
export function linspace(start: number, end: number, steps: number, options?: CreateOptions): Tensor {
  checkFinite('linspace', 'start', start);
  checkFinite('linspace', 'end', end);
  if (!Number.isInteger(steps) || steps < 0) throw new ValueError(`linspace: steps must be a non-negative integer (got ${steps})`);
  const dtype = checkOptions('linspace', options) ?? 'float32';
  if (steps === 1) return finish('linspace', full([1], start, { dtype }), options);
  const step = (end - start) / (steps - 1);
  // Like PyTorch, the second half counts back from `end` so both ends are exact.
  const i = cast(iota(steps), 'float64');
  const half = Math.floor(steps / 2);
  const fromStart = add(mul(i, step), start);
  const fromEnd = sub(end, mul(sub(steps - 1, i), step));
  const values = fromStart.where(i.lt(half), fromEnd);
  return finish('linspace', cast(values, dtype), options);
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m = n, options?: CreateOptions): Tensor {
  for (const [name, v] of [['n', n], ['m', m]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new ValueError(`eye: ${name} must be a non-negative integer (got ${v})`);
  }
  const dtype = checkOptions('eye', options) ?? 'float32';
  const rows = reshape(iota(n), [n, 1]);
  const cols = reshape(iota(m), [1, m]);
  return finish('eye', cast(eq(rows, cols), dtype), options);
}

/** Uniform samples in [0, 1) from the seeded counter-based generator. */
export function rand(shape: number[], options?: CreateOptions): Tensor {
  const s = checkShape('rand', shape);
  const dtype = checkOptions('rand', options) ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw new DTypeError(`rand: dtype must be float32 or float64 (got ${dtype})`);
  const { seed, offset } = takeCounters(sizeOf(s));
  const device = options?.device ?? 'cpu';
  // The same counter-based stream on every device: the GPU kernel draws what the CPU would.
  const u = onDevice(device, () => tidy(() => cast(apply('random', [], { shape: s, seed, offset }), dtype)));
  return finish('rand', u, options);
}

/** Standard normal samples (Box–Muller over two uniform draws). */
export function randn(shape: number[], options?: CreateOptions): Tensor {
  const s = checkShape('randn', shape);
  const dtype = checkOptions('randn', options) ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw new DTypeError(`randn: dtype must be float32 or float64 (got ${dtype})`);
  const n = sizeOf(s);
  // The intermediates go back to the allocator when the scope ends rather than when the
  // collector finds them: dropped, the Wasm engine first spilled them to the JavaScript heap
  // (randn([1M]): 71 to 334 ms, against 62 to 70 inside a scope).
  const z = tidy(() => {
    const u = cast(rand([2, n]), 'float64');
    // 1 - u is in (0, 1], so the log is finite.
    const radius = sqrt(mul(log(sub(1, u.narrow(0, 0, 1))), -2));
    return cast(reshape(mul(radius, cos(mul(u.narrow(0, 1, 1), 2 * Math.PI))), s), dtype);
  });
  return finish('randn', z, options);
}

/** Integers uniform in [low, high). */
export function randint(low: number, high: number, shape: number[], options?: CreateOptions): Tensor {
  if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || high <= low) {
    throw new ValueError(`randint: need integers low < high (got low=${low}, high=${high})`);
  }
  const dtype = checkOptions('randint', options) ?? 'int32';
  const s = checkShape('randint', shape);
  // One uniform has only 24 bits, too few to reach every value of a range wider than 2^24
  // (and uneven for narrower ones that are not a power of two): combine two into 48 bits.
  const values = tidy(() => {
    const u = cast(rand([2, ...s]), 'float64');
    const u48 = add(u.narrow(0, 0, 1), mul(u.narrow(0, 1, 1), 2 ** -24));
    return cast(add(floor(mul(reshape(u48, s), high - low)), low), dtype);
  });
  return finish('randint', values, options);
}

