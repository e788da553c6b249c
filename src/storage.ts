/**
 * Tensor storage: a backend and a buffer handle it owns. Elements are reached only through
 * the backend (alloc, write, readSync/read, copy, free), so a backend chooses its buffers
 * freely (typed arrays, pooled GPU buffers, ranges of one WebAssembly memory) and nothing
 * above runtime/ indexes into them.
 */
import type { CpuBackend } from '../runtime/cpu/backend.js';
import type { DType, TypedArray } from '../runtime/dtype.js';
import { DeviceError, InternalError } from '../runtime/errors.js';
import { unreachable } from '../runtime/unreachable.js';
import type { WebGpuBackend, WebGpuBuffer } from '../runtime/webgpu/backend.js';
import type { KernelSpec } from '../compiler/kernel.js';
import { cpu } from '../compiler/backends.js';

/** Fields every storage has. `version` counts in-place writes. */
interface StorageBase {
  version: number;
  /** @internal Tensors over this storage neither disposed nor collected; the last one releases it. */
  refs?: number;
}

/** Elements on the CPU. The buffer is replaced (never resized) when a compiled call commits its writes. */
export interface CpuStorage extends StorageBase {
  readonly device: 'cpu';
  readonly backend: CpuBackend<KernelSpec>;
  buffer: TypedArray;
}

/** Elements in a pooled WebGPU buffer (bool as one u32 each); swapped when a compiled call commits. */
export interface WebGpuStorage extends StorageBase {
  readonly device: 'webgpu';
  readonly backend: WebGpuBackend<KernelSpec>;
  buffer: WebGpuBuffer;
}

/** Elements shared by a tensor and its views: one variant per device. */
export type Storage = CpuStorage | WebGpuStorage;

/** Where a tensor's elements live. */
export type Device = Storage['device'];

/** A storage of `elements` zeros on the CPU. */
export function cpuStorage(dtype: DType, elements: number): CpuStorage {
  return { device: 'cpu', backend: cpu, buffer: cpu.alloc(dtype, elements), version: 0 };
}

/** A CPU storage holding a copy of the host elements `data`. */
export function cpuStorageOf(dtype: DType, data: TypedArray): CpuStorage {
  const s = cpuStorage(dtype, data.length);
  cpu.write(s.buffer, dtype, data);
  return s;
}

/** A storage of `elements` uninitialised elements on `backend`. */
export function webGpuStorage(backend: WebGpuBackend<KernelSpec>, dtype: DType, elements: number): WebGpuStorage {
  return { device: 'webgpu', backend, buffer: backend.alloc(dtype, elements), version: 0 };
}

/** A fresh storage on the same backend as `s`, holding a copy of its `elements` elements. */
export function copyOfStorage(s: Storage, dtype: DType, elements: number): Storage {
  switch (s.device) {
    case 'cpu': {
      const copy = cpuStorage(dtype, elements);
      s.backend.copy(s.buffer, 0, copy.buffer, 0, elements);
      return copy;
    }
    case 'webgpu': {
      const copy = webGpuStorage(s.backend, dtype, elements);
      s.backend.copy(s.buffer, 0, copy.buffer, 0, elements);
      return copy;
    }
    default:
      return unreachable(s, 'storage');
  }
}

/** Elements in `s`'s buffer. */
export function storageLength(s: Storage): number {
  return s.buffer.length;
}

/** Bytes `s` holds on its device (WebGPU: 2 per float16 element, 4 per element of the rest, bool included). */
export function storageBytes(s: Storage): number {
  switch (s.device) {
    case 'cpu':
      return s.buffer.byteLength;
    case 'webgpu':
      return s.buffer.length * s.buffer.bytes;
    default:
      return unreachable(s, 'storage');
  }
}

/** `length` elements of `s` from element `offset`, read synchronously (CPU storage only). */
export function readStorageSync(s: Storage, dtype: DType, offset: number, length: number): TypedArray {
  switch (s.device) {
    case 'cpu':
      return s.backend.readSync(s.buffer, dtype, offset, length);
    case 'webgpu':
      throw new DeviceError('read: the values of a webgpu tensor can only be read asynchronously');
    default:
      return unreachable(s, 'storage');
  }
}

/** `length` elements of `s` from element `offset`, after everything recorded on its device. */
export function readStorage(s: Storage, dtype: DType, offset: number, length: number): Promise<TypedArray> {
  switch (s.device) {
    case 'cpu':
      return s.backend.read(s.buffer, dtype, offset, length);
    case 'webgpu':
      return s.backend.read(s.buffer, dtype, offset, length);
    default:
      return unreachable(s, 'storage');
  }
}

/** Writes the host elements `data` into `s` at element `offset`. */
export function writeStorage(s: Storage, dtype: DType, data: TypedArray, offset = 0): void {
  switch (s.device) {
    case 'cpu':
      s.backend.write(s.buffer, dtype, data, offset);
      return;
    case 'webgpu':
      s.backend.write(s.buffer, dtype, data, offset);
      return;
    default:
      unreachable(s, 'storage');
  }
}

/** Gives `s`'s buffer back to its backend (the last tensor over it went). */
export function freeStorage(s: Storage): void {
  switch (s.device) {
    case 'cpu':
      s.backend.free();
      return;
    case 'webgpu':
      s.backend.free(s.buffer);
      return;
    default:
      unreachable(s, 'storage');
  }
}

/** The CPU storage `s` is, for code that runs only on the CPU (the caller checked the device). */
export function onCpu(s: Storage, op: string): CpuStorage {
  if (s.device !== 'cpu') throw new DeviceError(`${op}: expected a cpu tensor, got one on ${s.device}`);
  return s;
}

/** Exchanges the buffers of two storages on one backend (a compiled call commits what it wrote into a copy). */
export function swapBuffers(a: Storage, b: Storage): void {
  if (a.device === 'cpu' && b.device === 'cpu') {
    [a.buffer, b.buffer] = [b.buffer, a.buffer];
  } else if (a.device === 'webgpu' && b.device === 'webgpu' && a.backend === b.backend) {
    [a.buffer, b.buffer] = [b.buffer, a.buffer];
  } else {
    throw new InternalError(`storage: cannot swap the buffers of storages on ${a.device} and ${b.device}`);
  }
}
