/**
 * The WebGPU device for test files. Without an adapter a file's GPU suites skip with one
 * line saying why; with KILN_REQUIRE_WEBGPU=1 a missing adapter fails the file instead.
 */
import { acquireDevice, type GpuContext } from '../runtime/webgpu/device.js';

/** True when the environment demands WebGPU tests run (CI machines with lavapipe). */
export const requireWebGpu = process.env.KILN_REQUIRE_WEBGPU === '1';

/** A device for `suite`, or undefined after printing one line when no adapter exists. */
export async function gpuForTests(suite: string): Promise<GpuContext | undefined> {
  try {
    return await acquireDevice();
  } catch (e) {
    const reason = (e as Error).message.replace(/\s+/g, ' ');
    if (requireWebGpu) throw new Error(`${suite}: KILN_REQUIRE_WEBGPU=1 but ${reason}`);
    console.warn(`${suite}: skipping WebGPU tests: ${reason} (set KILN_REQUIRE_WEBGPU=1 to make this a failure)`);
    return undefined;
  }
}

/** Acquires kiln's eager WebGPU device for `suite`: true when ready, false (after one line) when there is no adapter. */
export async function initEagerForTests(suite: string): Promise<boolean> {
  const { init } = await import('../src/webgpu.js');
  try {
    await init();
    return true;
  } catch (e) {
    const reason = (e as Error).message.replace(/\s+/g, ' ');
    if (requireWebGpu) throw new Error(`${suite}: KILN_REQUIRE_WEBGPU=1 but ${reason}`);
    console.warn(`${suite}: skipping WebGPU tests: ${reason} (set KILN_REQUIRE_WEBGPU=1 to make this a failure)`);
    return false;
  }
}
