/**
 * The gemm module on its own: every element is the float32 sum over k in order whatever the
 * register block, k block, row block and range of rows taken at a time (so the blocking and
 * the split over threads may be tuned without changing a bit), and the fused multiply-add variant, run where relaxed SIMD is switched on, gives
 * eager and jit the same bits at any thread count, an epilogue fused into it included.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderGemm } from '../../../../compiler/codegen/wasm/gemm.js';
import { wasmApi } from '../../../../runtime/wasm/api.js';
import { wasmFeatures } from '../../../../runtime/wasm/features.js';
import { rng, uniform } from '../../../helpers.js';
import { referenceGemm, runGemm } from './gemm-harness.js';

const child = fileURLToPath(new URL('./fixtures/gemm-fma-child.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../../', import.meta.url));

describe.runIf(wasmFeatures().simd)('gemm module', () => {
  it('sums over k in order for every register block, k block, row block and tile of rows by panels', () => {
    const next = rng(21);
    for (const [m, n, k] of [[13, 21, 37], [1, 3, 1], [9, 8, 600]] as const) {
      const a = Float32Array.from(uniform(next, m * k, -2, 2)), b = Float32Array.from(uniform(next, k * n, -2, 2));
      const want = Array.from(referenceGemm(a, b, m, n, k));
      for (const [mr, nr] of [[4, 8], [1, 4], [3, 12], [5, 8], [2, 16]] as const) {
        const tiles = [[512, 64, m, 9], [1, 1, 1, 1], [3, 7, 4, 2], [k, 5, 2 * mr, 1], [8, 100, 3, 3]] as const;
        for (const [kc, mc, chunk, panels] of tiles) {
          const got = runGemm({ mr, nr, fma: false, kc, mc, chunk, panels }, a, b, m, n, k);
          const blocking = `kc ${kc}, mc ${mc}, tiles of ${chunk} rows by ${panels} panels`;
          expect(Array.from(got), `${m}x${n}x${k} on ${mr}x${nr}, ${blocking}`).toEqual(want);
        }
      }
    }
  });

  it('packs whole panels of B as the gemm reads them, from rows of any stride', () => {
    const api = wasmApi!;
    const [k, n, ldb, nr] = [5, 21, 26, 8];
    const memory = new api.Memory({ initial: 1 });
    const bytes = renderGemm({ mr: 4, nr, fma: false, memory: { initial: 1, shared: false } });
    const pack = new api.Instance(new api.Module(bytes), { env: { memory } }).exports.pack as (...x: number[]) => void;
    const f32 = new Float32Array(memory.buffer);
    f32.set(Float32Array.from({ length: k * ldb }, (_, i) => i + 0.5));
    // Panels are packed two a pass: an even and an odd count.
    for (const count of [2, 1]) {
      f32.fill(-1, 1024, 1024 + 3 * k * nr);
      pack(0, 4 * ldb, 4 * 1024, k, count);
      const want = Array.from({ length: count * k * nr }, (_, i) => {
        const [p, kk, c] = [Math.floor(i / (k * nr)), Math.floor(i / nr) % k, i % nr];
        return kk * ldb + p * nr + c + 0.5;
      });
      expect(Array.from(f32.subarray(1024, 1024 + count * k * nr))).toEqual(want);
      // The panels past `count` are the caller's: untouched.
      expect(f32.subarray(1024 + count * k * nr, 1024 + 3 * k * nr).every((x) => x === -1)).toBe(true);
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
      jitEqualsEager: true, twoThreadsEqualOne: true, epilogueJitEqualsEager: true,
    });
    expect(report.maxRelError).toBeLessThan(1e-4);
  });
});
