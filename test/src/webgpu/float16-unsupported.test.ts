/**
 * float16 on a WebGPU device without shader-f16 (acquired here by not requesting the
 * feature): every way of making a float16 tensor there is a DTypeError naming the dtype, the
 * device and the fix, and the device goes on working for other dtypes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DTypeError, memory, tensor, webgpu, zeros } from '../../../src/index.js';
import { requireWebGpu } from '../../webgpu.js';

async function initWithoutF16(): Promise<boolean> {
  try {
    await webgpu.init({ shaderF16: false });
    return true;
  } catch (e) {
    if (requireWebGpu) throw e;
    console.warn(`float16 without shader-f16: skipping WebGPU tests: ${(e as Error).message}`);
    return false;
  }
}

const ready = await initWithoutF16();
afterAll(() => webgpu.destroy());

describe.skipIf(!ready)('float16 on a webgpu device without shader-f16', () => {
  it('refuses to create float16 tensors there, saying to cast to float32', async () => {
    expect(webgpu.supportsFloat16()).toBe(false);
    const g = tensor([1, 2]).to('webgpu');
    const before = memory().webgpu;
    const make: [string, () => unknown][] = [
      ['to(webgpu)', () => tensor([1, 2, 3], { dtype: 'float16' }).to('webgpu')],
      ['zeros on webgpu', () => zeros([4], { dtype: 'float16', device: 'webgpu' })],
      ['half() of a webgpu tensor', () => g.half()],
    ];
    for (const [what, f] of make) {
      expect(f, what).toThrow(DTypeError);
      expect(f, what).toThrow(/float16 .*shader-f16.*\(got float16\); cast to float32 first/);
    }
    // Nothing was allocated or counted by the refused calls.
    expect(memory().webgpu).toEqual(before);
    expect(await g.mul(2).toArrayAsync()).toEqual([2, 4]);
    const cast = tensor([1.5, 2.5], { dtype: 'float16' }).to('float32').to('webgpu');
    expect(await cast.add(1).toArrayAsync()).toEqual([2.5, 3.5]);
  });
});
