import { describe, expect, it } from 'vitest';
import { randn, tidy, ValueError } from '../../src/index.js';
import { expectAllClose } from '../helpers.js';

describe('tidy (CPU)', () => {
  it('disposes what the scope made except the result, and keeps what its backward() needs', () => {
    const w = randn([5, 3], { requiresGrad: true });
    const x = randn([4, 5]);
    let inner: ReturnType<typeof randn> | undefined;
    const loss = tidy(() => {
      inner = randn([2]); // made inside, not returned, not in the loss's history
      return x.matmul(w).tanh().logSoftmax(1).mean().neg();
    });
    expect(() => inner!.add(1)).toThrow(ValueError);
    loss.backward();
    // The same gradient as without the scope.
    const w2 = w.detach().requiresGrad_();
    x.matmul(w2).tanh().logSoftmax(1).mean().neg().backward();
    expectAllClose(w.grad!, w2.grad!, { rtol: 0, atol: 0 });
  });
});
