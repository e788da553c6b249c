/**
 * The random composites (randn's Box–Muller, randint's 48-bit draw, a float64 rand) give
 * their intermediates back when they return: on the Wasm engine a call leaves exactly its
 * result's bytes live, as a zeros of the same shape and dtype does, so nothing waits for the
 * collector or the spill. (On the JavaScript engine the collector owns the arrays.)
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, memory, rand, randint, randn, tidy, zeros, type Tensor } from '../../src/index.js';
import { cpuEngine } from '../../runtime/wasm/engine.js';

/** Live CPU bytes `make` leaves behind, its result disposed after counting. */
function leftLive(make: () => Tensor): number {
  const before = memory().cpu.bytes;
  const t = make();
  const after = memory().cpu.bytes;
  t.dispose();
  return after - before;
}

describe.skipIf(cpuEngine() !== 'wasm')('random composites on the Wasm engine', () => {
  it.each([
    ['randn float32', () => randn([3000]), () => zeros([3000])],
    ['randn float64', () => randn([3000], { dtype: 'float64' }), () => zeros([3000], { dtype: 'float64' })],
    ['randint', () => randint(-5, 70000, [3000]), () => zeros([3000], { dtype: 'int32' })],
    ['rand float64', () => rand([3000], { dtype: 'float64' }), () => zeros([3000], { dtype: 'float64' })],
  ])('%s leaves only its result live', (_, make, like) => {
    manualSeed(1);
    expect(leftLive(make)).toBe(leftLive(like));
  });

  it('inside a tidy scope the result still belongs to the scope and is disposed with it', () => {
    const before = memory().cpu.bytes;
    const kept = tidy(() => {
      randn([500]);
      return randn([500]);
    });
    expect(memory().cpu.bytes).toBe(before + leftLive(() => zeros([500])));
    expect(kept.shape).toEqual([500]);
    kept.dispose();
    expect(memory().cpu.bytes).toBe(before);
  });
});
