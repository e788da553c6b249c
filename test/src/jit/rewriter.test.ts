import { describe, expect, it } from 'vitest';
import { ValueError, jit, tensor, type Tensor } from '../../../src/index.js';

describe('the run-time rewrite is opt-in for the main entry', () => {
  it('without kiln/rewrite, rewrite: true and jit.toCode name the import to add', async () => {
    const f = (x: Tensor) => (x.sum().gt(0) ? x : x.neg());
    expect(() => jit(f, { rewrite: true })).toThrow(ValueError);
    expect(() => jit(f, { rewrite: true })).toThrow(/jit\(\{ rewrite: true \}\): .*import 'kiln\/rewrite'/);
    expect(() => jit.toCode(f)).toThrow(/jit\.toCode: .*import 'kiln\/rewrite'/);
    // Plain jit needs no transform.
    expect(jit((x: Tensor) => x.add(1))(tensor([1])).toArray()).toEqual([2]);

    await import('../../../src/rewrite.js');
    expect(jit.toCode(f)).toContain('__kiln');
    const g = jit(f, { rewrite: true });
    expect(g(tensor([-1, -2])).toArray()).toEqual([1, 2]);
  });
});
