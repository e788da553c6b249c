/**
 * The known ways a tracing JIT goes wrong, each written down as a test: every one runs the
 * jit'd function many times on fresh random inputs and compares each result, bit for bit,
 * with running the same function eagerly.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JitError, Tensor, jit, manualSeed, nn, noGrad, optim, tensor, zeros } from '../../../src/node.js';
import { rng } from '../../helpers.js';
import { runSeed, seedFor, withSeed } from '../random-inputs.js';
import { expectSameTensor, lineOf, randTensor, snapshot } from './compare.js';

const CALLS = 12;
const here = fileURLToPath(import.meta.url);

afterEach(() => {
  vi.restoreAllMocks();
});

/** A tensor of `shape` whose sum has the sign `sign` (values drawn from `next`). */
function withSumSign(next: () => number, shape: number[], sign: 1 | -1): Tensor {
  const x = randTensor(next, shape);
  const s = x.sum().item();
  return s * sign > 0 ? x : x.neg();
}

/** `withSeed` for async bodies: a failure names the seed that replays its inputs. */
async function withSeedAsync(label: string, body: (next: () => number) => Promise<void>): Promise<void> {
  try {
    await body(rng(seedFor(label)));
  } catch (e) {
    if (e instanceof Error) e.message = `${e.message}\n  random inputs of "${label}": rerun with KILN_TEST_SEED=${runSeed}`;
    throw e;
  }
}

describe('number arguments', () => {
  // Numbers are fed in per call only where kiln can see a branch on them (the rewrite), or
  // with dynamicNumbers: true; the tests of that machinery opt in (see signatures.test.ts
  // for the default, where each value compiles on its own).
  it('a number that changes every call and reaches tensors directly is fed in, not recompiled (dynamicNumbers)', () => {
    withSeed('jit number operand', (next) => {
      const body = (x: Tensor, s: number) => x.mul(s).add(x.square());
      const f = jit(body, { dynamicNumbers: true });
      for (let i = 0; i < CALLS; i++) {
        const x = randTensor(next, [3, 4]);
        const s = next() * 4 - 2;
        expectSameTensor(f(x, s), body(x, s), `call ${i + 1}`);
      }
      expect(f.stats.variants).toBe(1);
      expect(f.stats.traces).toBeLessThanOrEqual(3);
      expect(f.stats.replays).toBe(CALLS - f.stats.traces);
    });
  });

  it('a number used in JS arithmetic before reaching a tensor is right on every call', () => {
    withSeed('jit number arithmetic', (next) => {
      const body = (x: Tensor, lr: number) => x.mul(lr * 2).sub(lr / 3);
      const f = jit(body, { dynamicNumbers: true });
      for (let i = 0; i < CALLS; i++) {
        const x = randTensor(next, [4]);
        const lr = next();
        expectSameTensor(f(x, lr), body(x, lr), `call ${i + 1}`);
      }
    });
  });

  it('a number used in JS arithmetic that holds its value for a few calls (a stepped schedule) is right on every call', () => {
    withSeed('jit number arithmetic held', (next) => {
      const body = (x: Tensor, lr: number) => x.mul(lr * 2);
      const f = jit(body, { dynamicNumbers: true });
      // Each value is held for this many calls, as a step schedule would hold a learning rate.
      const holds = [2, 2, 3, 1, 2, 3, 1, 2];
      let call = 0;
      for (const hold of holds) {
        const lr = next();
        for (let k = 0; k < hold; k++) {
          const x = randTensor(next, [5]);
          expectSameTensor(f(x, lr), body(x, lr), `call ${++call} (lr ${lr})`);
        }
      }
    });
  });

  it('a number that reaches tensors directly and holds its value for a few calls is right on every call', () => {
    withSeed('jit number operand held', (next) => {
      // 1 is also a literal here: a number argument equal to it must not be mistaken for it.
      const body = (x: Tensor, s: number) => x.mul(s).add(1);
      const f = jit(body, { dynamicNumbers: true });
      const values = [2, 1, 1, 5, 5, 0.5, 3, 3, 3, 1, 7, 7];
      values.forEach((s, i) => {
        const x = randTensor(next, [4]);
        expectSameTensor(f(x, s), body(x, s), `call ${i + 1} (s ${s})`);
      });
    });
  });

  it('a number that changes once and then keeps its value compiles again', () => {
    withSeed('jit number settles', (next) => {
      const body = (x: Tensor, s: number) => x.mul(s).add(1);
      const f = jit(body, { dynamicNumbers: true });
      const first = next(), then = next();
      for (let i = 0; i < 16; i++) {
        const s = i === 0 ? first : then;
        const x = randTensor(next, [4]);
        expectSameTensor(f(x, s), body(x, s), `call ${i + 1}`);
      }
      expect(f.stats.replays).toBeGreaterThan(0);
    });
  });

  it('a number argument that only steers a JS branch is right on every call', () => {
    withSeed('jit number branch', (next) => {
      const body = (x: Tensor, s: number) => (s > 0 ? x.add(1) : x.sub(1));
      const f = jit(body, { dynamicNumbers: true });
      const signs = [1, 1, 1, 1, -1, 1, -1, -1, 1, -1, 1, 1];
      signs.forEach((sign, i) => {
        const x = randTensor(next, [3]);
        const s = sign * (0.5 + next());
        expectSameTensor(f(x, s), body(x, s), `call ${i + 1} (s ${s})`);
      });
    });
  });

  it('a number argument used both as an operand and in a JS branch is right on every call by default', () => {
    withSeed('jit number operand and branch', (next) => {
      // Traces with positive s only ever show s as a scalar operand; the branch is JS's, and
      // a replay cannot see it. Without the rewrite, such numbers are keyed by value.
      const body = (x: Tensor, s: number) => (s > 0 ? x.mul(s) : x.mul(s).neg());
      const f = jit(body);
      const signs = [1, 1, 1, 1, -1, 1, -1, -1, 1, -1, 1, 1];
      signs.forEach((sign, i) => {
        const x = randTensor(next, [3]);
        const s = sign * (0.5 + next());
        expectSameTensor(f(x, s), body(x, s), `call ${i + 1} (s ${s})`);
      });
    });
  });

  it('under the control-flow rewrite, a JS branch on a dynamic number argument is a guard: right on every call, and replays', () => {
    withSeed('jit number branch guarded', (next) => {
      const body = (x: Tensor, s: number) => (s > 0 ? x.mul(s) : x.mul(s).neg());
      const f = jit(body, { rewrite: true });
      const signs = [1, 1, 1, 1, 1, -1, -1, -1, 1, -1, 1, 1, -1, 1];
      signs.forEach((sign, i) => {
        const x = randTensor(next, [3]);
        const s = sign * (0.5 + next());
        expectSameTensor(f(x, s), body(x, s), `call ${i + 1} (s ${s})`);
      });
      // The number stays a fed-in input: both branches became variants and replayed.
      expect(f.stats.replays).toBeGreaterThan(0);
      expect(f.stats.variants).toBe(2);
      const v = f.explain(randTensor(next, [3]), 0.7).variants.map((x) => x.guards.map((g) => g.how).join());
      expect(v.join()).toContain('a comparison (gt) of number argument');
    });
  });
});

describe('branches on tensor values', () => {
  it('a branch on item() runs eagerly when the value changes, records variants, and explains the guard', () => {
    withSeed('jit branch on item', (next) => {
      const body = (x: Tensor) => {
        if (x.sum().item() > 0) return x.mul(2).exp(); // guard: branch on sum
        return x.neg().sqrt();
      };
      const f = jit(body);
      const pool = [withSumSign(next, [2, 3], 1), withSumSign(next, [2, 3], -1), withSumSign(next, [2, 3], 1), withSumSign(next, [2, 3], -1)];
      // Two calls with the same input compile it; each other input then fails the guard once.
      const order = [0, 0, 1, 2, 3];
      while (order.length < 16) order.push(Math.floor(next() * pool.length));
      const variantsAfter: number[] = [];
      order.forEach((k, i) => {
        expectSameTensor(f(pool[k]!), body(pool[k]!), `call ${i + 1} (input ${k})`);
        variantsAfter.push(f.stats.variants);
      });
      expect(variantsAfter.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
      expect(f.stats.variants).toBe(4);
      expect(f.stats.fallbacks).toBe(3);
      expect(f.stats.replays).toBe(order.length - 5);

      const line = lineOf(here, 'guard: branch on sum');
      const text = f.explain(pool[0]!).toString();
      expect(text).toContain('item()');
      expect(text).toMatch(new RegExp(`pitfalls\\.test\\.ts:${line}:\\d+`));
    });
  });

  it('a branch on a boolean read settles into one variant per outcome on fresh inputs', () => {
    withSeed('jit branch on boolean', (next) => {
      const body = (x: Tensor) => (x.sum().gt(0).item() ? x.relu().mul(3) : x.abs().add(1));
      const f = jit(body);
      const signs: (1 | -1)[] = [1, 1, -1, 1, -1, -1, 1, -1, 1, 1, -1, 1, -1, 1];
      signs.forEach((sign, i) => {
        const x = withSumSign(next, [4, 2], sign);
        expectSameTensor(f(x), body(x), `call ${i + 1}`);
      });
      expect(f.stats.variants).toBe(2);
      expect(f.stats.traces).toBe(3);
      expect(f.stats.replays).toBe(signs.length - 3);
    });
  });
});

describe('outputs', () => {
  it('an output kept from an earlier call is not changed by later calls', () => {
    withSeed('jit kept output', (next) => {
      const body = (x: Tensor, y: Tensor) => x.matmul(y).relu().add(1);
      const f = jit(body);
      const kept: { out: Tensor; values: Tensor; call: number }[] = [];
      for (let i = 0; i < CALLS; i++) {
        const x = randTensor(next, [3, 4]), y = randTensor(next, [4, 2]);
        const out = f(x, y);
        expectSameTensor(out, body(x, y), `call ${i + 1}`);
        // Call 1 ran eagerly; call 4 was a replay: neither may be reused by later calls.
        if (i === 0 || i === 3) kept.push({ out, values: snapshot(out), call: i + 1 });
        for (const k of kept) expectSameTensor(k.out, k.values, `output of call ${k.call} after call ${i + 1}`);
      }
      expect(f.stats.replays).toBe(CALLS - 2);
    });
  });

  it('constants returned by a replay are fresh tensors, so writing into one does not change later results', () => {
    withSeed('jit constant outputs', (next) => {
      const body = (x: Tensor) => ({
        y: x.mul(2),
        z: zeros([3]),
        c: tensor([1, 2, 3]),
        v: tensor([[1, 2], [3, 4]]).transpose(0, 1),
      });
      const f = jit(body);
      for (let i = 0; i < CALLS; i++) {
        const x = randTensor(next, [3]);
        const got = f(x), want = body(x);
        for (const k of ['y', 'z', 'c', 'v'] as const) expectSameTensor(got[k], want[k], `call ${i + 1}: ${k}`);
        // The caller owns its results.
        got.z.add_(100);
        got.c.mul_(-1);
        got.v.add_(10);
      }
      expect(f.stats.replays).toBe(CALLS - 2);
    });
  });
});

describe('constants built from JS values', () => {
  it('a tensor built inside the function from JS data that changes every call is never stale', () => {
    withSeed('jit constant data', (next) => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      // Only elements past the first eight change, where printed graphs abbreviate data.
      const table = Array.from({ length: 12 }, () => next());
      const body = (x: Tensor) => x.mul(tensor(table)).sum();
      const f = jit(body);
      for (let i = 0; i < CALLS; i++) {
        table[8 + (i % 4)] = next();
        const x = randTensor(next, [12]);
        expectSameTensor(f(x), body(x), `call ${i + 1}`);
      }
      expect(f.stats.replays).toBe(0);
      // Traces that never repeat leave the signature eager, with one warning.
      expect(warn).toHaveBeenCalledTimes(1);
    });
  });
});

describe('captured tensors and modules', () => {
  it('a captured tensor updated in place between calls is read with its new values', () => {
    withSeed('jit captured in place', (next) => {
      const w = randTensor(next, [4]);
      const body = (x: Tensor) => x.mul(w).sum(-1);
      const f = jit(body);
      for (let i = 0; i < CALLS; i++) {
        if (i % 2 === 1) w.copy_(randTensor(next, [4]));
        if (i % 3 === 2) w.narrow(0, 1, 2).mul_(-3);
        const x = randTensor(next, [2, 4]);
        expectSameTensor(f(x), body(x), `call ${i + 1}`);
      }
      expect(f.stats.traces).toBe(2);
    });
  });

  it('a captured tensor and number reassigned between calls are seen through captures', () => {
    withSeed('jit captured reassigned', (next) => {
      let w = randTensor(next, [4, 3]);
      let scale = 2;
      const body = (x: Tensor) => x.matmul(w).mul(scale);
      const f = jit(body, { captures: () => ({ w, scale }) });
      for (let i = 0; i < CALLS; i++) {
        w = randTensor(next, [4, 3]);
        if (i % 3 === 0) scale = next() * 10;
        const x = randTensor(next, [2, 4]);
        expectSameTensor(f(x), body(x), `call ${i + 1}`);
      }
      expect(f.stats.replays).toBeGreaterThan(0);
    });
  });

  it('a module argument whose parameters change in place (optimizer) or are replaced (new parameter) is read live', () => {
    withSeed('jit module parameters', (next) => {
      const model = new nn.Sequential(new nn.Linear(4, 8), new nn.Tanh(), new nn.Linear(8, 2));
      const body = (m: nn.Sequential, x: Tensor) => m.forward(x).softmax(-1);
      const f = jit(body);
      const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
      for (let i = 0; i < CALLS; i++) {
        const x = randTensor(next, [3, 4]);
        expectSameTensor(f(model, x), body(model, x), `call ${i + 1}`);
        // An eager training step changes the parameters in place.
        opt.zeroGrad();
        nn.mseLoss(model.forward(x), randTensor(next, [3, 2])).backward();
        opt.step();
        // Every few calls a layer gets a new weight tensor of the same shape.
        if (i % 4 === 3) (model.layers[2] as nn.Linear).weight = nn.parameter(randTensor(next, [2, 8]));
      }
      expect(f.stats.traces).toBe(2);
      expect(f.stats.replays).toBe(CALLS - 2);
    });
  });

  it('gradients that accumulate across calls (zeroGrad only now and then, outside) match eager', () => {
    withSeed('jit accumulated grads', (next) => {
      const eager = new nn.Linear(3, 2), compiled = new nn.Linear(3, 2);
      compiled.loadStateDict(eager.stateDict());
      const body = (m: nn.Linear, x: Tensor) => {
        const loss = m.forward(x).square().sum();
        loss.backward();
        return loss.detach();
      };
      const f = jit(body);
      for (let i = 0; i < CALLS; i++) {
        const x = randTensor(next, [4, 3]);
        expectSameTensor(f(compiled, x), body(eager, x), `call ${i + 1}`);
        expectSameTensor(compiled.weight.grad, eager.weight.grad!, `weight.grad after call ${i + 1}`);
        expectSameTensor(compiled.bias!.grad, eager.bias!.grad!, `bias.grad after call ${i + 1}`);
        if (i % 3 === 2) {
          eager.zeroGrad();
          compiled.zeroGrad();
        }
      }
      expect(f.stats.replays).toBeGreaterThan(0);
    });
  });

  it('a captured tensor written in place inside the function is updated once per call', () => {
    withSeed('jit captured written', (next) => {
      // The same code over two running buffers: one compiled, one eager.
      const make = (running: Tensor) => (x: Tensor) => {
        running.mul_(0.9).add_(x.mean(0).mul(0.1));
        const centered = x.sub(running);
        return centered.sum().gt(0).item() ? centered : centered.neg();
      };
      const running = zeros([3]), twin = zeros([3]);
      const f = jit(make(running)), eager = make(twin);
      // Random inputs may flip the branch on every call and spend the recompile budget before a
      // trace is confirmed; inputs well above the running mean first take one branch three times
      // over (trace, confirm, replay), so the random calls below replay it wherever they take it.
      for (let i = 0; i < 3; i++) {
        const x = randTensor(next, [4, 3], 4, 5);
        expectSameTensor(f(x), eager(x), `steady call ${i + 1}`);
        expectSameTensor(running, twin, `running after steady call ${i + 1}`);
      }
      for (let i = 0; i < CALLS; i++) {
        const x = randTensor(next, [4, 3], -1, 1.2);
        expectSameTensor(f(x), eager(x), `call ${i + 1}`);
        expectSameTensor(running, twin, `running after call ${i + 1}`);
      }
      expect(f.stats.replays).toBeGreaterThan(0);
    });
  });

  it('a module whose buffers are updated in place (BatchNorm running statistics) matches eager, in train and eval mode', () => {
    withSeed('jit batchnorm buffers', (next) => {
      const eager = new nn.BatchNorm1d(3), compiled = new nn.BatchNorm1d(3);
      const body = (m: nn.BatchNorm1d, x: Tensor) => m.forward(x).mul(2);
      const f = jit(body);
      for (let i = 0; i < CALLS; i++) {
        // Evaluation mode for a few calls in the middle: another signature.
        const training = i < 5 || i > 8;
        eager.train(training);
        compiled.train(training);
        const x = randTensor(next, [5, 3], -2, 3);
        expectSameTensor(f(compiled, x), body(eager, x), `call ${i + 1}`);
        for (const [name, t] of eager.namedBuffers()) {
          expectSameTensor(compiled.stateDict()[name], t, `${name} after call ${i + 1}`);
        }
      }
      expect(f.stats.replays).toBe(CALLS - 4);
    });
  });

  it('a closure-captured module listed in captures sees a replaced parameter', () => {
    withSeed('jit captured module', (next) => {
      const layer = new nn.Linear(3, 3);
      const body = (x: Tensor) => layer.forward(x).relu();
      const f = jit(body, { captures: () => ({ layer }) });
      for (let i = 0; i < CALLS; i++) {
        if (i % 3 === 2) layer.weight = nn.parameter(randTensor(next, [3, 3]));
        const x = randTensor(next, [2, 3]);
        expectSameTensor(f(x), body(x), `call ${i + 1}`);
      }
      expect(f.stats.replays).toBe(CALLS - 2);
    });
  });
});

describe('nesting', () => {
  it('a jit function called inside another runs inline in the outer trace', () => {
    withSeed('jit nested', (next) => {
      const innerBody = (x: Tensor) => x.mul(2).exp();
      const inner = jit(innerBody);
      const outer = jit((x: Tensor, y: Tensor) => inner(x).add(inner(y)).log());
      const eager = (x: Tensor, y: Tensor) => innerBody(x).add(innerBody(y)).log();
      for (let i = 0; i < CALLS; i++) {
        const x = randTensor(next, [3]), y = randTensor(next, [3]);
        expectSameTensor(outer(x, y), eager(x, y), `call ${i + 1}`);
      }
      expect(outer.stats).toMatchObject({ traces: 2, replays: CALLS - 2 });
      // Only the two outer traces ran the inner function, inline.
      expect(inner.stats).toMatchObject({ calls: 4, traces: 0, replays: 0 });
    });
  });
});

describe('shapes', () => {
  it('a new shape makes a new signature; returning to an old shape hits the cache', () => {
    withSeed('jit shapes', (next) => {
      const body = (x: Tensor) => x.softmax(-1).mul(x).sum(0);
      const f = jit(body);
      const shapes = [[2, 3], [2, 3], [2, 3], [5, 4], [5, 4], [5, 4], [2, 3], [5, 4], [1, 7], [1, 7], [1, 7], [2, 3], [1, 7]];
      shapes.forEach((shape, i) => {
        const before = { ...f.stats };
        const x = randTensor(next, shape);
        expectSameTensor(f(x), body(x), `call ${i + 1} ${JSON.stringify(shape)}`);
        // Calls 7 on return to earlier shapes: cache hits, no tracing. A new shape of the
        // same computation is confirmed by its one trace (its first call); it replays after.
        if (i >= 6 && i !== 8) {
          expect(f.stats.traces, `call ${i + 1}`).toBe(before.traces);
          expect(f.stats.replays, `call ${i + 1}`).toBe(before.replays + 1);
        }
      });
      expect(f.stats.traces).toBe(4);
      expect(f.stats.variants).toBe(3);
    });
  });
});

describe('exceptions', () => {
  it('an exception inside the function caches nothing: the next call traces again', () => {
    withSeed('jit exception', (next) => {
      const body = (x: Tensor) => {
        const y = x.mul(2);
        if (x.max().gt(0.9).item()) throw new RangeError('too large');
        return y.add(1).tanh();
      };
      const f = jit(body);
      const big = () => {
        const x = randTensor(next, [4], -0.5, 0.5);
        x.narrow(0, 2, 1).fill_(0.95);
        return x;
      };
      // A failing first call leaves nothing behind: two more traces are needed to compile.
      expect(() => f(big())).toThrow(RangeError);
      expect(f.stats.traces).toBe(1);
      for (let i = 0; i < CALLS; i++) {
        const before = { ...f.stats };
        if (i % 4 === 3) {
          expect(() => f(big()), `call ${i + 1}`).toThrow('too large');
          expect(f.stats.variants, `call ${i + 1}`).toBe(before.variants);
          expect(f.stats.traces, `call ${i + 1}`).toBe(before.traces + 1);
        } else {
          const x = randTensor(next, [4], -0.5, 0.5);
          expectSameTensor(f(x), body(x), `call ${i + 1}`);
        }
      }
      expect(f.stats.traces).toBe(1 + 2 + 3);
      expect(f.stats.variants).toBe(1);
    });
  });

  it('a replay that fails a guard after an in-place write leaves the written tensor unchanged (strict)', () => {
    withSeed('jit strict in-place', (next) => {
      const body = (x: Tensor, acc: Tensor) => {
        acc.add_(x);
        return acc.sum().gt(0).item() ? acc.mul(2) : acc.neg();
      };
      const f = jit(body, { strict: true });
      const acc = zeros([4]);
      let thrown = 0;
      for (let i = 0; i < CALLS; i++) {
        // Keep acc positive for the compiling calls, then push it negative now and then.
        const x = i < 3 || i % 3 !== 0 ? randTensor(next, [4], 0, 1) : randTensor(next, [4], -1, 0).sub(acc.sum().item());
        const before = snapshot(acc);
        const twin = snapshot(acc);
        const want = body(x, twin);
        let got: Tensor | undefined;
        try {
          got = f(x, acc);
        } catch (e) {
          expect(e).toBeInstanceOf(JitError);
          thrown++;
        }
        if (got === undefined) {
          expectSameTensor(acc, before, `call ${i + 1}: acc after a failed replay`);
        } else {
          expectSameTensor(got, want, `call ${i + 1}`);
          expectSameTensor(acc, twin, `call ${i + 1}: acc`);
        }
      }
      expect(thrown).toBeGreaterThan(0);
    });
  });

  it('a replay that fails a guard after an in-place write runs eagerly and writes once', () => {
    withSeed('jit fallback in-place', (next) => {
      const body = (x: Tensor, acc: Tensor) => {
        acc.mul_(0.5).add_(x);
        return acc.sum().gt(0).item() ? acc.mul(2) : acc.neg();
      };
      const f = jit(body);
      const acc = zeros([4]), twin = zeros([4]);
      for (let i = 0; i < CALLS; i++) {
        const x = randTensor(next, [4], i % 3 === 0 ? -1 : -0.2, i % 3 === 0 ? 0.2 : 1);
        expectSameTensor(f(x, acc), body(x, twin), `call ${i + 1}`);
        expectSameTensor(acc, twin, `call ${i + 1}: acc`);
      }
      expect(f.stats.replays).toBeGreaterThan(0);
    });
  });

  it('a replay that fails a guard after writing into a .grad in place leaves the gradient unchanged', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    p.grad = tensor([1, 1]);
    const f = jit((x: Tensor) => {
      noGrad(() => p.grad!.mul_(2));
      return x.sum().item() > 0 ? x.mul(2) : x.neg();
    });
    const signs = [1, 1, -1, 1, -1, -1];
    signs.forEach((sign, i) => {
      f(tensor([sign, sign]));
      expect(Array.from(p.grad!.data()), `call ${i + 1}`).toEqual([2 ** (i + 1), 2 ** (i + 1)]);
    });
    expect(f.stats.fallbacks).toBeGreaterThan(0);
    expect(f.stats.replays).toBeGreaterThan(0);
  });

  it('a replay that fails a guard after drawing random numbers does not advance the random stream', () => {
    withSeed('jit fallback random', (next) => {
      const body = (x: Tensor) => {
        const d = nn.dropout(x, 0.5);
        return d.sum().gt(0).item() ? d.mul(2) : d.neg();
      };
      const f = jit(body);
      const inputs = Array.from({ length: CALLS + 4 }, () => randTensor(next, [6]));
      manualSeed(11);
      const want = inputs.map((x) => body(x));
      manualSeed(11);
      inputs.forEach((x, i) => expectSameTensor(f(x), want[i]!, `call ${i + 1}`));
      expect(f.stats.fallbacks).toBeGreaterThan(0);
    });
  });
});

describe('async functions', () => {
  const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

  it('an async function with awaits inside gives eager results', async () => {
    await withSeedAsync('jit async', async (next) => {
      const body = async (x: Tensor, y: Tensor) => {
        const a = x.mul(y);
        await tick();
        const b = a.exp().add(x);
        await null;
        return b.sum(0);
      };
      const f = jit(body);
      for (let i = 0; i < CALLS; i++) {
        const x = randTensor(next, [3, 2]), y = randTensor(next, [3, 2]);
        const got = f(x, y);
        expect(got).toBeInstanceOf(Promise);
        expectSameTensor(await got, await body(x, y), `call ${i + 1}`);
      }
      expect(f.stats.replays).toBe(CALLS - 2);
    });
  });

  it('strict mode on an async function rejects the returned promise instead of throwing', async () => {
    await withSeedAsync('jit async strict', async (next) => {
      const body = async (x: Tensor) => {
        await tick();
        return x.sum().gt(0).item() ? x.mul(3) : x.neg();
      };
      const f = jit(body, { strict: true });
      let rejected = 0;
      for (let i = 0; i < CALLS; i++) {
        const x = withSumSign(next, [3], i < 3 || i % 2 === 0 ? 1 : -1);
        let result: Promise<Tensor> | undefined;
        expect(() => (result = f(x)), `call ${i + 1} must not throw synchronously`).not.toThrow();
        try {
          expectSameTensor(await result!, await body(x), `call ${i + 1}`);
        } catch (e) {
          expect(e, `call ${i + 1}`).toBeInstanceOf(JitError);
          rejected++;
        }
      }
      expect(rejected).toBe(5);
    });
  });

  it('two interleaved calls of an async jit function each get their own result', async () => {
    await withSeedAsync('jit async interleaved', async (next) => {
      const body = async (x: Tensor, w: Tensor) => {
        let h = x.matmul(w);
        await tick();
        h = h.tanh();
        await tick();
        if (h.sum().gt(0).item()) h = h.mul(2);
        await tick();
        return h.add(x.sum(-1, true));
      };
      const f = jit(body);
      for (let i = 0; i < 8; i++) {
        const xa = randTensor(next, [2, 3]), wa = randTensor(next, [3, 3]);
        const xb = randTensor(next, [2, 3]), wb = randTensor(next, [3, 3]);
        const [ga, gb] = await Promise.all([f(xa, wa), f(xb, wb)]);
        expectSameTensor(ga, await body(xa, wa), `round ${i + 1}, first call`);
        expectSameTensor(gb, await body(xb, wb), `round ${i + 1}, second call`);
      }
      expect(f.stats.calls).toBe(16);
      expect(f.stats.replays).toBeGreaterThan(0);
    });
  });
});
