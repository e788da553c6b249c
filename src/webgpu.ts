/**
 * The WebGPU device of eager tensors. Acquiring an adapter is asynchronous, so it happens
 * once, explicitly: `await webgpu.init()` before the first WebGPU tensor. Everything after
 * that (creating tensors, running ops) is synchronous; only reading values back is not.
 */
import { webGpuBackend } from '../compiler/backends.js';
import type { KernelSpec } from '../compiler/kernel.js';
import type { WebGpuBackend } from '../runtime/webgpu/backend.js';
import { acquireDevice, type AcquireOptions } from '../runtime/webgpu/device.js';
import { DeviceError } from '../runtime/errors.js';
import type { PoolStats } from '../runtime/webgpu/buffers.js';

let current: WebGpuBackend<KernelSpec> | undefined;
let pending: Promise<WebGpuBackend<KernelSpec>> | undefined;

/** What `init` acquired. */
export interface WebGpuInfo {
  /** The adapter's vendor, architecture, device and description. */
  adapter: string;
}

/**
 * Acquires the WebGPU device (idempotent; concurrent calls share one acquisition). Throws a
 * DeviceError saying how to get an adapter when none exists.
 */
export async function init(options: AcquireOptions = {}): Promise<WebGpuInfo> {
  if (current === undefined) {
    pending ??= acquireDevice(options).then((gpu) => (current = webGpuBackend(gpu)));
    try {
      await pending;
    } finally {
      pending = undefined;
    }
  }
  return { adapter: current!.gpu.adapter };
}

/** True once `init` has acquired a device. */
export function isReady(): boolean {
  return current !== undefined;
}

/** @internal The device's backend; throws naming the fix when `init` has not run. */
export function eagerGpu(): WebGpuBackend<KernelSpec> {
  if (current === undefined) {
    throw new DeviceError("webgpu: no device yet; call `await webgpu.init()` (import { webgpu } from 'kiln') before creating or moving tensors to 'webgpu'");
  }
  return current;
}

/**
 * True when the device stores float16 tensors (its adapter has `shader-f16`); without it,
 * creating a float16 tensor on WebGPU throws a DTypeError. False before `init`.
 */
export function supportsFloat16(): boolean {
  return current?.gpu.shaderF16 === true;
}

/** Submits the WebGPU work recorded so far without waiting for it. */
export function flush(): void {
  current?.flush();
}

/** Buffer pool counters of the device's storage (undefined before `init`). */
export function poolStats(): PoolStats | undefined {
  return current?.storage.stats();
}

/**
 * Releases the device and every pooled buffer, so Node can exit. WebGPU tensors alive
 * afterwards are unusable; a later `init` acquires a fresh device.
 */
export function destroy(): void {
  const c = current;
  current = undefined;
  if (c === undefined) return;
  c.destroy();
  c.gpu.destroy();
}
