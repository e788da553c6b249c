/**
 * Tensors on devices other than the CPU: allocating WebGPU storage, operands for GPU
 * kernels, moving tensors between devices, and asynchronous readback.
 */
import { executePrim, type Operand } from '../compiler/execute.js';
import { contiguousStrides, sizeOf } from '../compiler/ir/shape.js';
import type { Params, Prim } from '../compiler/ir/primitives.js';
import type { KernelSpec } from '../compiler/kernel.js';
import { ARRAY_OF, type DType, type TypedArray } from '../runtime/dtype.js';
import { DeviceError, DTypeError, ValueError } from '../runtime/errors.js';
import type { WebGpuBackend, WebGpuBuffer } from '../runtime/webgpu/backend.js';
import { readContiguous } from './read.js';
import { Tensor, type Device } from './tensor.js';
import { eagerGpu } from './webgpu.js';
import { moved } from './observers.js';

/** The WebGPU side of a tensor storage: a buffer of `length` elements and the backend owning it. */
export interface GpuStorage {
  readonly buffer: WebGpuBuffer;
  readonly length: number;
  readonly owner: WebGpuBackend<KernelSpec>;
}

/** Storage of `length` elements on `owner`, uninitialised. */
export function allocGpuStorage(owner: WebGpuBackend<KernelSpec>, dtype: DType, length: number): GpuStorage {
  return { buffer: owner.alloc(dtype, length), length, owner };
}

/** Storage on the current device holding `data`. */
export function uploadGpuStorage(data: TypedArray, dtype: DType): GpuStorage {
  const s = allocGpuStorage(eagerGpu(), dtype, data.length);
  s.owner.write(s.buffer, dtype, data);
  return s;
}

const DEVICES: readonly string[] = ['cpu', 'webgpu'];

/** True for the names of devices. */
export function isDevice(x: unknown): x is Device {
  return typeof x === 'string' && DEVICES.includes(x);
}

/** Throws for a device name that is not one. */
export function checkDevice(op: string, device: unknown): Device | undefined {
  if (device === undefined) return undefined;
  if (!isDevice(device)) throw new DeviceError(`${op}: unknown device ${String(device)} (valid: cpu, webgpu)`);
  return device;
}

function checkGpuDtype(op: string, dtype: DType): void {
  if (dtype === 'float64') {
    throw new DTypeError(`${op}: float64 tensors cannot live on webgpu: WGSL has no 64-bit float; cast to float32 first (or keep this computation on the cpu)`);
  }
}

/** A fresh contiguous WebGPU tensor with unspecified elements (an op's output). */
export function gpuEmpty(op: string, shape: number[], dtype: DType): Tensor {
  checkGpuDtype(op, dtype);
  const gpu = allocGpuStorage(eagerGpu(), dtype, sizeOf(shape));
  return new Tensor({ data: new ARRAY_OF[dtype](0), device: 'webgpu', version: 0, gpu }, shape, contiguousStrides(shape), 0, dtype);
}

/** The kernel-argument view of a WebGPU tensor. */
export function gpuOperand(t: Tensor): Operand<WebGpuBuffer> {
  const g = t.storage.gpu!;
  if (g.owner.isDestroyed) throw new DeviceError('webgpu: this tensor belongs to a device that was destroyed (webgpu.destroy()); create it again after webgpu.init()');
  return { data: g.buffer, dtype: t.dtype, shape: t.shape, strides: t.strides, offset: t.offset };
}

/** True for a CPU tensor holding one value (a 0-d scalar, possibly broadcast): such operands follow the other operands' device, as in PyTorch. */
export function isCpuScalar(t: Tensor): boolean {
  return t.device === 'cpu' && t.storage.data.length === 1 && t.strides.every((s) => s === 0);
}

/**
 * Runs `prim` on WebGPU into `out`. CPU scalar operands are uploaded for this launch only;
 * any other CPU operand is a DeviceError.
 */
export function executeGpu<P extends Prim>(prim: P | 'copy', params: Params<P>, inputs: readonly Tensor[], out: Tensor): void {
  const gpu = eagerGpu();
  const temps: WebGpuBuffer[] = [];
  const ops = inputs.map((x) => {
    if (x.device !== 'cpu') return gpuOperand(x);
    const data = gpu.alloc(x.dtype, 1);
    gpu.write(data, x.dtype, x.storage.data);
    temps.push(data);
    return { data, dtype: x.dtype, shape: x.shape, strides: x.strides, offset: 0 };
  });
  try {
    executePrim(gpu, prim as P, params, ops, gpuOperand(out));
  } finally {
    // Launches run in recording order, so the scalars' buffers may go back to the pool now.
    for (const b of temps) gpu.free(b);
  }
}

/** A copy of `t` on the GPU (contiguous; a leaf: moving between devices is not recorded by autograd). */
export function toGpu(t: Tensor): Tensor {
  checkGpuDtype('to', t.dtype);
  const values = readContiguous(t);
  const gpu = uploadGpuStorage(values, t.dtype);
  const out = new Tensor({ data: new ARRAY_OF[t.dtype](0), device: 'webgpu', version: 0, gpu }, t.shape.slice(), contiguousStrides(t.shape), 0, t.dtype);
  if (t.requiresGrad) out.requiresGrad = true;
  moved(t, out);
  return out;
}

/** The elements of `t` in row-major order, read back from its device. */
export async function readAsync(t: Tensor): Promise<TypedArray> {
  if (t.isDisposed) throw new ValueError('read: this tensor was disposed');
  if (t.device === 'cpu') return readContiguous(t);
  const gpu = eagerGpu();
  const n = t.size;
  if (n === 0) return new ARRAY_OF[t.dtype](0);
  if (t.isContiguous) return gpu.read(gpuOperand(t).data, t.dtype, t.offset, n);
  // A strided view is packed on the GPU first, so only its elements travel.
  const dense = gpu.alloc(t.dtype, n);
  try {
    executePrim(gpu, 'copy', {}, [gpuOperand(t)], { data: dense, dtype: t.dtype, shape: t.shape, strides: contiguousStrides(t.shape), offset: 0 });
    return await gpu.read(dense, t.dtype, 0, n);
  } finally {
    gpu.free(dense);
  }
}

/** `t` on `device`: itself when already there; a CPU→GPU upload; a GPU→CPU readback. */
export async function toDeviceAsync(t: Tensor, device: Device): Promise<Tensor> {
  if (t.device === device) return t;
  if (device === 'webgpu') return toGpu(t);
  const values = await readAsync(t);
  const out = Tensor.fromData(values, t.shape.slice(), t.dtype);
  if (t.requiresGrad) out.requiresGrad = true;
  return out;
}

/** The synchronous move behind `t.to(device)`; GPU→CPU cannot be synchronous and says what to use. */
export function toDevice(t: Tensor, device: Device): Tensor {
  if (t.device === device) return t;
  if (device === 'webgpu') return toGpu(t);
  throw new DeviceError("to('cpu'): reading a webgpu tensor back is asynchronous; use `await t.cpu()` (or `await t.toAsync('cpu')`)");
}
