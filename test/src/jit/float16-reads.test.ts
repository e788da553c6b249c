/**
 * Float16 tensors on the CPU store half bits. Where the jit reads one element in place (a
 * lifted loop's condition, a guard on one value) it must read the value, not the bits: -0
 * (0x8000) and NaN are false as a condition, and a guard's expected value is a number.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, jit, tensor } from '../../../src/node.js';

const half = (v: number) => tensor(v, { dtype: 'float16' });
const int = (v: number) => tensor(v, { dtype: 'int32' });

/**
 * Counts the iterations of a loop whose condition is a float16 value; the body makes it +0.
 * (Only as rewritten: in plain JavaScript a tensor object is always a true condition.)
 */
function untilZero(x: Tensor, zero: Tensor, n: Tensor): Tensor[] {
  while (x) {
    x = zero.mul(1);
    n = n.add(1);
  }
  return [x, n];
}

describe('float16 values read in place by the jit', () => {
  it('a lifted loop stops on a float16 condition of -0 or NaN, as eager does', () => {
    const g = jit(untilZero, { rewrite: true });
    for (let i = 0; i < 3; i++) expect((g(half(1), half(0), int(0)) as Tensor[])[1]!.item()).toBe(1);
    // As JavaScript reads a number as a condition: -0, NaN and 0 are false.
    for (const [start, iterations] of [[-0, 0], [NaN, 0], [0, 0], [2, 1]] as const) {
      expect((g(half(start), half(0), int(0)) as Tensor[])[1]!.item(), `start ${start}`).toBe(iterations);
    }
    expect(g.stats.variants).toBe(1);
    expect(g.stats.replays).toBeGreaterThanOrEqual(4);
  });

  it('a guard on one float16 element compares its value, so the replay holds', () => {
    const g = jit((x: Tensor) => (x.item() > 0 ? x.add(1) : x.sub(1)));
    const x = half(0.5);
    for (let i = 0; i < 6; i++) expect((g(x) as Tensor).item()).toBe(1.5);
    expect(g.stats).toMatchObject({ traces: 2 });
    expect(g.stats.replays).toBeGreaterThanOrEqual(4);
  });
});
