/**
 * Ops that make tensors of their own from an input (oneHot's classes, dropout's mask) make
 * them on the input's device, and oneHot's class range is still checked where the indices
 * cannot be read synchronously: an out-of-range class fails the next readback, never gives
 * a silent zero row.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { IndexRangeError, Tensor, jit, manualSeed, nn, oneHot, tensor, webgpu } from '../../../src/index.js';
import { initEagerForTests } from '../../webgpu.js';

const ready = await initEagerForTests('webgpu tensors made from an input');
afterAll(() => webgpu.destroy());
const onGpu = describe.skipIf(!ready);
// Each test compiles a few WGSL pipelines on lavapipe: seconds on a loaded 2-core CI machine.
const GPU_TIMEOUT = 60_000;

const classes = (values: number[]): Tensor => tensor(values, { dtype: 'int32', device: 'webgpu' });

onGpu('oneHot on webgpu', () => {
  it('gives the cpu result, eagerly and under jit', async () => {
    const f = jit((i: Tensor) => oneHot(i, 5, { dtype: 'float32' }));
    for (const values of [[[1, 4], [0, 0]], [[3, 2], [4, 1]], [[0, 1], [2, 3]]]) {
      const want = oneHot(tensor(values, { dtype: 'int32' }), 5, { dtype: 'float32' });
      const i = classes(values.flat()).reshape([2, 2]);
      for (const got of [oneHot(i, 5, { dtype: 'float32' }), f(i)]) {
        expect(got.device).toBe('webgpu');
        expect(got.shape).toEqual([2, 2, 5]);
        expect(got.dtype).toBe('float32');
        expect(Array.from(await got.dataAsync())).toEqual(Array.from(want.data()));
      }
    }
    // The tracing call, the confirming one, then a replay.
    expect([f.stats.replays, f.stats.fallbacks]).toEqual([1, 0]);
  }, GPU_TIMEOUT);

  it('handles no indices, a single 0-d index and every output dtype', async () => {
    for (const [values, shape] of [[[], [0]], [[2], []], [[1, 0, 3], [3, 1]]] as const) {
      for (const dtype of ['int32', 'bool', 'float32', 'uint8'] as const) {
        const want = oneHot(tensor([...values], { dtype: 'int32', shape: [...shape] }), 4, { dtype });
        const got = oneHot(tensor([...values], { dtype: 'int32', shape: [...shape], device: 'webgpu' }), 4, { dtype });
        expect([got.shape, got.dtype], `${dtype} [${shape}]`).toEqual([want.shape, want.dtype]);
        expect(Array.from(await got.dataAsync()), `${dtype} [${shape}]`).toEqual(Array.from(want.data()));
      }
    }
  }, GPU_TIMEOUT);

  it('reports a class out of range at the next readback, eagerly and on a replay', async () => {
    for (const [bad, index] of [[[1, 4], 4], [[-1, 2], -1]] as const) {
      await expect(oneHot(classes([...bad]), 4).dataAsync()).rejects.toThrow(IndexRangeError);
      const message = `index ${index} is out of range for a dimension of size 4 (valid: 0..3)`;
      await expect(oneHot(classes([...bad]), 4).dataAsync()).rejects.toThrow(message);
    }
    const f = jit((i: Tensor) => oneHot(i, 4).mul(2));
    expect(Array.from(await f(classes([3, 0])).dataAsync())).toEqual([0, 0, 0, 2, 2, 0, 0, 0]);
    expect(Array.from(await f(classes([1, 2])).dataAsync())).toEqual([0, 2, 0, 0, 0, 0, 2, 0]);
    await expect(f(classes([2, 4])).dataAsync()).rejects.toThrow('index 4 is out of range');
    expect(f.stats.replays, 'the bad classes met the compiled kernels').toBe(1);
    // The error is reported once; later calls run normally.
    expect(Array.from(await f(classes([0, 1])).dataAsync())).toEqual([2, 0, 0, 0, 0, 2, 0, 0]);
    expect([f.stats.replays, f.stats.fallbacks]).toEqual([2, 0]);
  }, GPU_TIMEOUT);
});

onGpu('dropout on webgpu', () => {
  it('draws its mask on the input\'s device, from the same stream as the cpu', async () => {
    const values = Array.from({ length: 40 }, (_, i) => (i % 7) - 3.5);
    manualSeed(21);
    const want = nn.dropout(tensor(values, { shape: [5, 8] }), 0.3);
    manualSeed(21);
    const got = nn.dropout(tensor(values, { shape: [5, 8], device: 'webgpu' }), 0.3);
    expect(got.device).toBe('webgpu');
    const g = await got.dataAsync(), w = want.data();
    for (let i = 0; i < w.length; i++) {
      expect(g[i] === 0, `element ${i} dropped`).toBe(w[i] === 0);
      expect(Math.abs(g[i]! - w[i]!), `element ${i}`).toBeLessThanOrEqual(1e-6 * Math.abs(w[i]!));
    }
    expect(w.filter((v) => v === 0).length, 'some elements dropped, some kept').toBeGreaterThan(0);
    expect(w.filter((v) => v !== 0).length).toBeGreaterThan(0);
  }, GPU_TIMEOUT);
});
