/**
 * The signature of a call: the arguments walked as a tree. Tensors contribute shape,
 * dtype and device (and become input slots); numbers their value, unless that position
 * turned out to change from call to call (then just "a number", fed in at replay);
 * strings and booleans their value; Modules their parameters, buffers, train/eval mode and
 * the primitive and tensor fields of every submodule; other objects their identity.
 */
import { ARRAY_OF, type DType } from '../../runtime/dtype.js';
import { Module } from '../nn/module.js';
import { Tensor } from '../tensor.js';

/** The walked arguments. */
export interface Walked {
  /** The structure with every number masked; `keyOf` adds the numbers that are not dynamic. */
  shapeKey: string;
  tensors: Tensor[];
  /** Every number leaf, by position in walk order. */
  numbers: number[];
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

/** Walks the arguments of a call. */
export function walkArgs(args: readonly unknown[]): Walked {
  const tensors: Tensor[] = [];
  const numbers: number[] = [];
  const seen = new Map<Tensor, number>();
  let shapeKey = '';
  const emit = (s: string) => { shapeKey += s; };
  const tensor = (t: Tensor) => {
    const alias = seen.get(t);
    if (alias !== undefined) return emit(`=${alias};`);
    seen.set(t, tensors.length);
    tensors.push(t);
    // Strides are part of the signature (compiled kernels bake them in); contiguous ones follow from the shape.
    emit(`T${t.dtype}[${t.shape}]${t.isContiguous ? '' : `/${t.strides}`}${t.device}${t.requiresGrad ? 'g' : ''};`);
  };
  const walk = (v: unknown): void => {
    if (v instanceof Tensor) return tensor(v);
    switch (typeof v) {
      case 'number': {
        numbers.push(v);
        return emit('N;');
      }
      case 'string': return emit(`s${JSON.stringify(v)};`);
      case 'boolean': case 'undefined': case 'bigint': return emit(`${(typeof v)[0]}${String(v)};`);
      case 'function': case 'symbol': return emit(`o${identity(v as object)};`);
    }
    if (v === null) return emit('null;');
    const o = v as object;
    if (Array.isArray(o)) {
      emit('[');
      o.forEach(walk);
      return emit(']');
    }
    if (o instanceof Module) {
      emit(`M${o.constructor.name}{`);
      for (const [, m] of o.namedModules()) emit(m.training ? 't' : 'e');
      for (const [name, t] of [...o.namedParameters(), ...o.namedBuffers()]) {
        emit(`${name}:`);
        tensor(t);
      }
      // Settings held in plain fields (a gain, eps, an activation's variant) and tensors that
      // are not registered differ between instances that share one @jit method.
      for (const [path, m] of o.namedModules()) {
        for (const [key, x] of Object.entries(m)) {
          if (key === 'training' || !isModuleSetting(x)) continue;
          emit(`${path}.${key}=`);
          walk(x);
        }
      }
      return emit('}');
    }
    if (isPlainObject(o)) {
      emit('{');
      for (const [k, x] of Object.entries(o)) {
        emit(`${JSON.stringify(k)}:`);
        walk(x);
      }
      return emit('}');
    }
    return emit(`o${identity(o)};`);
  };
  args.forEach(walk);
  return { shapeKey, tensors, numbers };
}

/** Positions of the numbers that differ between two walks of the same shape. */
export function changedNumbers(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  a.forEach((x, i) => { if (!Object.is(x, b[i])) out.push(i); });
  return out;
}

/** What a one-element tensor of `dtype` holds when given `n` (a dynamic number is fed in this way). */
export function storedAs(n: number, dtype: DType): number {
  const one = new ARRAY_OF[dtype](1);
  one[0] = n;
  return one[0]!;
}
