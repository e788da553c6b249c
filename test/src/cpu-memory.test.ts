/**
 * CPU tensors in the Wasm engine's memory: dispose and tidy give buffers back to the
 * allocator at once, so a long training run keeps both the live bytes and the
 * WebAssembly.Memory's size flat; tensors dropped without either are spilled to the
 * JavaScript heap when the memory fills, and come back bit for bit when used again; a
 * tensor larger than a 32-bit memory gets an error naming its size. (On the JavaScript
 * engine the collector owns the arrays: nothing to count.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DeviceError, arange, jit, manualSeed, memory, nn, optim, randint, randn, tidy, zeros, type Tensor,
} from '../../src/index.js';
import { wasm } from '../../compiler/backends.js';
import { cpuEngine } from '../../runtime/wasm/engine.js';
import { SPILLED, type WasmBuffer } from '../../runtime/wasm/residency.js';
import type { CpuStorage } from '../../src/storage.js';

const onWasm = cpuEngine() === 'wasm';
const KiB = 1024;
const defaultThreshold = onWasm ? wasm.spillStats().threshold : 0;

/** The Wasm buffer under `t`. */
const bufferOf = (t: Tensor): WasmBuffer => (t.storage as CpuStorage).buffer as WasmBuffer;

/** Drops tensors (never disposed) until the backend has spilled twice more. */
function pressure(): void {
  const passes = wasm.spillStats().passes;
  while (wasm.spillStats().passes < passes + 2) zeros([4 * KiB]);
}

/** An MLP 32-64-64-10 and SGD with momentum, seeded, and a batch of 16 to train it on. */
function smallMlp(seed: number) {
  manualSeed(seed);
  const model = new nn.Sequential(
    new nn.Linear(32, 64), new nn.ReLU(), new nn.Linear(64, 64), new nn.ReLU(), new nn.Linear(64, 10));
  const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const x = randn([16, 32]), y = randint(0, 10, [16]);
  const step = () => {
    opt.zeroGrad();
    const loss = nn.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss.item();
  };
  return { model, step };
}

afterEach(() => {
  if (onWasm) wasm.setSpillThreshold(defaultThreshold);
});

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

  it('a replayed training step outside tidy gives back the intermediates it made', () => {
    manualSeed(4);
    // The convolution and pooling run as unfused nodes, each making its own tensors.
    const model = new nn.Sequential(
      new nn.Conv2d(1, 4, 3), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(36, 3));
    const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
    const x = randn([8, 1, 8, 8]), y = randint(0, 3, [8]);
    const step = jit((input: Tensor, target: Tensor) => {
      opt.zeroGrad();
      const loss = nn.crossEntropy(model.forward(input), target);
      loss.backward();
      opt.step();
      return loss.detach();
    });
    for (let i = 0; i < 4; i++) step(x, y).dispose();
    const warm = memory().cpu.bytes;
    for (let i = 0; i < 50; i++) step(x, y).dispose();
    // The gradients each call replaces are given back (nothing read them); what stays is the
    // one-element loss each call drops (64 bytes). The intermediates were ~33 KiB a step, the
    // gradients ~1 KiB.
    expect(memory().cpu.bytes - warm).toBeLessThan(4 * KiB);
    expect(step.stats.replays).toBe(51);
  });

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

  it('views over a spilled storage read, compute and write in place bit for bit', () => {
    manualSeed(3);
    const t = randn([64, 64]), total = t.sum();
    const v = t.narrow(0, 8, 16).narrow(1, 4, 32);
    const all = t.data(), part = v.data(), sum = total.item(), doubled = v.mul(2).data();
    wasm.setSpillThreshold(256 * KiB);
    pressure();
    expect(bufferOf(t).ptr).toBe(SPILLED);
    expect(v.data()).toEqual(part);
    pressure();
    expect(total.item()).toBe(sum);
    pressure();
    // A launch reading a spilled view.
    expect(v.mul(2).data()).toEqual(doubled);
    pressure();
    // An in-place write through the view lands in the spilled storage.
    v.add_(1);
    const after = t.data();
    for (const [r, c] of [[8, 4], [23, 35], [0, 0], [63, 63]] as const) {
      const inside = r >= 8 && r < 24 && c >= 4 && c < 36;
      expect(after[r * 64 + c]).toBe(inside ? Math.fround(all[r * 64 + c]! + 1) : all[r * 64 + c]);
    }
    expect(wasm.spillStats().restored).toBeGreaterThan(0);
  });

  it('a synchronous eager loop that never disposes keeps the memory bounded, with the bits of tidy steps', () => {
    const dropping = smallMlp(4), tidied = smallMlp(4);
    wasm.setSpillThreshold(512 * KiB);
    const passes = wasm.spillStats().passes;
    for (let i = 0; i < 20; i++) expect(dropping.step()).toBe(tidy(() => tidied.step()));
    const warm = memory().cpu.memoryBytes;
    for (let i = 0; i < 400; i++) expect(dropping.step()).toBe(tidy(() => tidied.step()));
    expect(memory().cpu.memoryBytes).toBe(warm);
    expect(wasm.spillStats().passes).toBeGreaterThan(passes + 5);
    expect(wasm.spillStats().threshold).toBe(512 * KiB);
    const [a, b] = [dropping, tidied].map((m) => m.model.parameters().map((p) => Array.from(p.data())));
    expect(a).toEqual(b);
  }, 120_000);

  it('never spills the buffers a compiled program keeps from call to call', () => {
    const { step } = smallMlp(5);
    const x = randn([32, 32]);
    const pin = vi.spyOn(wasm, 'pin');
    // exp(x) is stored for the matmul and never leaves the call: a buffer kept with the program.
    const compiled = jit((a: Tensor) => a.exp().matmul(a).tanh().sum());
    // Two calls trace; the first replay makes the buffers it keeps (a tidy scope around the call would dispose them).
    const call = () => {
      const out = compiled(x), value = out.item();
      out.dispose();
      return value;
    };
    const first = call();
    for (let i = 0; i < 2; i++) expect(call()).toBe(first);
    const pinned = pin.mock.calls.map(([b]) => b);
    pin.mockRestore();
    expect(pinned.length).toBeGreaterThan(0);
    wasm.setSpillThreshold(128 * KiB);
    for (let i = 0; i < 3; i++) step();
    pressure();
    expect(bufferOf(x).ptr, 'the argument, used before the pressure, was spilled').toBe(SPILLED);
    for (const b of pinned) expect(b.ptr).toBeGreaterThanOrEqual(0);
    expect(call()).toBe(first);
    expect(compiled.stats.replays).toBe(2);
  });

  it('a tensor larger than the 4 GiB memory is an error naming its size, and nothing is allocated', () => {
    const before = memory().cpu;
    expect(() => zeros([2 ** 30 + 1])).toThrow(DeviceError);
    expect(() => zeros([2 ** 30 + 1])).toThrow(/1073741825 elements \(4294967300 bytes\)/);
    expect(memory().cpu).toEqual(before);
  });
});
