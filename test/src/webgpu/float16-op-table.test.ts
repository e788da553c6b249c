/**
 * The op table in float16 on WebGPU against the CPU: each row that runs on WebGPU takes its
 * float inputs as float16 halves (contiguous, and strided views of a wider storage), eagerly
 * and under jit (tracing call, confirming call, replay), and every output has the CPU's
 * values: integers exactly, halves within one step (see expectCpuBits).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { jit, webgpu, type Tensor } from '../../../src/index.js';
import { initEagerForTests } from '../../webgpu.js';
import { runSeed, withSeed } from '../random-inputs.js';
import { halfToFloat } from '../../../runtime/half.js';
import { opTable } from '../ops/op-table.js';
import { outputs, seedStream, toTensor, type Layout } from '../ops/table/record.js';

const gpuReady = await initEagerForTests('float16 op table on webgpu');
const hasF16 = gpuReady && webgpu.supportsFloat16();
afterAll(() => webgpu.destroy());

const rows = opTable.filter((op) => op.backends !== false && !(op.needs ?? []).includes('float64'));

/** Half bits in an order where neighbours differ by one (-0 just below +0). */
const ordinal = (h: number): number => (h & 0x8000 ? -(h & 0x7fff) - 1 : h);

/**
 * Checks `got` (webgpu) against `want` (cpu): integer and bool elements exactly, half bits
 * within one step. Nearly every element is bit-equal (+ - * /, casts and the exact-grid
 * reductions of float16-storage.test.ts always are); in full runs an element of a
 * transcendental or a long reduction now and then lands on the neighbouring half (seen:
 * one element of tanh, one of convTranspose2d, each once in several runs), where WGSL's
 * float32 result and the CPU's straddle a rounding boundary. NaN matches any NaN: its sign is
 * the hardware's (x86 makes Inf - Inf negative, JavaScript positive). A row with `backendTol`
 * (its sums may cancel) also passes within that fraction of the output's largest magnitude:
 * conv2d's halves, whose rounding between the product and the bias differs, were seen 8 steps
 * apart at -0.102 (each 4 from float64).
 */
async function expectCpuBits(got: Tensor, want: Tensor, what: string, tol?: number): Promise<void> {
  expect(got.device, what).toBe('webgpu');
  expect([got.dtype, got.shape], what).toEqual([want.dtype, want.shape]);
  const g = await got.dataAsync(), w = want.data();
  const largest = want.dtype === 'float16' ? Math.max(1, ...Array.from(w, (h) => Math.abs(halfToFloat(h)))) : 0;
  const slack = (tol ?? 0) * largest;
  for (let i = 0; i < w.length; i++) {
    const a = g[i]!, b = w[i]!;
    if (want.dtype !== 'float16') {
      if (a !== b && !(Number.isNaN(a) && Number.isNaN(b))) {
        throw new Error(`${what}: element ${i}: webgpu ${a}, cpu ${b}`);
      }
      continue;
    }
    const nan = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
    const near = Math.abs(ordinal(a) - ordinal(b)) <= 1 || Math.abs(halfToFloat(a) - halfToFloat(b)) <= slack;
    if (nan(a) || nan(b) ? nan(a) !== nan(b) : !near) {
      throw new Error(`${what}: element ${i}: webgpu half 0x${a.toString(16)}, cpu 0x${b.toString(16)}; ` +
        `inputs of this run: rerun with KILN_TEST_SEED=${runSeed}`);
    }
  }
}

// Tracing, confirming and replaying calls on contiguous inputs, then strided inputs eagerly.
const JIT_CALLS = 3;
const LAYOUTS: readonly Layout[] = ['contiguous', 'strided'];

describe.skipIf(!hasF16).each(rows)('$name', (op) => {
  it('float16 on webgpu gives the cpu values, eagerly and under jit', async () => {
    const cases: { layout: Layout; cpu: Tensor[]; gpu: Tensor[] }[] = [];
    withSeed(`${op.name}/webgpu-float16`, (next) => {
      for (const layout of LAYOUTS) {
        const inputs = op.inputs(next);
        cases.push({
          layout,
          cpu: inputs.map((x) => toTensor(x, 'float16')),
          gpu: inputs.map((x) => toTensor(x, 'float16', 'webgpu', layout)),
        });
      }
    });
    const f = jit((...xs: Tensor[]) => outputs(op, xs));
    for (const c of cases) {
      seedStream(op);
      const want = outputs(op, c.cpu);
      seedStream(op);
      const eager = outputs(op, c.gpu);
      for (const [i, w] of want.entries()) {
        await expectCpuBits(eager[i]!, w, `${c.layout}, eager output ${i}`, op.backendTol);
      }
      if (c.layout !== 'contiguous') continue;
      for (let call = 0; call < JIT_CALLS; call++) {
        seedStream(op);
        const compiled = f(...c.gpu);
        for (const [i, w] of want.entries()) {
          await expectCpuBits(compiled[i]!, w, `jit call ${call}, output ${i}`, op.backendTol);
        }
      }
    }
    if (!op.readsValues) expect([f.stats.replays, f.stats.fallbacks], 'replays and fallbacks').toEqual([1, 0]);
    // Each row compiles a few pipelines; lavapipe on a loaded 2-core machine needs the time.
  }, 120_000);
});
