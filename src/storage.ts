/**
 * Tensor storage: a backend and a buffer handle it owns. Elements are reached only through
 * the backend (alloc, write, readSync/read, copy, free), so a backend chooses its buffers
 * freely (typed arrays, pooled GPU buffers, ranges of one WebAssembly memory) and nothing
 * above runtime/ indexes into them.
 */
import type { DType, TypedArray } from '../runtime/dtype.js';
import { DeviceError, InternalError } from '../runtime/errors.js';
import { unreachable } from '../runtime/unreachable.js';
import type { WebGpuBackend, WebGpuBuffer } from '../runtime/webgpu/backend.js';
import type { KernelSpec } from '../compiler/kernel.js';
import { tensorCpu, wasm, type CpuBuffer, type CpuEngineBackend } from '../compiler/backends.js';
import type { WasmBuffer } from '../runtime/wasm/backend.js';
import { cpuEngine } from '../runtime/wasm/engine.js';

/** Fields every storage has. `version` counts in-place writes. */
interface StorageBase {
  version: number;
  /** @internal Tensors over this storage neither disposed nor collected; the last one releases it. */
  refs?: number;
}

/**
 * Elements on the CPU, in a buffer of the process's CPU engine (a range of the Wasm memory,
 * or a typed array on the JavaScript engine). The buffer is replaced (never resized) when a
 * compiled call commits its writes. `life` says who gives the buffer back (see CpuLife).
 */
export interface CpuStorage extends StorageBase {
  readonly device: 'cpu';
  readonly backend: CpuEngineBackend;
  buffer: CpuBuffer;
  life: CpuLife;
  /** What the registry holds for it once 'registered'. */
  ticket: Ticket | undefined;
}

/**
 * Who gives a CPU storage's buffer back: nobody yet ('pending': the last dispose will, and
 * if none comes a large one joins the registry at the next flush, a small one is left to
 * the Wasm backend's spill), the registry once the storage is unreachable ('registered'),
 * nobody any more ('released'), or never this storage ('borrowed': a replay's shadow over
 * another storage's buffer).
 */
export type CpuLife = 'pending' | 'registered' | 'released' | 'borrowed';

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

/**
 * Whether CPU buffers must be given back: Wasm memory is kiln's to manage, typed arrays
 * belong to the garbage collector (so the JavaScript engine registers nothing).
 */
const freesBuffers = cpuEngine() === 'wasm';

/**
 * What the registry holds for a CPU storage: its buffer while the registry is the one to give
 * it back. Never the storage itself, so registering keeps nothing alive.
 */
export interface Ticket {
  buffer: CpuBuffer | undefined;
}

/**
 * Gives back the buffer of a CPU storage that became unreachable without every tensor over
 * it being disposed. One entry per storage (an op's output), not per tensor: views share it.
 * Entries are never unregistered (a dispose empties the ticket instead): unregister tokens
 * put every entry in a table the collector walks, which made each later op of a process with
 * 50,000 entries 10–30× slower (measured on eager add [16]).
 */
const collected = new FinalizationRegistry<Ticket>((ticket) => {
  if (ticket.buffer !== undefined) tensorCpu.free(ticket.buffer);
});

function register(s: CpuStorage): void {
  s.ticket = { buffer: s.buffer };
  collected.register(s, s.ticket);
}

/**
 * New storages join the registry in batches, so a storage disposed soon after it was made
 * (tidy scopes, a training step's temporaries) never costs a registry entry: an entry costs
 * microseconds when its storage goes (measured 2–6 µs per entry in Node 20 on a loaded
 * 2-core machine, several times a small eager op). Waiting is safe: the registry's callbacks
 * run only between tasks, and a flush comes at the end of the current one, or sooner after
 * PENDING_LIMIT storages or PENDING_BYTES bytes.
 */
const pending: CpuStorage[] = [];
const PENDING_LIMIT = 512;
const PENDING_BYTES = 1 << 24;
let pendingBytes = 0;

function flushPending(): void {
  for (let i = 0; i < pending.length; i++) {
    const s = pending[i]!;
    if (s.life !== 'pending') continue;
    s.life = 'registered';
    register(s);
  }
  pending.length = 0;
  pendingBytes = 0;
}

/**
 * The smallest storage worth a registry entry. A dropped storage's buffer comes back either
 * through the registry (between tasks, 2–6 µs per entry, see above) or by being spilled to
 * the JavaScript heap when the Wasm memory fills (its bytes copied into a fresh array, then
 * collected: 1.0 µs for 64 bytes, 3.6 µs for 256, 6.8 µs for 1 KiB, 22 µs for 4 KiB, measured
 * per dropped buffer against one freed at once, in Node 20 on a loaded 2-core machine). So
 * storages from 1 KiB up, whose spill costs more than an entry, are registered, and smaller
 * ones are left to the spill. A synchronous loop never runs the registry: there the spill is
 * what keeps the memory bounded, whatever the size.
 */
export const REGISTRY_MIN_BYTES = 1024;

/** A storage of `elements` zeros on the CPU (of anything, when `uninitialised`: its writer fills it). */
export function cpuStorage(dtype: DType, elements: number, uninitialised = false): CpuStorage {
  const buffer = tensorCpu.alloc(dtype, elements, uninitialised);
  const s: CpuStorage = {
    device: 'cpu', backend: tensorCpu, buffer, version: 0, refs: 0, life: 'pending',
    ticket: undefined,
  };
  if (freesBuffers && storageBytes(s) >= REGISTRY_MIN_BYTES) {
    if (pending.length === 0) queueMicrotask(flushPending);
    pending.push(s);
    pendingBytes += storageBytes(s);
    if (pending.length >= PENDING_LIMIT || pendingBytes >= PENDING_BYTES) flushPending();
  }
  return s;
}

/**
 * Keeps a compiled program's own CPU storage in the Wasm memory: used on every call, it is
 * never spilled. Registered whatever its size, so a dropped program's buffers still come back.
 */
export function pinStorage(s: Storage): void {
  if (s.device !== 'cpu' || !freesBuffers || s.life !== 'pending') return;
  wasm.pin(s.buffer as WasmBuffer);
  s.life = 'registered';
  register(s);
}

/** A CPU storage holding a copy of the host elements `data`. */
export function cpuStorageOf(dtype: DType, data: TypedArray): CpuStorage {
  const s = cpuStorage(dtype, data.length);
  tensorCpu.write(s.buffer, dtype, data);
  return s;
}

/** A storage that reads and writes `real`'s buffer without owning it (a replay's copy-on-write shadow). */
export function borrowedStorage(real: CpuStorage): CpuStorage {
  const { backend, buffer } = real;
  return { device: 'cpu', backend, buffer, version: 0, refs: 0, life: 'borrowed', ticket: undefined };
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
      return 'ptr' in s.buffer ? s.buffer.bytes : s.buffer.byteLength;
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

/**
 * Element `index` of `s` as stored (half bits for float16), read synchronously (CPU storage
 * only): a typed array is indexed in place, with no one-element copy (item() and a lifted
 * loop's condition read one element per call or iteration).
 */
export function readElementSync(s: Storage, dtype: DType, index: number): number {
  if (s.device !== 'cpu') throw new DeviceError('read: the values of a webgpu tensor can only be read asynchronously');
  const b = s.buffer;
  return ArrayBuffer.isView(b) ? (b as TypedArray)[index]! : wasm.readElement(b, dtype, index);
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
      if (s.life === 'borrowed' || s.life === 'released') return;
      if (s.ticket !== undefined) s.ticket.buffer = undefined;
      s.life = 'released';
      s.backend.free(s.buffer);
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
    if (!freesBuffers) return;
    // What the registry gives back follows the buffers (a pending storage registers its buffer when flushed).
    for (const s of [a, b]) if (s.ticket !== undefined) s.ticket.buffer = s.buffer;
  } else if (a.device === 'webgpu' && b.device === 'webgpu' && a.backend === b.backend) {
    [a.buffer, b.buffer] = [b.buffer, a.buffer];
  } else {
    throw new InternalError(`storage: cannot swap the buffers of storages on ${a.device} and ${b.device}`);
  }
}
