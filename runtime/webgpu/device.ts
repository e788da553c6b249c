/// <reference types="@webgpu/types" />
/**
 * Acquiring a WebGPU device: `navigator.gpu` where the platform has one (browsers, Deno),
 * else Dawn through the `webgpu` package in Node. The device gets the adapter's maxima for
 * the limits kiln's kernels grow into (storage buffers per kernel, buffer sizes); every
 * other limit stays at WebGPU's defaults, so a kernel that runs here runs everywhere. The one
 * optional feature requested is `shader-f16`, where the adapter has it (float16 storage).
 */
import { DeviceError } from '../errors.js';
import { installEventWaitThrottle, type ThrottleOptions } from './throttle.js';

/** Limits raised to the adapter's maxima when the device is created. */
export const REQUESTED_LIMITS = ['maxStorageBuffersPerShaderStage', 'maxStorageBufferBindingSize', 'maxBufferSize'] as const;

/** How to acquire the device. */
export interface AcquireOptions {
  /** Options for Dawn's `create()` in Node (e.g. 'backend=vulkan'); ignored where navigator.gpu exists. */
  dawnOptions?: string[];
  /** Throttle Dawn's event polling in Node (default true); false, or options for the back-off. */
  throttle?: boolean | ThrottleOptions;
  powerPreference?: GPUPowerPreference;
  /**
   * Request the adapter's `shader-f16` feature where it has one (default true), which float16
   * tensors need on WebGPU; false acquires a device without it, as an adapter lacking it gives.
   */
  shaderF16?: boolean;
}

/** A device and what kiln needs to know about it. */
export interface GpuContext {
  readonly device: GPUDevice;
  readonly limits: GPUSupportedLimits;
  /** The adapter's vendor, architecture, device and description, for logs and skip messages. */
  readonly adapter: string;
  /** True when the device comes from Dawn in Node (the `webgpu` package). */
  readonly dawn: boolean;
  /** True when the device has `shader-f16`: float16 tensors are stored there as 2-byte halves. */
  readonly shaderF16: boolean;
  /** Validation and out-of-memory errors reported outside error scopes, and device loss, since the last call. */
  takeErrors(): string[];
  /** Destroys the device and lets go of the GPU object, so Node can exit. Idempotent. */
  destroy(): void;
}

/** The package that brings Dawn to Node. */
const DAWN_PACKAGE = 'webgpu';

const LINUX_HINT = "On Linux without a GPU, install Mesa's Vulkan driver (lavapipe, package mesa-vulkan-drivers 24 or newer) and the Vulkan loader (libvulkan1); scripts/setup-webgpu.sh does both.";

function noAdapter(detail: string): DeviceError {
  const hint = typeof process !== 'undefined' && process.platform === 'linux' ? ` ${LINUX_HINT}` : '';
  return new DeviceError(`webgpu: no GPU adapter available (${detail}).${hint}`);
}

/** The platform's GPU object, or Dawn's from the `webgpu` package in Node. */
async function gpuEntry(options: AcquireOptions): Promise<{ gpu: GPU; dawn: boolean }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  // Node has no GPU of its own: a navigator.gpu there was put in place from the 'webgpu'
  // package (as TensorFlow.js's WebGPU backend needs), so it is Dawn and wants the throttle.
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== undefined;
  if (nav?.gpu !== undefined) return { gpu: nav.gpu, dawn: node };
  let mod: { create: (options: string[]) => GPU };
  try {
    // A specifier bundlers do not follow: Dawn is a native Node addon, and a page that has
    // no navigator.gpu has no WebGPU at all, so the import fails there and says so below.
    mod = (await import(/* @vite-ignore */ DAWN_PACKAGE)) as typeof mod;
  } catch (e) {
    throw noAdapter(`navigator.gpu is missing and the 'webgpu' package could not be loaded: ${(e as Error).message}`);
  }
  try {
    return { gpu: mod.create(options.dawnOptions ?? []), dawn: true };
  } catch (e) {
    throw noAdapter(`Dawn could not start: ${(e as Error).message}`);
  }
}

/**
 * Acquires a device. Throws a DeviceError saying how to get an adapter when there is none
 * (on Linux without a GPU: Mesa's lavapipe).
 */
export async function acquireDevice(options: AcquireOptions = {}): Promise<GpuContext> {
  const { gpu, dawn } = await gpuEntry(options);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : undefined);
  } catch (e) {
    throw noAdapter(`requestAdapter failed: ${(e as Error).message}`);
  }
  if (adapter === null) throw noAdapter('requestAdapter returned null');
  const requiredLimits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  let device: GPUDevice;
  try {
    const f16 = options.shaderF16 !== false && adapter.features.has('shader-f16');
    const requiredFeatures: GPUFeatureName[] = f16 ? ['shader-f16'] : [];
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch (e) {
    throw new DeviceError(`webgpu: the adapter refused a device: ${(e as Error).message}`);
  }
  const info = adapter.info;
  const name = [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' / ') || 'unknown adapter';

  const errors: string[] = [];
  device.addEventListener('uncapturederror', (event) => {
    errors.push((event as GPUUncapturedErrorEvent).error.message);
  });
  void device.lost.then((info) => {
    if (info.reason !== 'destroyed') errors.push(`device lost: ${info.message}`);
  });
  const throttle = options.throttle ?? true;
  const removeThrottle = dawn && throttle !== false ? installEventWaitThrottle(throttle === true ? {} : throttle) : undefined;

  // Held until destroy: dawn.node keeps Node alive while its GPU object is reachable.
  let held: { gpu?: GPU; adapter?: GPUAdapter } = { gpu, adapter };
  let destroyed = false;
  return {
    device,
    limits: device.limits,
    adapter: name,
    dawn,
    shaderF16: device.features.has('shader-f16'),
    takeErrors: () => errors.splice(0),
    destroy() {
      if (destroyed) return;
      destroyed = true;
      device.destroy();
      removeThrottle?.();
      held = {};
    },
  };
}
