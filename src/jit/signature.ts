/**
 * The signature of a call: the arguments walked as a tree. Tensors contribute shape,
 * dtype and device (and become input slots); numbers their value, unless that position
 * turned out to change from call to call (then just "a number", fed in at replay);
 * strings and booleans their value; Modules their parameters, buffers, train/eval mode and
 * the primitive and tensor fields of every submodule; the object a method is called on
 * (`this`) its fields, so a flag or tensor reassigned between calls is seen; other objects
 * their identity.
 */
import type { DType } from '../../runtime/dtype.js';
import { storedValue } from '../../runtime/stored.js';
import { Module } from '../nn/module.js';
import { Tensor } from '../tensor.js';

/** The walked arguments. */
export interface Walked {
  /** The structure with every number masked; `keyOf` adds the numbers that are not dynamic. */
  shapeKey: string;
  tensors: Tensor[];
  /** Every number leaf, by position in walk order. */
  numbers: number[];
  /** With `paths`: where each leaf sits and what it contributed to the key, in walk order. */
  leaves?: Leaf[];
}

/** A leaf of the walk: `args[2]`, `args[1].scale`, `this.training` or a closure variable's name, and its key text. */
export interface Leaf {
  path: string;
  token: string;
}

/** What the walked values are: a method's receiver first, closure variables (an object of them) last. */
export interface WalkRoots {
  self?: boolean;
  captures?: boolean;
  /** Collect each leaf's path (for messages; costs string building, so only when a signature is new). */
  paths?: boolean;
}

/** The cache key: the structure plus the value of every number not known to change. */
export function keyOf(w: Walked, dynamic: ReadonlySet<number> | undefined): string {
  let key = w.shapeKey + '#';
  for (let i = 0; i < w.numbers.length; i++) {
    const n = w.numbers[i]!;
    key += dynamic?.has(i) ? 'N,' : (Object.is(n, -0) ? '-0' : String(n)) + ',';
  }
  return key;
}

const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;

function identity(o: object): number {
  let id = objectIds.get(o);
  if (id === undefined) {
    id = nextObjectId++;
    objectIds.set(o, id);
  }
  return id;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A module field that belongs in the signature: a primitive, a tensor, or an array of primitives. */
function isModuleSetting(x: unknown): boolean {
  if (x instanceof Tensor) return true;
  if (Array.isArray(x)) return x.every((e) => e === null || (typeof e !== 'object' && typeof e !== 'function'));
  return x === null || (typeof x !== 'object' && typeof x !== 'function');
}

/** `base.key`, or `base[key]` when the key is not an identifier; a bare key at the root of closure variables. */
function member(base: string, key: string): string {
  if (base === '') return key;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

/** Key texts of tensors seen in calls: [without gradient, requiring one]. */
const tensorTokens = new WeakMap<Tensor, [string, string]>();

/**
 * A tensor's key text. Its dtype, shape, strides and device never change, so the text is
 * made once per tensor (joining the shape on every call was a tenth of a jit call's time
 * on [16] tensors); whether it requires a gradient can change, and is looked up each time.
 */
function tensorToken(t: Tensor): string {
  let tokens = tensorTokens.get(t);
  if (tokens === undefined) {
    // Strides are part of the signature (compiled kernels bake them in); contiguous ones follow from the shape.
    const layout = `T${t.dtype}[${t.shape}]${t.isContiguous ? '' : `/${t.strides}`}${t.device}`;
    tensorTokens.set(t, (tokens = [`${layout};`, `${layout}g;`]));
  }
  return tokens[t.requiresGrad ? 1 : 0];
}

/** Walks the arguments of a call (`roots` says which of them are `this` and the closure variables). */
export function walkArgs(args: readonly unknown[], roots: WalkRoots = {}): Walked {
  const tensors: Tensor[] = [];
  const numbers: number[] = [];
  const leaves: Leaf[] | undefined = roots.paths ? [] : undefined;
  const seen = new Map<Tensor, number>();
  let shapeKey = '';
  const emit = (s: string) => { shapeKey += s; };
  /** Emits a leaf's key text, noting where it sits when paths are collected. */
  const leaf = (token: string, path: string | undefined) => {
    shapeKey += token;
    if (leaves !== undefined && path !== undefined) leaves.push({ path, token });
  };
  const tensor = (t: Tensor, path: string | undefined) => {
    const alias = seen.get(t);
    if (alias !== undefined) return leaf(`=${alias};`, path);
    seen.set(t, tensors.length);
    tensors.push(t);
    leaf(tensorToken(t), path);
  };
  // `path` is undefined unless paths are collected, so the per-call walk builds no path strings.
  const sub = (path: string | undefined, key: string | number): string | undefined => {
    if (path === undefined) return undefined;
    return typeof key === 'number' ? `${path}[${key}]` : member(path, key);
  };
  /** A submodule's path from its dotted name ('' for the module itself). */
  const within = (path: string | undefined, dotted: string): string | undefined => (dotted === '' ? path : dotted.split('.').reduce(sub, path));
  const fields = (o: object, path: string | undefined, keep: (x: unknown) => boolean, prefix = '') => {
    for (const [key, x] of Object.entries(o)) {
      if (!keep(x)) continue;
      emit(`${prefix}${key}=`);
      walk(x, sub(path, key));
    }
  };
  const walk = (v: unknown, path: string | undefined): void => {
    if (v instanceof Tensor) return tensor(v, path);
    switch (typeof v) {
      case 'number': {
        numbers.push(v);
        if (leaves !== undefined && path !== undefined) leaves.push({ path, token: `N${Object.is(v, -0) ? '-0' : v};` });
        return emit('N;');
      }
      case 'string': return leaf(`s${JSON.stringify(v)};`, path);
      case 'boolean': case 'undefined': case 'bigint': return leaf(`${(typeof v)[0]}${String(v)};`, path);
      case 'function': case 'symbol': return leaf(`o${identity(v as object)};`, path);
    }
    if (v === null) return leaf('null;', path);
    const o = v as object;
    if (Array.isArray(o)) {
      emit('[');
      o.forEach((x, i) => walk(x, sub(path, i)));
      return emit(']');
    }
    if (o instanceof Module) {
      emit(`M${o.constructor.name}{`);
      for (const [name, m] of o.namedModules()) leaf(m.training ? 't' : 'e', sub(within(path, name), 'training'));
      for (const [name, t] of [...o.namedParameters(), ...o.namedBuffers()]) {
        emit(`${name}:`);
        tensor(t, within(path, name));
      }
      // Settings held in plain fields (a gain, eps, an activation's variant) and tensors that
      // are not registered differ between instances that share one @jit method.
      for (const [name, m] of o.namedModules()) fields(m, within(path, name), (x) => isModuleSetting(x), name === '' ? '' : `${name}.`);
      return emit('}');
    }
    if (isPlainObject(o)) {
      emit('{');
      for (const [k, x] of Object.entries(o)) {
        emit(`${JSON.stringify(k)}:`);
        walk(x, sub(path, k));
      }
      return emit('}');
    }
    return leaf(`o${identity(o)};`, path);
  };
  args.forEach((a, i) => {
    const self = roots.self === true && i === 0;
    const captures = roots.captures === true && i === args.length - 1;
    const path = leaves === undefined ? undefined : self ? 'this' : captures ? '' : `args[${i - (roots.self ? 1 : 0)}]`;
    if (self && a !== null && typeof a === 'object' && !(a instanceof Module) && !isPlainObject(a) && !Array.isArray(a)) {
      // A plain class's instance: its fields steer its @jit methods as a Module's settings do.
      emit(`C${identity(a)}{`);
      fields(a, path, (x) => typeof x !== 'function');
      return emit('}');
    }
    walk(a, path);
  });
  return leaves === undefined ? { shapeKey, tensors, numbers } : { shapeKey, tensors, numbers, leaves };
}

/** Positions of the numbers that differ between two walks of the same shape. */
export function changedNumbers(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  a.forEach((x, i) => { if (!Object.is(x, b[i])) out.push(i); });
  return out;
}

/** What a one-element tensor of `dtype` holds when given `n` (a dynamic number is fed in this way). */
export function storedAs(n: number, dtype: DType): number {
  return storedValue(n, dtype);
}
