/** The optimizer base: parameter groups, per-parameter state, zeroGrad and PyTorch-shaped state dicts. */
import type { DType } from '../../runtime/dtype.js';
import { ValueError, fmtShape } from '../../runtime/errors.js';
import { checkGroups, checkSavedState } from './checks.js';
import { noGrad } from '../autograd/mode.js';
import { keep, tidy } from '../memory.js';
import { Tensor } from '../tensor.js';
import { stateObjectMade, stateWritten } from '../dispatch.js';
import { scalarTensor } from '../ops/creation.js';
import { cast } from '../ops/elementwise.js';

/** A group of parameters with its own hyper-parameters (lr, weightDecay, …). */
export type ParamGroup<O> = O & { params: Tensor[] };

/** Per-parameter optimizer state: tensors (moments) and numbers (step counts). */
export type ParamState = Record<string, Tensor | number>;

/** What `stateDict()` returns: state by parameter index, and groups with parameter indices. */
export interface OptimizerState<O> {
  state: Record<number, ParamState>;
  paramGroups: (O & { params: number[] })[];
}

/** A numeric hyper-parameter's tensors: its value, and whether it is 0 (a bool). */
interface Backing {
  value: Tensor;
  zero: Tensor;
}

/**
 * Numeric hyper-parameters live in 0-d tensors behind number accessors: `group.lr = 0.01`
 * writes the tensor, and updates read the tensor. A compiled (jit) training step replays
 * without running JS, so it must read them from storage to see a schedule's new values.
 * Beside each value, a bool says whether it is 0, for updates whose structure depends on
 * that (see hyperIsZero): a guard on a captured tensor, which WebGPU replays check on the
 * host, and which fails only when the value goes to or from 0.
 */
function backNumbersWithTensors<O extends object>(group: O): Map<string, Backing> {
  const backing = new Map<string, Backing>();
  for (const [key, value] of Object.entries(group)) {
    if (typeof value !== 'number') continue;
    // float64 holds any JS number exactly: `group.lr` reads back what was written, and
    // float64 parameters update with the exact values (hyper() casts for other dtypes).
    const t = { value: scalarTensor(value, 'float64'), zero: scalarTensor(value === 0, 'bool') };
    backing.set(key, t);
    Object.defineProperty(group, key, {
      enumerable: true,
      get: () => t.value.item(),
      set: (v: number) => {
        if (typeof v !== 'number') throw new ValueError(`optimizer: ${key} must be a number (got ${typeof v})`);
        noGrad(() => {
          t.value.fill_(v);
          t.zero.fill_(v === 0);
        });
      },
    });
  }
  return backing;
}

/**
 * Per-parameter state whose field assignments are reported: a jit'd step that assigns one
 * (a first step creating moments, a field replaced by a new tensor) cannot be replayed, since
 * a replay runs no JS. Updates in place (`buf.mul_(m)`) are tensor writes and replay.
 */
function observedState(s: ParamState, owner: object): ParamState {
  return new Proxy(s, {
    set(target, key, value) {
      stateWritten(`assigned the optimizer state field ${String(key)}`, undefined, owner);
      // State lives as long as the optimizer, even when a first step inside tidy() made it.
      if (value instanceof Tensor) keep(value);
      return Reflect.set(target, key, value);
    },
  });
}

/** Base of the optimizers: subclasses implement `update` for one group. */
export abstract class Optimizer<O extends { lr: number }> {
  readonly paramGroups: ParamGroup<O>[];
  readonly state = new Map<Tensor, ParamState>();
  readonly #hyper = new Map<object, Map<string, Backing>>();

  constructor(params: Tensor[] | (Partial<O> & { params: Tensor[] })[], defaults: O) {
    stateObjectMade(this);
    if (!Array.isArray(params) || params.length === 0) throw new ValueError(`${this.constructor.name}: needs a non-empty list of parameters or parameter groups`);
    const groups = checkGroups(this.constructor.name, params);
    const seen = new Set<Tensor>();
    this.paramGroups = groups.map((g) => {
      for (const p of g.params) {
        if (!p.requiresGrad || !p.isLeaf) {
          const got = `${p.isLeaf ? 'tensor that does not require grad' : 'non-leaf tensor'} of shape ${fmtShape(p.shape)}`;
          throw new ValueError(`${this.constructor.name}: parameters must be leaf tensors that require grad (got a ${got})`);
        }
        if (seen.has(p)) throw new ValueError(`${this.constructor.name}: a parameter appears in more than one group`);
        seen.add(p);
      }
      return { ...defaults, ...g, params: g.params.slice() } as ParamGroup<O>;
    });
    for (const g of this.paramGroups) {
      this.validate(g);
      this.#hyper.set(g, backNumbersWithTensors(g));
    }
  }

  /**
   * A numeric hyper-parameter of `group` as a 0-d tensor of `dtype`, for use in update math:
   * the parameter's dtype, so it scales a float32 tensor without promoting it to float64.
   */
  protected hyper(group: O, name: keyof O & string, dtype: DType): Tensor {
    return cast(this.#backing(group, name).value, dtype);
  }

  /**
   * Whether numeric hyper-parameter `name` of `group` is 0, for an update whose structure
   * depends on it; under jit the answer is a guard (a change to or from 0 traces again).
   */
  protected hyperIsZero(group: O, name: keyof O & string): boolean {
    return this.#backing(group, name).zero.item() !== 0;
  }

  #backing(group: O, name: keyof O & string): Backing {
    const t = this.#hyper.get(group)?.get(name);
    if (t === undefined) throw new ValueError(`${this.constructor.name}: ${name} is not a numeric hyper-parameter`);
    return t;
  }

  /** Checks a group's hyper-parameters; throws naming the bad one. */
  protected validate(group: O): void {
    if (!(group.lr >= 0)) throw new ValueError(`${this.constructor.name}: lr must be a non-negative number (got ${group.lr})`);
  }

  /** Updates the parameters of one group from their gradients (called under noGrad). */
  protected abstract update(group: ParamGroup<O>): void;

  /**
   * One optimization step over every parameter that has a gradient. The update arithmetic's
   * temporaries are disposed when each group is done (state the step assigns is kept, see
   * observedState), so an eager step that never disposes leaves none behind.
   */
  step(): void {
    noGrad(() => {
      for (const g of this.paramGroups) tidy(() => this.update(g));
    });
  }

  /** Clears gradients: drops them (default) or fills them with zeros. */
  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (setToNone) p.grad = null;
        else if (p.grad) noGrad(() => p.grad!.zero_());
      }
    }
  }

  /** The state of parameter `p`, created empty on first use. */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (s === undefined) {
      s = observedState({}, this);
      this.state.set(p, s);
    }
    return s;
  }

  /** Hyper-parameters and per-parameter state, parameters referred to by their index. */
  stateDict(): OptimizerState<O> {
    let index = 0;
    const state: Record<number, ParamState> = {};
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...options } = g;
      const ids = params.map((p) => {
        const s = this.state.get(p);
        if (s) state[index] = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v instanceof Tensor ? v.clone() : v]));
        return index++;
      });
      return { ...(options as unknown as O), params: ids };
    });
    return { state, paramGroups };
  }

  /** Restores what `stateDict()` saved; the groups must have the same sizes. */
  loadStateDict(saved: OptimizerState<O>): void {
    if (saved.paramGroups.length !== this.paramGroups.length || saved.paramGroups.some((g, i) => g.params.length !== this.paramGroups[i]!.params.length)) {
      throw new ValueError(`${this.constructor.name}.loadStateDict: the saved parameter groups do not match this optimizer's`);
    }
    const byIndex = this.paramGroups.flatMap((g) => g.params);
    // Everything is checked before anything is replaced, so a bad state dict changes nothing.
    const restored = checkSavedState(`${this.constructor.name}.loadStateDict`, saved, byIndex, this.paramGroups);
    this.state.clear();
    for (const [p, s] of restored) {
      this.state.set(p, observedState(Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v instanceof Tensor ? keep(v.clone()) : v])), this));
    }
    saved.paramGroups.forEach((g, i) => {
      const { params: _ids, ...options } = g;
      Object.assign(this.paramGroups[i]!, options);
    });
  }
}
