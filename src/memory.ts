/**
 * Tensor lifetimes: reference counts on storage (a tensor and its views share one), explicit
 * `dispose()`, `tidy(fn)` scopes, and a FinalizationRegistry that releases what was never
 * disposed once the garbage collector finds it. GPU buffers go back to the device's pool
 * when the last tensor over them goes; `memory()` reports what is live per device.
 *
 * CPU tensors count references on their storage (the last dispose gives a Wasm buffer back
 * to the allocator at once) but are not registered one by one: a FinalizationRegistry entry
 * per tensor would cost several times an eager CPU op (measured 6 µs → 40+ µs per small op),
 * so src/storage.ts registers each CPU storage once instead. On the JavaScript engine the
 * buffers are typed arrays the garbage collector owns.
 */
import { ValueError } from '../runtime/errors.js';
import type { Tensor } from './tensor.js';
import { freeStorage, storageBytes, type Storage } from './storage.js';
import type { GradNode } from './autograd/node.js';
import { poolStats } from './webgpu.js';
import { cpuEngine } from '../runtime/wasm/engine.js';
import { wasmHeap } from '../runtime/wasm/memory.js';

interface Counts {
  tensors: number;
  bytes: number;
}

/** Live tensors and the bytes of their storage on one device. */
export interface DeviceMemory {
  /** Tensors (views included) neither disposed nor collected. */
  tensors: number;
  /** Bytes of the storage those tensors hold (GPU: 2 per float16 element, 4 per element of the rest, bool included). */
  bytes: number;
}

const live: Counts = { tensors: 0, bytes: 0 };

/** Drops one tensor's reference to `s`; the last one releases the storage. */
function drop(s: Storage): void {
  live.tensors--;
  s.refs = (s.refs ?? 1) - 1;
  if (s.refs > 0) return;
  live.bytes -= storageBytes(s);
  freeStorage(s);
}

// The held value is the storage, never the tensor, so registering keeps nothing alive.
const registry = new FinalizationRegistry<Storage>(drop);

const scopes: Tensor[][] = [];

/** @internal Counts a new tensor over `s`, and puts it in the innermost `tidy` scope. */
export function track(t: Tensor, s: Storage): void {
  if (scopes.length > 0) scopes[scopes.length - 1]!.push(t);
  if (s.device === 'cpu') {
    s.refs = (s.refs ?? 0) + 1;
    return;
  }
  const refs = (s.refs ?? 0) + 1;
  s.refs = refs;
  live.tensors++;
  if (refs === 1) live.bytes += storageBytes(s);
  registry.register(t, s, t);
}

/** @internal Releases a tensor's reference now (dispose). */
export function untrack(t: Tensor, s: Storage): void {
  if (s.device === 'cpu') {
    s.refs = (s.refs ?? 1) - 1;
    if (s.refs === 0) freeStorage(s);
    return;
  }
  registry.unregister(t);
  drop(s);
}

/** What `memory()` reports. */
export interface MemoryInfo {
  /** CPU buffers in the Wasm engine's memory (all zero on the JavaScript engine, whose arrays the collector owns). */
  cpu: {
    /** Bytes of the blocks live CPU storages hold (size classes round them up). */
    bytes: number;
    /** The WebAssembly.Memory's size: it grows when no free block fits and never shrinks. */
    memoryBytes: number;
  };
  /** WebGPU tensors and the bytes of their buffers (logical sizes; the pool rounds buffers up to powers of two). */
  webgpu: DeviceMemory & {
    /** Bytes held by pooled buffers, live and free (0 before `webgpu.init()`). */
    poolBytes: number;
  };
}

/** Live CPU buffer bytes in the Wasm memory, and live tensors and bytes on WebGPU. */
export function memory(): MemoryInfo {
  const pool = poolStats();
  const heap = cpuEngine() === 'wasm' ? wasmHeap().stats() : { liveBytes: 0, memoryBytes: 0 };
  const poolBytes = pool === undefined ? 0 : pool.liveBytes + pool.pooledBytes;
  return { cpu: { bytes: heap.liveBytes, memoryBytes: heap.memoryBytes }, webgpu: { ...live, poolBytes } };
}

/** Tensors found in a result: itself, or in arrays and plain objects (one level per nesting). */
function collect(value: unknown, into: Set<Tensor>, isTensor: (v: unknown) => v is Tensor, depth = 0): void {
  if (isTensor(value)) into.add(value);
  else if (depth < 8 && Array.isArray(value)) for (const v of value) collect(v, into, isTensor, depth + 1);
  else if (depth < 8 && value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, into, isTensor, depth + 1);
  }
}

/**
 * Adds to `keep` every tensor the autograd history of the kept ones saved: a returned loss
 * must stay differentiable after its scope ends, so what backward() reads is not disposed.
 */
function keepHistory(keep: Set<Tensor>): void {
  // Most scopes keep no history (inference, jit replays, optimizer steps): no set or stack for them.
  let stack: GradNode[] | undefined;
  for (const t of keep) if (t.gradFn) (stack ??= []).push(t.gradFn);
  if (stack === undefined) return;
  const seen = new Set<GradNode>();
  while (stack.length) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    for (const x of node.inputs ?? []) keep.add(x);
    if (node.out) keep.add(node.out);
    for (const e of node.edges ?? []) if (e !== null && !(tensorCheck?.(e) ?? false)) stack.push(e as GradNode);
  }
}

let tensorCheck: ((v: unknown) => v is Tensor) | undefined;

/** @internal Tells this module how to recognise tensors (tensor.ts imports this module, not the reverse). */
export function setTensorCheck(check: (v: unknown) => v is Tensor): void {
  tensorCheck = check;
}

/**
 * Takes `t` out of every open `tidy` scope, so it outlives them (TF.js's `keep`): for state
 * made inside a scope that must persist, such as an optimizer's moments created on its first
 * step. Returns `t`.
 */
export function keep<T extends Tensor>(t: T): T {
  for (const scope of scopes) {
    const i = scope.lastIndexOf(t);
    if (i >= 0) scope.splice(i, 1);
  }
  return t;
}

/**
 * Runs `fn` and disposes every tensor created inside it except those it returns (found in
 * the result itself, or inside arrays and plain objects) and what their autograd history
 * needs for backward(). Kept tensors belong to the enclosing scope, if any. `fn` must be synchronous: an async body would let tensors of
 * other work land in this scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Tensor[] = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    throw new ValueError('tidy: the function returned a Promise; tidy scopes must be synchronous (await outside, or dispose() tensors yourself)');
  }
  const keep = new Set<Tensor>();
  collect(result, keep, tensorCheck!);
  keepHistory(keep);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (keep.has(t)) parent?.push(t);
    else t.dispose();
  }
  return result;
}
