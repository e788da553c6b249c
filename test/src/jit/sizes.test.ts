/**
 * Shape polymorphism: a signature whose arguments differ from a compiled one only in sizes
 * (a last, smaller batch; another sequence length) is confirmed by one trace when it records
 * the same computation up to sizes, and its kernels come from size-generic templates, so
 * later sizes compile few or no kernels. Results stay bit-identical to eager on the CPU.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, gelu, jit, manualSeed, nn, optim, randint, randn } from '../../../src/index.js';
import { cpuKernelCount } from '../../../runtime/cpu/compile.js';
import { cpuEngine } from '../../../runtime/wasm/engine.js';
import { wasmModuleCount } from '../../../runtime/wasm/modules.js';
import { withSeed } from '../random-inputs.js';
import { expectSameTensor, randTensor } from './compare.js';

describe('sizes', () => {
  it('a training step over batches of changing size: one trace per new size, bit-identical to eager', () => {
    manualSeed(3);
    const make = () => new nn.Sequential(new nn.Linear(12, 16), new nn.ReLU(), new nn.Linear(16, 4));
    const eagerModel = make(), jitModel = make();
    jitModel.loadStateDict(eagerModel.stateDict());
    const stepOf = (model: nn.Sequential) => {
      const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
      return (x: Tensor, y: Tensor) => {
        opt.zeroGrad();
        const loss = nn.crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
        return loss.detach();
      };
    };
    const eager = stepOf(eagerModel), step = jit(stepOf(jitModel));
    const sizes = [32, 32, 32, 24, 24, 20, 17, 32, 20, 9, 9];
    sizes.forEach((b, i) => {
      const x = randn([b, 12]), y = randint(0, 4, [b]);
      expectSameTensor(step(x, y), eager(x, y), `step ${i + 1} (batch ${b})`);
    });
    for (const [name, p] of jitModel.namedParameters()) expectSameTensor(p, eagerModel.namedParameters().find(([n]) => n === name)![1], name);
    // Three traces for the first size (Adam's first step creates its state, so the first
    // two differ), then one for each new size (24, 20, 17, 9).
    expect(step.stats).toMatchObject({ traces: 7, fallbacks: 0, variants: 5 });
    expect(step.explain(randn([9, 12]), randint(0, 4, [9])).events.join('\n')).toMatch(/compiled .* after one trace: it records what .* records, with other sizes/);
  });

  it('after two sizes, a fused elementwise kernel of a third size binds the template: no compilation', () => {
    withSeed('jit sizes gelu', (next) => {
      const body = (x: Tensor, a: Tensor) => gelu(x.mul(a).add(1)).mul(0.5);
      const f = jit(body);
      const call = (rows: number) => {
        const x = randTensor(next, [rows, 24]), a = randTensor(next, [24]);
        expectSameTensor(f(x, a), body(x, a), `${rows} rows`);
      };
      for (const rows of [40, 40, 40, 64, 64]) call(rows);
      const before = cpuKernelCount();
      call(100);
      call(100);
      call(12);
      call(12);
      expect(cpuKernelCount() - before, 'kernels compiled for 100 and 12 rows').toBe(0);
      expect(f.stats.fallbacks).toBe(0);
    });
  });

  // Kernels compiled so far: JavaScript functions on the JavaScript engine, modules on the Wasm engine.
  const compiled = () => (cpuEngine() === 'js' ? cpuKernelCount() : wasmModuleCount());
  it('a training step at a third batch size compiles no kernel: matmuls, reductions and maps all bind templates', () => {
    manualSeed(4);
    const model = new nn.Sequential(new nn.Linear(20, 32), new nn.ReLU(), new nn.Linear(32, 5));
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const step = jit((x: Tensor, y: Tensor) => {
      opt.zeroGrad();
      const loss = nn.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      return loss.detach();
    });
    // SGD makes its momentum buffers on the first step, so a size compiles after three traces.
    for (const b of [64, 64, 64, 64, 48, 48, 48]) step(randn([b, 20]), randint(0, 5, [b]));
    const before = compiled();
    for (const b of [40, 40, 36, 36]) step(randn([b, 20]), randint(0, 5, [b]));
    expect(compiled() - before).toBe(0);
    expect(step.stats).toMatchObject({ fallbacks: 0, variants: 4 });
  });

  it('a different computation at another size is not a sibling: it is confirmed by two traces', () => {
    const body = (x: Tensor) => (x.shape[0]! > 4 ? x.exp() : x.neg()).sum(0);
    const f = jit(body);
    for (const rows of [8, 8, 8]) f(randn([rows, 3]));
    expect(f.stats.traces).toBe(2);
    const x = randn([2, 3]);
    expectSameTensor(f(x), body(x));
    expectSameTensor(f(x), body(x));
    expect(f.stats.traces).toBe(4);
  });
});
