/**
 * CPU tensors in the Wasm engine's memory: dispose and tidy give buffers back to the
 * allocator at once, so a long training run keeps both the live bytes and the
 * WebAssembly.Memory's size flat; a tensor larger than a 32-bit memory gets an error naming
 * its size. (On the JavaScript engine the collector owns the arrays: nothing to count.)
 */
import { describe, expect, it } from 'vitest';
import { DeviceError, jit, manualSeed, memory, nn, optim, randn, tidy, zeros, type Tensor } from '../../src/index.js';
import { cpuEngine } from '../../runtime/wasm/engine.js';

const onWasm = cpuEngine() === 'wasm';

describe.skipIf(!onWasm)('CPU memory on the Wasm engine', () => {
  it('dispose gives a buffer back at once, and a view keeps it until the view goes too', () => {
    const before = memory().cpu.bytes;
    const t = zeros([1000]);
    const v = t.reshape([10, 100]);
    expect(memory().cpu.bytes).toBe(before + 4096);
    t.dispose();
    expect(memory().cpu.bytes, 'a view still reads the buffer').toBe(before + 4096);
    v.dispose();
    expect(memory().cpu.bytes).toBe(before);
  });

  it('trains a small MLP for 10,000 jit steps with live bytes and the memory size flat after warm-up', () => {
    manualSeed(1);
    const model = new nn.Sequential(new nn.Linear(4, 8), new nn.Tanh(), new nn.Linear(8, 2));
    const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
    const x = randn([16, 4]), y = randn([16, 2]);
    const step = jit((input: Tensor, target: Tensor) => {
      opt.zeroGrad();
      const loss = nn.mseLoss(model.forward(input), target);
      loss.backward();
      opt.step();
      return loss;
    });
    const run = (steps: number) => {
      for (let i = 0; i < steps; i++) tidy(() => step(x, y)).dispose();
    };
    run(100);
    const warm = memory().cpu;
    run(10_000);
    expect(memory().cpu).toEqual(warm);
    expect(step.stats.replays).toBe(10_097);
    // 25 to 110 s on a loaded 2-core machine.
  }, 300_000);

  it('eager steps in tidy scopes leave the live bytes where they were', () => {
    manualSeed(2);
    const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
    const opt = new optim.SGD(model.parameters(), { lr: 1e-2, momentum: 0.9 });
    const x = randn([16, 4]), y = randn([16, 2]);
    const step = () => tidy(() => {
      opt.zeroGrad();
      const loss = nn.mseLoss(model.forward(x), y);
      loss.backward();
      opt.step();
      loss.dispose();
    });
    for (let i = 0; i < 20; i++) step();
    const warm = memory().cpu;
    for (let i = 0; i < 500; i++) step();
    expect(memory().cpu).toEqual(warm);
  });

  it('a tensor larger than the 4 GiB memory is an error naming its size, and nothing is allocated', () => {
    const before = memory().cpu;
    expect(() => zeros([2 ** 30 + 1])).toThrow(DeviceError);
    expect(() => zeros([2 ** 30 + 1])).toThrow(/1073741825 elements \(4294967300 bytes\)/);
    expect(memory().cpu).toEqual(before);
  });
});
