/**
 * Where WebAssembly has no SIMD, CPU tensors fall back to the JavaScript engine with no Wasm
 * kernel at all (not even the gemm), and a training step runs there under jit, bit for bit
 * equal to eager. The runtime without SIMD is a child process whose WebAssembly.validate
 * refuses SIMD modules before kiln loads, since the engine is chosen once per process.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./fixtures/no-simd-child.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('the CPU engine without WebAssembly SIMD', () => {
  it('picks the JavaScript engine, says why, compiles no Wasm module and trains with jit equal to eager', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', child], {
      cwd: root, env: { ...process.env, KILN_CPU: '', KILN_THREADS: '2' }, encoding: 'utf8', timeout: 90_000,
    });
    if (r.status !== 0) throw new Error(`child exited with ${r.status} (signal ${r.signal}):\n${r.stderr}`);
    const seen = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(seen).toEqual({
      engine: 'js', wasmKernels: false,
      reason: 'the fallback: this runtime has no WebAssembly SIMD, so kernels run as JavaScript loops',
      replays: 3, mismatches: 0, compiled: 0, threads: 1, wasmMemoryBytes: 0,
    });
  }, 120_000);
});
