/**
 * What a signature holds, and how many of them a function may compile: numbers a branch
 * may read are keyed by value unless kiln sees the branch (the rewrite) or the user opts in;
 * the fields of `this` steer @jit methods of plain classes; recompiles stop at a bound with
 * one warning naming what kept changing; misapplied decorators and conditions plain
 * JavaScript gets wrong are reported where they are written. Every result is compared, bit
 * for bit, with running the same function eagerly.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JitError, Tensor, jit, tensor } from '../../../src/node.js';
import { withSeed } from '../random-inputs.js';
import { expectSameTensor, lineOf, randTensor } from './compare.js';

const here = fileURLToPath(import.meta.url);

afterEach(() => {
  vi.restoreAllMocks();
});

/** Warnings printed by console.warn from now on (muted). */
function warnings(): () => string[] {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  return () => warn.mock.calls.map((c) => String(c[0]));
}

describe('numbers a branch reads', () => {
  it('a number used in tensor math and in a JS condition is right on every call by default (no rewrite)', () => {
    withSeed('jit number branch default', (next) => {
      const body = (x: Tensor, n: number) => (n > 3 ? x.mul(n) : x.add(n));
      const f = jit(body);
      for (const [i, n] of [1, 2, 1, 2, 5, 5, 2, 5].entries()) {
        const x = randTensor(next, [3]);
        expectSameTensor(f(x, n), body(x, n), `call ${i + 1} (n ${n})`);
      }
      // Each value compiled on its own: 1 and 2 replay.
      expect(f.stats.replays).toBeGreaterThan(0);
    });
  });

  it('a number read from an object argument (cfg.scale) in a condition is right on every call by default', () => {
    withSeed('jit number field default', (next) => {
      const body = (x: Tensor, cfg: { scale: number }) => (cfg.scale >= 1 ? x.mul(cfg.scale) : x.sub(cfg.scale));
      const f = jit(body);
      for (const [i, scale] of [0.5, 0.25, 0.5, 0.25, 2, 0.5, 3].entries()) {
        const x = randTensor(next, [4]);
        expectSameTensor(f(x, { scale }), body(x, { scale }), `call ${i + 1} (scale ${scale})`);
      }
    });
  });

  it('under the rewrite, a comparison of a number argument or field is a guard: right, fed in, and replayed', () => {
    withSeed('jit number branch rewritten', (next) => {
      const byArg = (x: Tensor, n: number) => (n > 3 ? x.mul(n) : x.add(n));
      const byField = (x: Tensor, cfg: { scale: number }) => (cfg.scale >= 1 ? x.mul(cfg.scale) : x.sub(cfg.scale));
      const f = jit(byArg, { rewrite: true });
      const g = jit(byField, { rewrite: true });
      const values = [1, 2, 1.5, 2.5, 5, 0.5, 4, 6, 7, 1.25, 8, 9];
      values.forEach((n, i) => {
        const x = randTensor(next, [3]);
        expectSameTensor(f(x, n), byArg(x, n), `byArg call ${i + 1} (n ${n})`);
        expectSameTensor(g(x, { scale: n / 4 }), byField(x, { scale: n / 4 }), `byField call ${i + 1} (scale ${n / 4})`);
      });
      // One variant per branch, each replayed with values it never traced.
      for (const h of [f, g]) {
        expect(h.stats.variants).toBe(2);
        expect(h.stats.replays).toBeGreaterThanOrEqual(values.length - 5);
      }
    });
  });

  it('events name a changing number by its argument (the learning rate is args[2])', () => {
    withSeed('jit number names', (next) => {
      const body = (w: Tensor, g: Tensor, lr: number) => w.sub(g.mul(lr));
      const f = jit(body, { dynamicNumbers: true });
      for (let i = 0; i < 4; i++) {
        const w = randTensor(next, [3]), g = randTensor(next, [3]);
        expectSameTensor(f(w, g, 0.1 / (i + 1)), body(w, g, 0.1 / (i + 1)), `call ${i + 1}`);
      }
      const events = f.explain(randTensor(next, [3]), randTensor(next, [3]), 0.01).events.join('\n');
      expect(events).toContain('number args[2] changed');
      expect(events).not.toContain('position');
    });
  });
});

describe('the recompile limit', () => {
  it('a number that changes on every call compiles 8 signatures, then runs eagerly with one warning naming it', () => {
    withSeed('jit recompile limit', (next) => {
      const log = warnings();
      const body = (x: Tensor, step: number) => x.mul(step).exp();
      const f = jit(body);
      for (let i = 0; i < 100; i++) {
        const x = randTensor(next, [3]);
        expectSameTensor(f(x, i), body(x, i), `call ${i + 1}`); // MARK recompile call
      }
      expect(f.stats.traces).toBe(8);
      expect(f.stats.recompiles).toBe(7);
      expect(f.stats.untraced).toBe(92);
      expect(log()).toHaveLength(1);
      const message = log()[0]!;
      expect(message).toContain(`called at ${here}:${lineOf(here, 'MARK recompile call')}:`);
      expect(message).toContain('8 signatures compiled (recompileLimit); number args[1] changed');
      expect(message).toContain('dynamicNumbers: true');
    });
  });

  it('a closure counter the function increments (captures, as the rewrite adds them) traces at most 9 times in 100 calls and warns once', () => {
    withSeed('jit closure counter', (next) => {
      const log = warnings();
      let runs = 0;
      const body = (x: Tensor) => {
        runs++;
        return x.exp().add(x);
      };
      const f = jit(body, { captures: () => ({ runs }) });
      for (let i = 0; i < 100; i++) {
        const x = randTensor(next, [4]);
        expectSameTensor(f(x), x.exp().add(x), `call ${i + 1}`);
      }
      expect(runs).toBe(100);
      expect(f.stats.traces).toBeLessThanOrEqual(9);
      expect(log()).toHaveLength(1);
      expect(log()[0]).toContain('number closure variable runs changed');
      expect(log()[0]).toContain('if runs is a counter or other JS side effect, keep it outside the jit\'d function');
    });
  });

  it('a branch that alternates on every call compiles both sides (an earlier trace confirms) and replays them', () => {
    withSeed('jit alternating branch', (next) => {
      const body = (x: Tensor) => (x.sum().gt(0).item() ? x.relu().mul(2) : x.neg().add(1));
      const f = jit(body);
      for (let i = 0; i < 12; i++) {
        // Positive and negative inputs in turn: no two consecutive calls take the same branch.
        const x = randTensor(next, [6], 0.1, 1).mul(i % 2 === 0 ? 1 : -1);
        expectSameTensor(f(x), body(x), `call ${i + 1}`);
      }
      // Calls 1-3 trace (the third equals the first), call 4 records the other branch, the rest replay.
      expect(f.stats.variants).toBe(2);
      expect(f.stats.traces).toBe(4);
      expect(f.stats.replays).toBe(8);
      expect(f.explain(tensor([1, 2, 3, 4, 5, 6])).events.some((e) => e.includes('equals an earlier one'))).toBe(true);
    });
  });

  it('signatures that differ only in sizes do not count; recompileLimit is checked', () => {
    withSeed('jit recompile sizes', (next) => {
      const log = warnings();
      const body = (x: Tensor) => x.mul(2).add(1);
      const f = jit(body, { recompileLimit: 2 });
      for (let n = 1; n <= 12; n++) {
        const x = randTensor(next, [n]);
        expectSameTensor(f(x), body(x), `size ${n}`);
      }
      expect(f.stats.untraced).toBe(0);
      expect(log()).toEqual([]);
      expect(() => jit(body, { recompileLimit: 0 })).toThrow('jit: recompileLimit must be a positive integer (got 0)');
    });
  });
});

describe('@jit methods of plain classes', () => {
  /** Applies jit to a method as a standard decorator does. */
  function decorate<T extends object>(cls: { prototype: T }, name: keyof T & string): void {
    const method = cls.prototype[name] as (...args: any[]) => any;
    (cls.prototype as Record<string, unknown>)[name] = jit(method, { kind: 'method', name } as ClassMethodDecoratorContext);
  }

  it('a boolean, a number and a reassigned tensor field of this are part of the signature', () => {
    withSeed('jit plain class this', (next) => {
      class Net {
        training = true;
        scale = 2;
        w = randTensor(next, [3]);
        f(t: Tensor): Tensor {
          return this.training ? t.mul(this.scale).add(this.w) : t.mul(3);
        }
      }
      const eager = Net.prototype.f;
      decorate(Net, 'f');
      const n = new Net();
      const check = (what: string) => {
        const t = randTensor(next, [3]);
        expectSameTensor(n.f(t), eager.call(n, t), what);
      };
      for (let i = 0; i < 3; i++) check(`call ${i + 1}`);
      n.training = false;
      check('after training = false');
      n.training = true;
      n.scale = 5;
      check('after scale = 5');
      n.w = randTensor(next, [3]);
      check('after reassigning w');
      check('again');
    });
  });

  it('a jit(...) field initialiser reading this.k sees k change', () => {
    withSeed('jit field initialiser', (next) => {
      class Scaler {
        k = 2;
        apply = jit((x: Tensor) => x.mul(this.k));
      }
      const s = new Scaler();
      for (let i = 0; i < 3; i++) {
        const x = randTensor(next, [3]);
        expectSameTensor(s.apply(x), x.mul(2), `call ${i + 1}`);
      }
      s.k = 7;
      const x = randTensor(next, [3]);
      expectSameTensor(s.apply(x), x.mul(7), 'after k = 7');
    });
  });

  it('@jit as a legacy (experimentalDecorators) decorator fails where it is applied', () => {
    class Net {
      f(t: Tensor): Tensor {
        return t.mul(2);
      }
    }
    const descriptor = Object.getOwnPropertyDescriptor(Net.prototype, 'f')!;
    const legacy = jit as unknown as (...args: unknown[]) => unknown;
    expect(() => legacy(Net.prototype, 'f', descriptor)).toThrow(JitError);
    expect(() => legacy(Net.prototype, 'f', descriptor)).toThrow(/@jit on Net\.f: this is a legacy decorator call \(experimentalDecorators: true/);
    const factory = jit({ strict: true }) as unknown as (...args: unknown[]) => unknown;
    expect(() => factory(Net.prototype, 'f', descriptor)).toThrow(/legacy decorator call/);
  });

  it('@jit on a class says at decoration that it decorates methods', () => {
    class Net {}
    const decorator = jit as unknown as (...args: unknown[]) => unknown;
    expect(() => decorator(Net, { kind: 'class', name: 'Net' })).toThrow('@jit decorates methods (got a class Net)');
    expect(() => decorator(Net)).toThrow('jit: expects a function or method, got the class Net');
    expect(() => decorator(undefined, { kind: 'field', name: 'step' })).toThrow('@jit decorates methods (got a field step)');
  });
});

describe('conditions plain JavaScript gets wrong', () => {
  it('tracing a function it cannot rewrite names each tensor-method condition with its line, once', () => {
    const log = warnings();
    const body = (x: Tensor) => {
      if (x.sum().gt(0)) return x.mul(2);
      return x.logicalNot().any() ? x : x.neg();
    };
    const f = jit(body); // MARK plain conditions
    for (let i = 0; i < 4; i++) f(tensor([i - 2, 1]));
    expect(log()).toHaveLength(1);
    const message = log()[0]!;
    expect(message).toContain(`jit(body) at ${here}:${lineOf(here, 'MARK plain conditions')}:`);
    expect(message).toContain('`x.sum().gt(0)` (if, line 2 of the function)');
    expect(message).toContain('`x.logicalNot().any()` (?:, line 3 of the function)');
    expect(message).toContain('always true in plain JavaScript');
    expect(message).toContain('kiln/register');
    expect(message).toContain('kiln/vite');
  });

  it('comparisons, plain values and functions without conditions are not warned about', () => {
    const log = warnings();
    const compare = (x: Tensor, y: Tensor) => (x.sum() > y.sum() ? x : y);
    const flag = (x: Tensor, neg: boolean) => (neg ? x.neg() : x);
    jit(compare)(tensor([1]), tensor([2]));
    jit(flag)(tensor([1]), true);
    jit((x: Tensor) => x.add(1))(tensor([1]));
    expect(log()).toEqual([]);
  });

  it('rewrite: true on a function it cannot rewrite does not call a working comparison always true', () => {
    const log = warnings();
    const tol = tensor(0.01);
    const halve = (t: Tensor) => {
      while (t > tol) t = t.div(2);
      return t;
    };
    const f = jit(halve, { rewrite: true });
    expect(f(tensor(1)).item()).toBe(halve(tensor(1)).item());
    expect(log()).toHaveLength(1);
    const message = log()[0]!;
    expect(message).not.toContain('always true');
    expect(message).toContain('`t > tol` (while, line 2 of the function): right on one-element tensors');
    expect(message).toMatch(/jit\(halve\) at \S*signatures\.test\.ts:\d+:\d+/);
  });
});

describe('the recompile warning for arrays', () => {
  it('a history array on this that grows every call is named as one cause', () => {
    withSeed('jit growing history', (next) => {
      const log = warnings();
      class Trainer {
        history: number[] = [];
        scale = 2;
        step = jit((x: Tensor) => x.mul(this.scale));
      }
      const t = new Trainer();
      for (let i = 0; i < 12; i++) {
        const x = randTensor(next, [3]);
        expectSameTensor(t.step(x), x.mul(2), `call ${i + 1}`);
        t.history.push(i);
      }
      expect(log()).toHaveLength(1);
      expect(log()[0]).toContain('the elements of this.history changed on 7 of them');
      expect(log()[0]).toContain('if this.history is a history or other data the function does not read');
    });
  });
});
