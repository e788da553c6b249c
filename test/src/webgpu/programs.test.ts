/**
 * The first-hour programs on WebGPU: `model.to('webgpu')`, then training steps eagerly and
 * under jit match the same steps on the CPU within float32 tolerance; `await model.cpu()`
 * brings the trained parameters back.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DeviceError, jit, manualSeed, nn, tensor, webgpu, type Tensor } from '../../../src/index.js';
import { initEagerForTests } from '../../webgpu.js';
import { programs, trainStep, type Program } from '../nn/programs.js';

const ready = await initEagerForTests('webgpu programs');
afterAll(() => webgpu.destroy());

const STEPS = 3;

async function losses(p: Program, device: 'cpu' | 'webgpu', compiled: boolean): Promise<{ losses: number[]; params: Float32Array[] }> {
  manualSeed(0);
  const model = p.model().to(device);
  const opt = p.optimizer(model.parameters());
  const plain = (x: Tensor, y: Tensor) => trainStep(p, model, opt, x, y);
  const step = compiled ? jit(plain) : plain;
  const out: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const { x, y } = p.batch();
    out.push(await step(x.to(device), y.to(device)).itemAsync());
  }
  const back = await model.cpu();
  return { losses: out, params: back.parameters().map((w) => w.data<'float32'>()) };
}

describe.skipIf(!ready).each(programs)('$name', (p) => {
  it('trains on webgpu eagerly and under jit as on the cpu', async () => {
    const cpu = await losses(p, 'cpu', false);
    for (const compiled of [false, true]) {
      const gpu = await losses(p, 'webgpu', compiled);
      gpu.losses.forEach((l, i) => expect(Math.abs(l - cpu.losses[i]!), `${compiled ? 'jit' : 'eager'} loss ${i}: ${l} vs ${cpu.losses[i]}`).toBeLessThan(2e-3 * (1 + Math.abs(cpu.losses[i]!))));
      gpu.params.forEach((w, i) => {
        const want = cpu.params[i]!;
        for (let j = 0; j < want.length; j++) expect(Math.abs(w[j]! - want[j]!), `parameter ${i}[${j}]`).toBeLessThan(2e-3 * (1 + Math.abs(want[j]!)));
      });
    }
  }, 300_000);
});

describe.skipIf(!ready)('printing and moving back', () => {
  it("a webgpu tensor prints its shape, dtype and device, and says how to read it", () => {
    const t = tensor([[1, 2, 3]], { device: 'webgpu', dtype: 'int32' });
    const text = "tensor(<read with await t.cpu()>, size=[1, 3], dtype=int32, device='webgpu')";
    expect(String(t)).toBe(text);
    expect('t=' + tensor([5], { device: 'webgpu' })).toBe("t=tensor(<read with await t.cpu()>, size=[1], device='webgpu')");
  });
  it("Module.to('cpu') from webgpu names await model.cpu()", async () => {
    const model = new nn.Linear(2, 2).to('webgpu');
    expect(model.weight.device).toBe('webgpu');
    expect(() => model.to('cpu')).toThrow(DeviceError);
    expect((await model.cpu()).weight.device).toBe('cpu');
  });
});
