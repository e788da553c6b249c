/**
 * The composite-op table on WebGPU: every record whose output shape does not depend on
 * values runs on WebGPU tensors, eagerly and under jit, and matches the CPU within float32
 * tolerance (and exactly for integer and bool outputs).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { jit, webgpu, type Tensor } from '../../../src/index.js';
import { initEagerForTests } from '../../webgpu.js';
import { withSeed } from '../random-inputs.js';
import { compositeOps, outputs, toTensor } from '../ops/composite-table.js';

const ready = await initEagerForTests('webgpu composite table');
afterAll(() => webgpu.destroy());

async function expectNear(gpu: Tensor, cpu: Tensor, tol: number, what: string): Promise<void> {
  expect(gpu.device, what).toBe('webgpu');
  expect(gpu.shape, what).toEqual(cpu.shape);
  expect(gpu.dtype, what).toBe(cpu.dtype);
  const got = await gpu.dataAsync(), want = cpu.data();
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= tol + tol * Math.abs(w);
    if (!ok) throw new Error(`${what}: element ${i} of [${cpu.shape}]: webgpu ${g}, cpu ${w} (tolerance ${tol})`);
  }
}

describe.skipIf(!ready).each(compositeOps.filter((op) => op.gpu !== false))('$name', (op) => {
  it('webgpu matches the cpu, eagerly and under jit', async () => {
    let cases: { cpu: Tensor[]; gpu: Tensor[] }[] = [];
    withSeed(`${op.name}/webgpu`, (next) => {
      cases = [0, 1, 2].map(() => {
        const inputs = op.inputs(next);
        return { cpu: inputs.map((x) => toTensor(x, 'float32')), gpu: inputs.map((x) => toTensor(x, 'float32', 'webgpu')) };
      });
    });
    const f = jit((...xs: Tensor[]) => outputs(op, xs));
    const tol = op.gpuTol ?? 1e-4;
    for (const [call, c] of cases.entries()) {
      const want = outputs(op, c.cpu);
      const eager = outputs(op, c.gpu);
      const compiled = f(...c.gpu);
      for (const [i, w] of want.entries()) {
        await expectNear(eager[i]!, w, tol, `call ${call}, eager output ${i}`);
        await expectNear(compiled[i]!, w, tol, `call ${call}, jit output ${i}`);
      }
    }
    // Each record compiles a few dozen WGSL pipelines; lavapipe on a loaded 2-core machine needs the time.
  }, 120_000);
});
