/**
 * Module: the base of layers and models. Parameters, buffers and submodules are found by
 * walking the module's own fields in definition order, so a model is written as a plain
 * class: `this.fc = new Linear(4, 8)` registers the layer and its parameters.
 */
import { isDType, isFloat, type DType } from '../../runtime/dtype.js';
import { DeviceError, ShapeError, ValueError, fmtShape } from '../../runtime/errors.js';
import { sameShape } from '../../compiler/ir/shape.js';
import { noGrad } from '../autograd/mode.js';
import { isDevice, toDevice, toDeviceAsync } from '../device.js';
import { cast } from '../ops/elementwise.js';
import { Tensor, type Device } from '../tensor.js';
import { defaultExtraRepr, moduleRepr } from './repr.js';
import { stateObjectMade, stateWritten } from '../dispatch.js';

const parameters = new WeakSet<Tensor>();

/** Marks `t` as a trainable parameter (requiresGrad on) and returns it. */
export function parameter(t: Tensor): Tensor {
  const p = t.isLeaf ? t : t.detach();
  p.requiresGrad = true;
  parameters.add(p);
  return p;
}

/** True for tensors created by `parameter`. */
export function isParameter(t: unknown): t is Tensor {
  return t instanceof Tensor && parameters.has(t);
}

/** The base class of layers and models. */
export class Module {
  /** Training mode (dropout active, batch norm uses batch statistics). */
  training = true;
  readonly #buffers = new Set<string>();

  constructor() {
    stateObjectMade(this);
  }

  /** Registers a non-trainable tensor (running statistics) that belongs in the state dict. */
  registerBuffer(name: string, t: Tensor): void {
    (this as unknown as Record<string, Tensor>)[name] = t;
    this.#buffers.add(name);
  }

  /** Direct submodules with their field names (arrays of modules are named name.i). */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value)) value.forEach((v, i) => { if (v instanceof Module) out.push([`${key}.${i}`, v]); });
    }
    return out;
  }

  /** Direct submodules. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every module below it, with dotted names. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /** Every parameter with its dotted name, each once. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [key, value] of Object.entries(m)) {
        if (isParameter(value) && !seen.has(value)) {
          seen.add(value);
          out.push([path ? `${path}.${key}` : key, value]);
        }
      }
    }
    return out;
  }

  /** Every parameter, each once. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer with its dotted name. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules(prefix)) {
      for (const name of m.#buffers) out.push([path ? `${path}.${name}` : name, (m as unknown as Record<string, Tensor>)[name]!]);
    }
    return out;
  }

  /** Sets training mode here and below. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) {
      if (m.training !== mode) stateWritten(`switched a ${m.constructor.name} to ${mode ? 'train' : 'eval'} mode`, undefined, m);
      m.training = mode;
    }
    return this;
  }

  /** Sets evaluation mode here and below. */
  eval(): this {
    return this.train(false);
  }

  /** Clears the gradients of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /**
   * Moves every parameter and buffer to `target` (a device), or casts the float ones to it
   * (a dtype), replacing the module's fields; returns this module. As in PyTorch, make the
   * optimizer after moving: it holds the parameter tensors it was given. webgpu → cpu is an
   * asynchronous readback: use `await model.cpu()`.
   */
  to(target: Device | DType): this {
    if (!isDevice(target) && !isDType(target)) {
      throw new ValueError(`Module.to: unknown device or dtype ${String(target)} (devices: cpu, webgpu; dtypes: float32, float64, int32, uint8, bool)`);
    }
    if (isDevice(target)) {
      if (target === 'cpu' && this.#tensors().some((t) => t.device !== 'cpu')) {
        throw new DeviceError("Module.to('cpu'): reading webgpu parameters back is asynchronous; use `await model.cpu()`");
      }
      return this.#replaceTensors((t) => toDevice(t, target));
    }
    return this.#replaceTensors((t) => (isFloat(t.dtype) ? cast(t, target) : t));
  }

  /** Reads every parameter and buffer back to the CPU; resolves to this module. */
  async cpu(): Promise<this> {
    const moved = new Map<Tensor, Tensor>();
    for (const t of this.#tensors()) moved.set(t, await toDeviceAsync(t, 'cpu'));
    return this.#replaceTensors((t) => moved.get(t)!);
  }

  /** Every parameter and buffer of this module and below. */
  #tensors(): Tensor[] {
    return [...this.namedParameters(), ...this.namedBuffers()].map(([, t]) => t);
  }

  /** Replaces each parameter and buffer field by `f` of it (a tensor shared by two fields stays shared). */
  #replaceTensors(f: (t: Tensor) => Tensor): this {
    const done = new Map<Tensor, Tensor>();
    const convert = (t: Tensor, asParameter: boolean): Tensor => {
      let out = done.get(t);
      if (out === undefined) {
        out = noGrad(() => f(t));
        if (out !== t && asParameter) out = parameter(out);
        done.set(t, out);
      }
      return out;
    };
    for (const [, m] of this.namedModules()) {
      const fields = m as unknown as Record<string, unknown>;
      for (const [key, value] of Object.entries(m)) {
        if (isParameter(value)) fields[key] = convert(value, true);
        else if (value instanceof Tensor && m.#buffers.has(key)) fields[key] = convert(value, false);
      }
    }
    return this;
  }

  /** The settings printed inside this module's parentheses (its number, boolean and string fields by default). */
  extraRepr(): string {
    return defaultExtraRepr(this);
  }

  /** The module tree as PyTorch's `repr` prints it. */
  toString(): string {
    return moduleRepr(this);
  }

  /** `console.log(model)` in Node (looked up by its registered symbol, so nothing imports node:util). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** Parameters and buffers by dotted name (tensors shared with the module, not copies). */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, t] of [...this.namedParameters(), ...this.namedBuffers()]) out[name] = t;
    return out;
  }

  /**
   * Copies values into the parameters and buffers in place. With `strict` (default), missing
   * and unexpected names are errors; shapes must always match. Checks everything first, so a
   * failed load changes nothing.
   */
  loadStateDict(state: Record<string, Tensor>, strict = true): void {
    const own = this.stateDict();
    // Own keys only: a name such as "constructor" must not match the objects' prototypes.
    const missing = Object.keys(own).filter((k) => !Object.hasOwn(state, k));
    const unexpected = Object.keys(state).filter((k) => !Object.hasOwn(own, k));
    if (strict && (missing.length || unexpected.length)) {
      throw new ValueError(`loadStateDict: ${missing.length ? `missing ${missing.join(', ')}` : ''}${missing.length && unexpected.length ? '; ' : ''}${unexpected.length ? `unexpected ${unexpected.join(', ')}` : ''}`);
    }
    for (const [name, t] of Object.entries(state)) {
      const target = Object.hasOwn(own, name) ? own[name] : undefined;
      if (target === undefined) continue;
      if (!(t instanceof Tensor)) throw new ValueError(`loadStateDict: ${name} is not a tensor`);
      if (!sameShape(t.shape, target.shape)) {
        throw new ShapeError(`loadStateDict: ${name} has shape ${fmtShape(t.shape)}, the module expects ${fmtShape(target.shape)}`);
      }
      if (t.isDisposed) throw new ValueError(`loadStateDict: ${name} was disposed`);
      if (t.device !== target.device) {
        throw new DeviceError(`loadStateDict: ${name} is on ${t.device}, the module's tensor on ${target.device}; `
          + `move the state dict's tensors to ${target.device} first (nothing was loaded)`);
      }
    }
    noGrad(() => {
      for (const [name, t] of Object.entries(state)) if (Object.hasOwn(own, name)) own[name]!.copy_(t);
    });
  }
}
