/**
 * The Tensor: storage + shape + strides + offset, with PyTorch-style methods. Methods are
 * thin: every computation goes through the op functions in ./ops, which bottom out in
 * `apply` (./dispatch.ts), the one place where primitives run.
 */
import type { DType, TypedArray, TypedArrayOf } from '../runtime/dtype.js';
import { fromElement } from '../runtime/stored.js';
import { isDType, isFloat } from '../runtime/dtype.js';
import { DTypeError, DeviceError, ValueError, fmtShape } from '../runtime/errors.js';
import { isDevice, readAsync, toDevice, toDeviceAsync } from './device.js';
import { setTensorCheck, track, untrack } from './memory.js';
import { runBackward, type BackwardOptions } from './autograd/backward.js';
import { AutogradError, type GradNode } from './autograd/node.js';
import { onesLike } from './ops/creation.js';
import { contiguousStrides, isContiguous, sameShape, sizeOf } from '../compiler/ir/shape.js';
import { activeObservers, apply, stateWritten } from './dispatch.js';
import { noGrad } from './autograd/mode.js';
import { formatTensor } from './format.js';
import type { Scalar } from './dtype.js';
import * as E from './ops/elementwise.js';
import * as R from './ops/reduce.js';
import * as S from './ops/shape.js';
import * as L from './ops/linalg.js';
import * as I from './ops/indexing.js';
import * as P from './ops/inplace.js';
import * as X from './ops/advanced-index.js';
import * as A from './ops/rearrange.js';
import * as O from './ops/order.js';
import * as N from './ops/norms.js';
import { normalizeAxis } from '../compiler/ir/shape.js';
import { readContiguous, toNested, type Nested } from './read.js';
import { cpuStorageOf, readElementSync, type Device, type Storage } from './storage.js';

export type { Device, Storage } from './storage.js';

/** The error of a synchronous reader on a tensor whose values live on another device. */
function syncReadError(how: string, instead: string): DeviceError {
  return new DeviceError(`${how}: the values of a webgpu tensor can only be read asynchronously; use ${instead}`);
}

/** A tensor or a JS scalar, wherever an op takes an operand. */
export type TensorLike = Tensor | Scalar;

/** An n-dimensional array of one dtype on one device. */
export class Tensor {
  /** @internal */ readonly storage: Storage;
  /** Size of each dimension. */
  readonly shape: number[];
  /** Elements to step in storage per index of each dimension. */
  readonly strides: number[];
  /** Index in storage of the first element. */
  readonly offset: number;
  readonly dtype: DType;
  #grad: Tensor | null = null;
  /** @internal The recorded op that produced this tensor (null for leaves). */
  gradFn: GradNode | null = null;
  /** @internal For views: the tensor whose storage they read. */
  viewBase: Tensor | null = null;
  /** True once `retainGrad()` asked a non-leaf to keep its gradient. */
  retainsGrad = false;
  #requiresGrad = false;
  #disposed = false;

  /** @internal Use the creation functions (`tensor`, `zeros`, …) instead. */
  constructor(storage: Storage, shape: number[], strides: number[], offset: number, dtype: DType) {
    this.storage = storage;
    this.shape = shape;
    this.strides = strides;
    this.offset = offset;
    this.dtype = dtype;
    track(this, storage);
  }

  /** @internal A fresh contiguous CPU tensor holding a copy of the host elements `data`. */
  static fromData(data: TypedArray, shape: number[], dtype: DType): Tensor {
    return new Tensor(cpuStorageOf(dtype, data), shape, contiguousStrides(shape), 0, dtype);
  }

  /** Accumulated gradient after `backward()`. */
  get grad(): Tensor | null {
    const observers = activeObservers();
    for (let i = 0; i < observers.length; i++) observers[i]!.onGradRead?.(this, this.#grad);
    return this.#grad;
  }
  set grad(value: Tensor | null) {
    if (value !== null && !(value instanceof Tensor)) throw new ValueError(`grad: must be a tensor or null (got ${typeof value})`);
    if (value !== null && !sameShape(value.shape, this.shape)) throw new ValueError(`grad: shape ${fmtShape(value.shape)} does not match the tensor's ${fmtShape(this.shape)}`);
    this.#grad = value;
    const observers = activeObservers();
    for (let i = 0; i < observers.length; i++) observers[i]!.onGradWrite?.(this, value);
  }

  /** Whether autograd records operations on this tensor (only float tensors can). */
  get requiresGrad(): boolean { return this.#requiresGrad; }
  set requiresGrad(value: boolean) {
    if (value && !isFloat(this.dtype)) throw new DTypeError(`requiresGrad: only float tensors can require gradients (got ${this.dtype})`);
    if (!value && this.gradFn !== null) throw new AutogradError('requiresGrad: cannot turn off gradients of a non-leaf tensor; use detach()');
    if (value !== this.#requiresGrad) stateWritten(`set requiresGrad = ${value} on a tensor from outside the call`, this);
    this.#requiresGrad = value;
  }
  /** Sets requiresGrad and returns this tensor. */
  requiresGrad_(value = true): this {
    this.requiresGrad = value;
    return this;
  }
  /** True for tensors not produced by a recorded op (user-created, or detached). */
  get isLeaf(): boolean { return this.gradFn === null; }
  /** @internal Records the op that produced this tensor. */
  setGradFn(node: GradNode): void {
    this.gradFn = node;
    this.#requiresGrad = true;
  }
  /**
   * Backpropagates from this tensor: accumulates d(this)/d(leaf) into every leaf's `.grad`.
   * Non-scalar outputs need `gradient`, the vector in the vector-Jacobian product.
   */
  backward(gradient?: Tensor, options?: BackwardOptions): void {
    if (gradient === undefined && this.size !== 1) {
      throw new AutogradError(`backward: the gradient can be implied only for one-element outputs (this one is ${fmtShape(this.shape)}); pass backward(gradient)`);
    }
    runBackward([this], [gradient ?? onesLike(this)], options);
  }
  /** The same values, cut off from the graph (shares storage). */
  detach(): Tensor {
    // An identity view, so a trace records it; not a view for autograd's in-place rules.
    const out = noGrad(() => apply('reshape', [this], { shape: this.shape.slice() }));
    out.viewBase = null;
    return out;
  }
  /** Makes a non-leaf keep its `.grad` after backward. */
  retainGrad(): this {
    if (!this.requiresGrad) throw new AutogradError('retainGrad: this tensor does not require grad');
    if (this.gradFn !== null) this.retainsGrad = true;
    return this;
  }

  get device(): Device { return this.storage.device; }
  get ndim(): number { return this.shape.length; }
  /** Number of elements. */
  get size(): number { return sizeOf(this.shape); }
  /** @internal True when the elements are row-major with no gaps. */
  get isContiguous(): boolean { return isContiguous(this.shape, this.strides); }

  // Devices and lifetime.
  /** Releases this tensor's reference to its storage (a GPU buffer goes back to the pool once no view shares it). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    untrack(this, this.storage);
  }
  /** `using t = ...` disposes at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
  /** True after `dispose()`. */
  get isDisposed(): boolean { return this.#disposed; }
  /** A copy on the CPU, read back asynchronously (this tensor when already there). */
  cpu(): Promise<Tensor> { return toDeviceAsync(this, 'cpu'); }
  /** A copy on `device`; the only way from webgpu to the cpu, since readback is asynchronous. */
  toAsync(device: Device): Promise<Tensor> { return toDeviceAsync(this, device); }
  /** The elements as a fresh row-major typed array, on any device. */
  async dataAsync<D extends DType = DType>(): Promise<TypedArrayOf[D]> {
    this.#checkAlive('dataAsync()');
    const values = await readAsync(this);
    this.#observed(values, 'dataAsync()');
    return values as TypedArrayOf[D];
  }
  /** The elements as nested arrays, on any device. */
  async toArrayAsync(): Promise<Nested> {
    this.#checkAlive('toArrayAsync()');
    const values = await readAsync(this);
    this.#observed(values, 'toArrayAsync()');
    return toNested(this, values);
  }
  /** The value of a one-element tensor, on any device. */
  async itemAsync(): Promise<number> {
    this.#checkAlive('itemAsync()');
    if (this.size !== 1) throw new ValueError(`itemAsync: a tensor with ${this.size} elements (shape ${fmtShape(this.shape)}) cannot be converted to a number; only one-element tensors can`);
    const values = await readAsync(this);
    this.#observed(values, 'itemAsync()');
    return fromElement(values[0]!, this.dtype);
  }

  // Reading values.
  /** The value of a one-element tensor. */
  item(): number {
    this.#checkAlive('item()');
    if (this.storage.device !== 'cpu') throw syncReadError('item()', 'await t.itemAsync()');
    if (this.size !== 1) throw new ValueError(`item: a tensor with ${this.size} elements (shape ${fmtShape(this.shape)}) cannot be converted to a number; only one-element tensors can`);
    const v = readElementSync(this.storage, this.dtype, this.offset);
    this.#observed([v], 'item()');
    return fromElement(v, this.dtype);
  }
  /** The elements as nested arrays (a number for a 0-d tensor; booleans for bool). */
  toArray(): Nested {
    this.#checkAlive('toArray()');
    if (this.storage.device !== 'cpu') throw syncReadError('toArray()', 'await t.toArrayAsync()');
    this.#observed(readContiguous(this), 'toArray()');
    return toNested(this);
  }
  /** A fresh typed array of the elements in row-major order. */
  data<D extends DType = DType>(): TypedArrayOf[D] {
    this.#checkAlive('data()');
    if (this.storage.device !== 'cpu') throw syncReadError('data()', 'await t.dataAsync()');
    const values = readContiguous(this);
    this.#observed(values, 'data()');
    return values as TypedArrayOf[D];
  }
  /** Reading a disposed tensor is an error on every device: on the CPU its memory may already be reused. */
  #checkAlive(how: string): void {
    if (this.#disposed) {
      const hint = '(dispose(), or the end of its tidy scope); keep it out of the scope or create it again';
      throw new ValueError(`${how}: this ${this.dtype}${fmtShape(this.shape)} tensor was disposed ${hint}`);
    }
  }
  /** Tells observers (the tracer) that JS saw these values: under jit they become guards. */
  #observed(values: ArrayLike<number>, how: string): void {
    const observers = activeObservers();
    for (let i = 0; i < observers.length; i++) observers[i]!.onRead?.(this, values, how);
  }
  /**
   * PyTorch's printed form. Printing is not a guard under jit: a compiled call does not
   * print, so nothing depends on it. A webgpu tensor cannot be read synchronously, so it
   * prints its shape, dtype and device instead of its values.
   */
  toString(): string {
    if (this.#disposed) return `tensor(disposed, shape=${fmtShape(this.shape)}, dtype=${this.dtype})`;
    return formatTensor(this);
  }
  /** `console.log(t)` in Node (looked up by its registered symbol, so nothing imports node:util). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
  /**
   * One-element CPU tensors convert to numbers (`while (a < b)`, `t + 1`); larger ones are
   * ambiguous as numbers, but `'x=' + t` and template literals print them (as they print
   * webgpu tensors, whose values cannot be read synchronously).
   */
  [Symbol.toPrimitive](hint: string): number | string {
    if (hint === 'string' || (hint === 'default' && (this.size !== 1 || this.storage.device !== 'cpu'))) return this.toString();
    this.#checkAlive('conversion to a number');
    if (this.storage.device !== 'cpu') throw syncReadError('conversion to a number', 'await t.itemAsync()');
    if (this.size !== 1) {
      throw new ValueError(`a tensor of shape ${fmtShape(this.shape)} with ${this.size} elements is ambiguous as a number or boolean; reduce it first (.any(), .all(), .sum()) or use item() on one element`);
    }
    const v = readElementSync(this.storage, this.dtype, this.offset);
    this.#observed([v], hint === 'number' ? 'a comparison or Number()' : 'conversion to a primitive');
    return fromElement(v, this.dtype);
  }

  // Elementwise.
  add(other: TensorLike): Tensor { return E.add(this, other); }
  sub(other: TensorLike): Tensor { return E.sub(this, other); }
  mul(other: TensorLike): Tensor { return E.mul(this, other); }
  div(other: TensorLike): Tensor { return E.div(this, other); }
  pow(exponent: TensorLike): Tensor { return E.pow(this, exponent); }
  remainder(other: TensorLike): Tensor { return E.remainder(this, other); }
  maximum(other: TensorLike): Tensor { return E.maximum(this, other); }
  minimum(other: TensorLike): Tensor { return E.minimum(this, other); }
  neg(): Tensor { return E.neg(this); }
  abs(): Tensor { return E.abs(this); }
  sign(): Tensor { return E.sign(this); }
  reciprocal(): Tensor { return E.reciprocal(this); }
  exp(): Tensor { return E.exp(this); }
  log(): Tensor { return E.log(this); }
  log1p(): Tensor { return E.log1p(this); }
  expm1(): Tensor { return E.expm1(this); }
  sqrt(): Tensor { return E.sqrt(this); }
  rsqrt(): Tensor { return E.rsqrt(this); }
  square(): Tensor { return E.square(this); }
  sin(): Tensor { return E.sin(this); }
  cos(): Tensor { return E.cos(this); }
  tan(): Tensor { return E.tan(this); }
  tanh(): Tensor { return E.tanh(this); }
  erf(): Tensor { return E.erf(this); }
  erfc(): Tensor { return E.erfc(this); }
  sigmoid(): Tensor { return E.sigmoid(this); }
  relu(): Tensor { return E.relu(this); }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return E.gelu(this, approximate); }
  silu(): Tensor { return E.silu(this); }
  floor(): Tensor { return E.floor(this); }
  ceil(): Tensor { return E.ceil(this); }
  round(): Tensor { return E.round(this); }
  clamp(min?: number | null, max?: number | null): Tensor { return E.clamp(this, min, max); }
  isnan(): Tensor { return E.isnan(this); }
  lt(other: TensorLike): Tensor { return E.lt(this, other); }
  le(other: TensorLike): Tensor { return E.le(this, other); }
  gt(other: TensorLike): Tensor { return E.gt(this, other); }
  ge(other: TensorLike): Tensor { return E.ge(this, other); }
  eq(other: TensorLike): Tensor { return E.eq(this, other); }
  ne(other: TensorLike): Tensor { return E.ne(this, other); }
  logicalAnd(other: TensorLike): Tensor { return E.logicalAnd(this, other); }
  logicalOr(other: TensorLike): Tensor { return E.logicalOr(this, other); }
  logicalNot(): Tensor { return E.logicalNot(this); }
  where(cond: Tensor, other: TensorLike): Tensor { return E.where(cond, this, other); }
  cast(dtype: DType | 'int64'): Tensor { return E.cast(this, dtype); }
  /** A float16 copy (PyTorch's `.half()`): values rounded to nearest even half. */
  half(): Tensor { return E.cast(this, 'float16'); }
  /**
   * Converts to `dtype`, or moves to `device` (a no-op when already so). webgpu → cpu is
   * asynchronous and throws here, naming `await t.cpu()`.
   */
  to(target: DType | 'int64' | Device): Tensor {
    if (isDevice(target)) return toDevice(this, target);
    if (isDType(target) || target === 'int64') return E.cast(this, target);
    const valid = `(devices: cpu, webgpu; dtypes: float16, float32, float64, int32, uint8, bool, int64)`;
    if (typeof target === 'string' && /^(cuda|mps|gpu|xpu)(:\d+)?$/.test(target)) {
      throw new DeviceError(`to: unknown device ${target} ${valid}; kiln's GPU device is 'webgpu'`);
    }
    throw new DTypeError(`to: unknown device or dtype ${String(target)} ${valid}`);
  }

  // Reductions.
  sum(axis?: number | number[] | null, keepdim = false): Tensor { return R.sum(this, axis, keepdim); }
  mean(axis?: number | number[] | null, keepdim = false): Tensor { return R.mean(this, axis, keepdim); }
  prod(axis?: number | number[] | null, keepdim = false): Tensor { return R.prod(this, axis, keepdim); }
  max(axis?: number | number[] | null, keepdim = false): Tensor { return R.max(this, axis, keepdim); }
  min(axis?: number | number[] | null, keepdim = false): Tensor { return R.min(this, axis, keepdim); }
  /** PyTorch's `max(dim)`: `{ values, indices }` along one axis (`max(axis)` gives the values only). */
  maxWithIndices(axis: number, keepdim = false): R.ValuesIndices { return R.maxWithIndices(this, axis, keepdim); }
  /** PyTorch's `min(dim)`: `{ values, indices }` along one axis. */
  minWithIndices(axis: number, keepdim = false): R.ValuesIndices { return R.minWithIndices(this, axis, keepdim); }
  argmax(axis?: number | null, keepdim = false): Tensor { return R.argmax(this, axis, keepdim); }
  argmin(axis?: number | null, keepdim = false): Tensor { return R.argmin(this, axis, keepdim); }
  var(axis?: number | number[] | null, keepdim = false, correction = 1): Tensor { return R.variance(this, axis, keepdim, correction); }
  std(axis?: number | number[] | null, keepdim = false, correction = 1): Tensor { return R.std(this, axis, keepdim, correction); }
  logsumexp(axis?: number | number[] | null, keepdim = false): Tensor { return R.logsumexp(this, axis, keepdim); }
  softmax(axis = -1): Tensor { return R.softmax(this, axis); }
  logSoftmax(axis = -1): Tensor { return R.logSoftmax(this, axis); }
  any(axis?: number | number[] | null, keepdim = false): Tensor { return R.any(this, axis, keepdim); }
  norm(p: N.NormOrder = 2, axis?: number | number[] | null, keepdim = false): Tensor { return N.norm(this, p, axis, keepdim); }
  isclose(other: Tensor, options?: N.CloseOptions): Tensor { return N.isclose(this, other, options); }
  allclose(other: Tensor, options?: N.CloseOptions): boolean { return N.allclose(this, other, options); }
  cumsum(axis: number): Tensor { return O.cumsum(this, axis); }
  cumprod(axis: number): Tensor { return O.cumprod(this, axis); }
  sort(axis = -1, descending = false): O.Sorted { return O.sort(this, axis, descending); }
  argsort(axis = -1, descending = false): Tensor { return O.argsort(this, axis, descending); }
  topk(k: number, axis = -1, largest = true): O.Sorted { return O.topk(this, k, axis, largest); }
  all(axis?: number | number[] | null, keepdim = false): Tensor { return R.all(this, axis, keepdim); }

  // Shape and views.
  reshape(shape: number[]): Tensor { return S.reshape(this, shape); }
  view(shape: number[]): Tensor { return S.view(this, shape); }
  flatten(startAxis = 0, endAxis = -1): Tensor { return S.flatten(this, startAxis, endAxis); }
  squeeze(axis?: number | number[]): Tensor { return S.squeeze(this, axis); }
  unsqueeze(axis: number): Tensor { return S.unsqueeze(this, axis); }
  permute(dims: number[]): Tensor { return S.permute(this, dims); }
  transpose(dim0: number, dim1: number): Tensor { return S.transpose(this, dim0, dim1); }
  /** Transpose of a tensor of at most 2 dims. */
  t(): Tensor { return S.t(this); }
  expand(shape: number[]): Tensor { return S.expand(this, shape); }
  broadcastTo(shape: number[]): Tensor { return S.broadcastTo(this, shape); }
  slice(axis: number, start?: number | null, end?: number | null, step = 1): Tensor { return S.slice(this, axis, start, end, step); }
  narrow(axis: number, start: number, length: number): Tensor { return S.narrow(this, axis, start, length); }
  contiguous(): Tensor { return S.contiguous(this); }
  clone(): Tensor { return S.clone(this); }
  split(sizes: number | number[], axis = 0): Tensor[] { return S.split(this, sizes, axis); }
  chunk(chunks: number, axis = 0): Tensor[] { return S.chunk(this, chunks, axis); }
  /** The slice at `index` along `axis`, with that dim removed (a view). */
  select(axis: number, index: number): Tensor { return X.index(this, ...new Array<X.IndexSpec>(normalizeAxis('select', axis, this.ndim)).fill(':'), index); }
  tril(diagonal = 0): Tensor { return A.tril(this, diagonal); }
  triu(diagonal = 0): Tensor { return A.triu(this, diagonal); }
  flip(axes: number | number[]): Tensor { return A.flip(this, axes); }
  roll(shifts: number | number[], axes?: number | number[]): Tensor { return A.roll(this, shifts, axes); }
  repeat(repeats: number[]): Tensor { return A.repeat(this, repeats); }
  tile(reps: number[]): Tensor { return A.tile(this, reps); }
  movedim(source: number, destination: number): Tensor { return A.movedim(this, source, destination); }

  // Linear algebra and indexing.
  matmul(other: Tensor): Tensor { return L.matmul(this, other); }
  gather(axis: number, index: Tensor): Tensor { return I.gather(this, axis, index); }
  indexSelect(axis: number, index: Tensor): Tensor { return I.indexSelect(this, axis, index); }
  /** PyTorch's `x[...]`: `x.index(0, ':', null, '1:5:2', idx, mask)` (see IndexSpec). */
  index(...specs: X.IndexSpec[]): Tensor { return X.index(this, ...specs); }
  indexPut(indices: Tensor[], values: TensorLike, accumulate = false): Tensor { return X.indexPut(this, indices, values, accumulate); }
  maskedFill(mask: Tensor, value: TensorLike): Tensor { return X.maskedFill(this, mask, value); }
  nonzero(): Tensor { return X.nonzero(this); }

  // In place.
  add_(other: TensorLike): this { return P.add_(this, other); }
  sub_(other: TensorLike): this { return P.sub_(this, other); }
  mul_(other: TensorLike): this { return P.mul_(this, other); }
  div_(other: TensorLike): this { return P.div_(this, other); }
  copy_(src: TensorLike): this { return P.copy_(this, src); }
  fill_(value: Scalar): this { return P.copy_(this, value, 'fill_'); }
  zero_(): this { return P.copy_(this, 0, 'zero_'); }
  pow_(exponent: TensorLike): this { return P.pow_(this, exponent); }
  clamp_(min?: number | null, max?: number | null): this { return P.clamp_(this, min, max); }
  neg_(): this { return P.unary_('neg_', this, E.neg); }
  abs_(): this { return P.unary_('abs_', this, E.abs); }
  exp_(): this { return P.unary_('exp_', this, E.exp); }
  log_(): this { return P.unary_('log_', this, E.log); }
  sqrt_(): this { return P.unary_('sqrt_', this, E.sqrt); }
  relu_(): this { return P.unary_('relu_', this, E.relu); }
  sigmoid_(): this { return P.unary_('sigmoid_', this, E.sigmoid); }
  tanh_(): this { return P.unary_('tanh_', this, E.tanh); }
  maskedFill_(mask: Tensor, value: TensorLike): this { return P.maskedFill_(this, mask, value); }
  /** Writes `values` at `indices` in place (see indexPut). */
  indexPut_(indices: Tensor[], values: TensorLike, accumulate = false): this { return P.indexPut_(this, indices, values, accumulate); }
}

export type { Nested };

setTensorCheck((v: unknown): v is Tensor => v instanceof Tensor);
