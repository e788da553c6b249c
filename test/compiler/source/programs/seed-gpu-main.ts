/**
 * Runs the seed loop on WebGPU (./seed-gpu.ts) and prints one JSON line with what it
 * reported. Run by the device-loop test as `node --import tsx --import src/register.ts`.
 */
import { webgpu } from '../../../../src/index.js';
import { run } from './seed-gpu.js';

console.log(JSON.stringify(await run()));
webgpu.destroy();
