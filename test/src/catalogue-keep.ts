/**
 * What a mistake must leave as it was: each `Kept` observes one object (a tensor, a module,
 * an optimizer, a jit'd function, the random stream) as plain data, by *using* it, so the
 * catalogue checks both "unchanged" and "still usable" with one comparison before and after.
 */
import { KilnError, Tensor, nn, noGrad, type optim } from '../../src/index.js';
import { randomState } from '../../src/random.js';

/** One mistake: what it does, the error it must raise and what it must leave alone. */
export interface Mistake {
  name: string;
  /** The objects involved, made fresh, and the bad call. */
  setup: () => { act: () => unknown; kept: Kept[] };
  cls: typeof KilnError;
  /** The function the user called: the message starts with `${op}:`. */
  op: string;
  /** Text the message must contain: the values or shapes it got, and what is valid. */
  says: string[];
  /** Needs a WebGPU device. */
  gpu?: boolean;
}

/** One object involved in a mistake and how to look at it. */
export interface Kept {
  name: string;
  observe: () => unknown | Promise<unknown>;
}

async function valuesOf(t: Tensor): Promise<unknown> {
  return t.device === 'cpu' ? Array.from(t.data(), Number) : Array.from(await t.dataAsync(), Number);
}

/** A tensor's values, shape, dtype, version, autograd flags and gradient; and that ops still accept it. */
export function keepTensor(name: string, t: Tensor): Kept {
  return {
    name,
    observe: async () => ({
      values: await valuesOf(t),
      shape: t.shape.slice(),
      dtype: t.dtype,
      version: t.storage.version,
      requiresGrad: t.requiresGrad,
      grad: t.grad === null ? null : await valuesOf(t.grad),
      used: await valuesOf(noGrad(() => t.mul(1))),
    }),
  };
}

/** A module's parameters and buffers, and its output on a fixed input. */
export function keepModule(name: string, m: nn.Module, input: () => Tensor): Kept {
  return {
    name,
    observe: async () => {
      const state: Record<string, unknown> = {};
      for (const [k, t] of Object.entries(m.stateDict())) state[k] = await valuesOf(t);
      const out = noGrad(() => (m as unknown as { forward(x: Tensor): Tensor }).forward(input()));
      return { state, out: await valuesOf(out) };
    },
  };
}

/** An optimizer's state dict (moments as values). */
export function keepOptimizer(name: string, o: optim.Optimizer<{ lr: number }>): Kept {
  return {
    name,
    observe: async () => {
      const { state, paramGroups } = o.stateDict();
      const moments: Record<string, unknown> = {};
      for (const [i, s] of Object.entries(state)) {
        for (const [k, v] of Object.entries(s)) moments[`${i}.${k}`] = v instanceof Tensor ? await valuesOf(v) : v;
      }
      return { moments, paramGroups };
    },
  };
}

/** A function (typically jit'd) called with fresh good arguments: the same result each time. */
export function keepFunction(name: string, f: (...a: never[]) => unknown, args: () => unknown[]): Kept {
  return {
    name,
    observe: async () => {
      const out = (f as (...a: unknown[]) => unknown)(...args());
      return out instanceof Tensor ? valuesOf(out) : out;
    },
  };
}

/** The position of the random stream (a rejected call must not consume draws). */
export function keepRandom(): Kept {
  return { name: 'the random stream', observe: () => randomState() };
}
