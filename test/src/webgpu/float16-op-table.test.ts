/**
 * The op table in float16 on WebGPU against the CPU, bit for bit: each row that runs on
 * WebGPU takes its float inputs as float16 halves (contiguous, and strided views of a wider
 * storage), eagerly and under jit (tracing call, confirming call, replay), and every output
 * has the CPU's bits. A NaN matches any NaN: its sign is the hardware's (x86 makes Inf - Inf
 * negative, JavaScript positive), and PyTorch does not promise one either.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { jit, webgpu, type Tensor } from '../../../src/index.js';
import { initEagerForTests } from '../../webgpu.js';
import { withSeed } from '../random-inputs.js';
import { opTable } from '../ops/op-table.js';
import { outputs, seedStream, toTensor, type Layout } from '../ops/table/record.js';

const gpuReady = await initEagerForTests('float16 op table on webgpu');
const hasF16 = gpuReady && webgpu.supportsFloat16();
afterAll(() => webgpu.destroy());

const rows = opTable.filter((op) => op.backends !== false && !(op.needs ?? []).includes('float64'));

/** `t`'s elements with every NaN as one value (half bits for float16, numbers otherwise). */
async function canonical(t: Tensor): Promise<(number | string)[]> {
  const values = t.device === 'cpu' ? t.data() : await t.dataAsync();
  if (t.dtype === 'float16') return Array.from(values, (h) => ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0 ? 'NaN' : h));
  return Array.from(values, (v) => (Number.isNaN(v) ? 'NaN' : v));
}

async function expectCpuBits(got: Tensor, want: Tensor, what: string): Promise<void> {
  expect(got.device, what).toBe('webgpu');
  expect([got.dtype, got.shape], what).toEqual([want.dtype, want.shape]);
  expect(await canonical(got), what).toEqual(await canonical(want));
}

// Tracing, confirming and replaying calls on contiguous inputs, then strided inputs eagerly.
const JIT_CALLS = 3;
const LAYOUTS: readonly Layout[] = ['contiguous', 'strided'];

describe.skipIf(!hasF16).each(rows)('$name', (op) => {
  it('float16 on webgpu gives the cpu bits, eagerly and under jit', async () => {
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
      for (const [i, w] of want.entries()) await expectCpuBits(eager[i]!, w, `${c.layout}, eager output ${i}`);
      if (c.layout !== 'contiguous') continue;
      for (let call = 0; call < JIT_CALLS; call++) {
        seedStream(op);
        const compiled = f(...c.gpu);
        for (const [i, w] of want.entries()) await expectCpuBits(compiled[i]!, w, `jit call ${call}, output ${i}`);
      }
    }
    if (!op.readsValues) expect([f.stats.replays, f.stats.fallbacks], 'replays and fallbacks').toEqual([1, 0]);
    // Each row compiles a few pipelines; lavapipe on a loaded 2-core machine needs the time.
  }, 120_000);
});
