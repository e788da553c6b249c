/**
 * pow with a constant exponent (±1..±4, ±0.5) is computed with multiplications and a square
 * root: it must keep pow's special values, stay within the float64 reference's tolerance,
 * and give the same bits eagerly and under jit.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, jit, tensor } from '../../../src/index.js';
import { expectAllClose, uniform } from '../../helpers.js';
import { withSeed } from '../random-inputs.js';
import { expectSameTensor } from '../jit/compare.js';

const EXPONENTS = [2, 3, 4, 1, -1, -2, -3, -4, 0.5, -0.5];
const I = Infinity;
const SPECIAL = [-I, -2.5, -1, -0, 0, 0.3, 1, 2, 3.7, I, NaN, 1e-30, -1e-30, 1e30, 3e-39];

/** C's pow in float64, then stored as `dtype` stores it. */
function reference(values: readonly number[], b: number, dtype: 'float32' | 'float64'): number[] {
  return values.map((v) => (dtype === 'float32' ? Math.fround(Math.pow(Math.fround(v), b)) : Math.pow(v, b)));
}

describe('pow with a constant exponent', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}: special values (±0, ±Inf, NaN, tiny and huge) come out as pow gives them`, () => {
      for (const b of EXPONENTS) {
        const got = tensor(SPECIAL, { dtype }).pow(b).data();
        reference(SPECIAL, b, dtype).forEach((want, i) => {
          const g = got[i]!;
          const same = Object.is(g, want) || (Number.isNaN(g) && Number.isNaN(want));
          const close = Number.isFinite(want) && want !== 0 && Math.abs(g - want) <= 3e-7 * Math.abs(want);
          expect(same || close, `${dtype} ${SPECIAL[i]} ** ${b}: got ${g}, want ${want}`).toBe(true);
        });
      }
    });

    it(`${dtype}: random values within the reference tolerance`, () => {
      withSeed(`pow constant ${dtype}`, (next) => {
        const values = uniform(next, 200, 0.01, 4).map((v, i) => (i % 2 ? -v : v));
        for (const b of EXPONENTS) {
          const x = tensor(values, { dtype });
          const want = reference(values, b, dtype);
          expectAllClose(x.pow(b), want, dtype === 'float32' ? { rtol: 1e-6, atol: 0 } : { rtol: 1e-15, atol: 0 });
        }
      });
    });
  }

  it('int32 to a small positive power wraps like repeated int32 multiplication', () => {
    const x = tensor([46341, -3, 2, 100003, -2147483648], { dtype: 'int32' });
    expectAllClose(x.pow(2), [-2147479015, 9, 4, 1410665417, 0], { rtol: 0, atol: 0, dtype: 'int32' });
    expectAllClose(x.pow(3), [-1932785795, -27, 8, -1722108165, 0], { rtol: 0, atol: 0, dtype: 'int32' });
    // Negative exponents keep powInt32's truncation toward zero.
    expectAllClose(tensor([1, -1, 2], { dtype: 'int32' }).pow(-1), [1, -1, 0], { rtol: 0, atol: 0, dtype: 'int32' });
  });

  it('pow(x, 3) compiles to exactly what x.mul(x).mul(x) compiles to (so it costs the same)', () => {
    const viaPow = jit((x: Tensor) => x.pow(3)), written = jit((x: Tensor) => x.mul(x).mul(x));
    const x = tensor([0.5, -2, 3]);
    for (let call = 0; call < 3; call++) expectSameTensor(viaPow(x), written(x), `call ${call + 1}`);
    const [a] = viaPow.explain(x).variants, [b] = written.explain(x).variants;
    expect(a!.optimized).toBeDefined();
    expect(a!.optimized).toBe(b!.optimized);
    expect(a!.kernelCount).toBe(b!.kernelCount);
  });

  it('eager and jit agree bit for bit, forward and backward', () => {
    withSeed('pow constant jit', (next) => {
      const body = (x: Tensor) => {
        const y = x.detach().requiresGrad_();
        const outs = EXPONENTS.map((b) => y.abs().add(0.1).pow(b));
        outs.reduce((acc, o) => acc.add(o.sum()), tensor(0)).backward();
        return [...outs.map((o) => o.detach()), y.grad!];
      };
      const f = jit(body);
      for (let call = 1; call <= 5; call++) {
        const x = tensor(uniform(next, 12, -3, 3), { shape: [3, 4] });
        const got = f(x), want = body(x);
        want.forEach((w, k) => expectSameTensor(got[k], w, `call ${call}, result ${k}`));
      }
      expect(f.stats.replays).toBeGreaterThan(0);
    });
  });
});
