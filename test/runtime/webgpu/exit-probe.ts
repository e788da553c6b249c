/**
 * Run as a child process by runtime.test.ts: acquires a device, runs one kernel, destroys
 * the device and returns without process.exit, so the test sees whether Node exits by itself.
 */
import { GpuKernels } from '../../webgpu-kernels.js';
import { lowerElementwise } from '../../../compiler/lower.js';
import { acquireDevice } from '../../../runtime/webgpu/device.js';

const gpu = await acquireDevice();
const runner = new GpuKernels(gpu);
const x = { dtype: 'float32' as const, shape: [3], strides: [1], offset: 0 };
const [out] = await runner.run(lowerElementwise('add', [x, x], x).build(), [new Float32Array(3), Float32Array.of(1, 2, 3), Float32Array.of(1, 2, 3)]);
console.log(JSON.stringify(Array.from(out!)));
runner.destroy();
gpu.destroy();
