/**
 * The browser test page: runs the workload on the CPU and, where the page has an adapter,
 * on WebGPU, and leaves the results on `window.kilnReport` for the test to read.
 */
import { cpuEngineInfo, webgpu } from 'kiln';
import { wasmFeatures } from '../../../runtime/wasm/features.js';
import { runWorkload, type PageReport } from './workload.js';

const status = document.getElementById('status')!;
try {
  const cpu = await runWorkload('cpu');
  let gpu: PageReport['webgpu'];
  try {
    await webgpu.init();
    gpu = await runWorkload('webgpu');
  } catch (e) {
    gpu = { error: (e as Error).message };
  }
  const report: PageReport = {
    isolated: globalThis.crossOriginIsolated === true,
    sharedMemory: typeof SharedArrayBuffer !== 'undefined',
    cpuEngine: { engine: cpuEngineInfo().engine, reason: cpuEngineInfo().reason },
    relaxedSimd: wasmFeatures().relaxedSimd,
    cpu,
    webgpu: gpu,
  };
  (window as unknown as { kilnReport: PageReport }).kilnReport = report;
  status.textContent = 'done';
} catch (e) {
  status.textContent = `error: ${(e as Error).stack ?? String(e)}`;
}
