/**
 * The gemm module on its own: every element is the float32 sum over k in order whatever the
 * register block, k block and row block (so the blocking may be tuned without changing a
 * bit), and the fused multiply-add variant, run where relaxed SIMD is switched on, gives
 * eager and jit the same bits at any thread count.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { wasmFeatures } from '../../../../runtime/wasm/features.js';
import { rng, uniform } from '../../../helpers.js';
import { referenceGemm, runGemm } from './gemm-harness.js';

const child = fileURLToPath(new URL('./fixtures/gemm-fma-child.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../../', import.meta.url));

describe.runIf(wasmFeatures().simd)('gemm module', () => {
  it('sums over k in order for every register block, k block and row block', () => {
    const next = rng(21);
    for (const [m, n, k] of [[13, 21, 37], [1, 3, 1], [9, 8, 600]] as const) {
      const a = Float32Array.from(uniform(next, m * k, -2, 2)), b = Float32Array.from(uniform(next, k * n, -2, 2));
      const want = Array.from(referenceGemm(a, b, m, n, k));
      for (const [mr, nr] of [[4, 8], [1, 4], [3, 12], [5, 8], [2, 16]] as const) {
        for (const [kc, mc] of [[512, 64], [1, 1], [3, 7], [k, 5], [8, 100]] as const) {
          const got = runGemm({ mr, nr, fma: false, kc, mc }, a, b, m, n, k);
          expect(Array.from(got), `${m}x${n}x${k} on ${mr}x${nr}, kc ${kc}, mc ${mc}`).toEqual(want);
        }
      }
    }
  });

  it('with relaxed SIMD fuses the multiply-add, the same for eager, jit and two threads', () => {
    const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', child], {
      cwd: root, env: { ...process.env, KILN_CPU: '' }, encoding: 'utf8', timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`relaxed-SIMD child exited with ${r.status}:\n${r.stderr}`);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, boolean | number>;
    expect(report).toEqual({
      fmaChosen: true, blockingFree: true, fusedSomewhere: true, maxRelError: report.maxRelError,
      jitEqualsEager: true, twoThreadsEqualOne: true,
    });
    expect(report.maxRelError).toBeLessThan(1e-4);
  });
});
