/** Helpers shared by the WebGPU jit suites: seeded inputs, closeness on the GPU, GPU models. */
import { expect } from 'vitest';
import { Tensor, nn, tensor } from '../../../src/index.js';
import { rng, uniform } from '../../helpers.js';
import { runSeed, seedFor } from '../random-inputs.js';

/** Runs `body` with a generator seeded for `label`; a failure names the seed that replays it. */
export async function withSeed(label: string, body: (next: () => number) => Promise<void>): Promise<void> {
  try {
    await body(rng(seedFor(label)));
  } catch (e) {
    if (e instanceof Error) e.message = `${e.message}\n  random inputs of "${label}": rerun with KILN_TEST_SEED=${runSeed}`;
    throw e;
  }
}

/** A float32 WebGPU tensor with values uniform in [lo, hi). */
export function gpuRand(next: () => number, shape: number[], lo = -2, hi = 2): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from(uniform(next, n, lo, hi)), { shape, device: 'webgpu' });
}

/** Same shape and dtype, and every element within float32 tolerance (NaN matches NaN, infinities match exactly). */
export async function expectClose(got: Tensor, want: Tensor, what = 'result', rtol = 1e-4, atol = 1e-5): Promise<void> {
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  expect(got.dtype, `${what}: dtype`).toBe(want.dtype);
  const a = await got.dataAsync(), e = await want.dataAsync();
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!, y = e[i]!;
    const ok = Number.isNaN(y) ? Number.isNaN(x) : !Number.isFinite(y) ? x === y : Math.abs(x - y) <= atol + rtol * Math.abs(y);
    if (!ok) throw new Error(`${what}: element ${i} of ${e.length}: got ${x}, expected ${y}`);
  }
}

/** Captures console.warn while `fn` runs. */
export async function warnings(fn: () => Promise<void>): Promise<string[]> {
  const warn = console.warn;
  const seen: string[] = [];
  console.warn = (m: unknown) => { seen.push(String(m)); };
  try {
    await fn();
  } finally {
    console.warn = warn;
  }
  return seen;
}

/** `model` with every parameter moved to the GPU (as fresh parameters). */
export function toGpu<M extends nn.Module>(model: M): M {
  for (const [, m] of model.namedModules()) {
    for (const [key, value] of Object.entries(m)) {
      if (nn.isParameter(value)) (m as unknown as Record<string, Tensor>)[key] = nn.parameter(value.detach().to('webgpu'));
    }
  }
  return model;
}
