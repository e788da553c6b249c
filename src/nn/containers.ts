/** Containers of modules, and the identity layer, as in PyTorch. */
import { ValueError } from '../../runtime/errors.js';
import type { Tensor } from '../tensor.js';
import type { Layer } from './layers.js';
import { Module } from './module.js';

function checkModule(op: string, m: unknown, where: string): Module {
  if (!(m instanceof Module)) {
    throw new ValueError(`${op}: ${where} is not a Module (got ${m === null ? 'null' : typeof m})`);
  }
  return m;
}

/** Returns its input: a placeholder that keeps a model's structure when a layer is switched off. */
export class Identity extends Module implements Layer {
  forward(x: Tensor): Tensor { return x; }
}

/** A list of modules whose parameters the parent sees; children are named 0, 1, … */
export class ModuleList<M extends Module = Module> extends Module implements Iterable<M> {
  readonly #items: M[] = [];
  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }
  /** Adds a module at the end; returns this list. */
  append(m: M): this {
    this.#items.push(checkModule('ModuleList', m, `element ${this.#items.length}`) as M);
    return this;
  }
  /** The module at `i` (negative counts from the end). */
  get(i: number): M {
    const n = this.#items.length;
    if (!Number.isInteger(i) || i < -n || i >= n) {
      throw new ValueError(`ModuleList: index ${i} is out of range for ${n} modules`);
    }
    return this.#items[i < 0 ? i + n : i]!;
  }
  get length(): number { return this.#items.length; }
  [Symbol.iterator](): Iterator<M> { return this.#items[Symbol.iterator](); }
  override namedChildren(): [string, Module][] {
    return this.#items.map((m, i) => [String(i), m]);
  }
  override extraRepr(): string { return ''; }
}

/** Modules by name, in insertion order; the parent sees their parameters as name.param. */
export class ModuleDict<M extends Module = Module> extends Module {
  readonly #items = new Map<string, M>();
  constructor(modules: Record<string, M> = {}) {
    super();
    for (const [k, m] of Object.entries(modules)) this.set(k, m);
  }
  /** Adds or replaces the module under `key`; returns this dict. */
  set(key: string, m: M): this {
    if (typeof key !== 'string' || key === '' || key.includes('.')) {
      throw new ValueError(`ModuleDict: keys must be non-empty strings without '.' (got ${JSON.stringify(key)})`);
    }
    this.#items.set(key, checkModule('ModuleDict', m, `the value of ${key}`) as M);
    return this;
  }
  /** The module under `key`. */
  get(key: string): M {
    const m = this.#items.get(key);
    if (m === undefined) {
      throw new ValueError(`ModuleDict: no module named ${JSON.stringify(key)} (keys: ${[...this.#items.keys()].join(', ') || 'none'})`);
    }
    return m;
  }
  has(key: string): boolean { return this.#items.has(key); }
  keys(): string[] { return [...this.#items.keys()]; }
  get size(): number { return this.#items.size; }
  override namedChildren(): [string, Module][] {
    return [...this.#items];
  }
  override extraRepr(): string { return ''; }
}
