/** The uniform block of a kernel: arg offsets, scalar arguments and recorded constants, packed per launch. */
import { type GpuDType, wgslType } from '../wgsl-prims.js';
import { InternalError } from '../../../runtime/errors.js';
import { int, type SizeText } from './common.js';
import { refCast } from '../../ir/primitives.js';
import { noSymbolicSizes, type SymbolicSizes } from '../../sizes.js';

/** A uniform word: a scalar argument, a recorded constant, or (raw) a symbolic size. */
interface Slot {
  slot: number;
  index: number;
  dtype: GpuDType;
  value?: number;
  raw?: true;
}

/**
 * The uniform slots of one kernel: arg offsets first, then one slot per (scalar, dtype) used
 * and per recorded constant. Constants travel as uniforms rather than literals because the
 * shader compiler folds arithmetic with known constants (x * 0 → 0, wrong for Inf and NaN).
 * Symbolic sizes (see compiler/sizes.ts) travel the same way, as raw u32 words.
 */
export class Uniforms {
  private readonly scalarSlots = new Map<string, Slot>();
  private extra = 0;
  constructor(readonly nOffsets: number, private readonly sizes: SymbolicSizes = noSymbolicSizes) {}

  /** Whether `owner[key]` of the spec is a symbolic size. */
  isSymbolic(owner: object, key: string | number): boolean {
    return this.sizes.nameOf(owner, key) !== undefined;
  }
  /** `owner[key]` of the spec: a number, or its uniform word when it is a symbolic size. */
  size(owner: object, key: string | number): SizeText {
    const value = (owner as Record<string | number, number>)[key]!;
    const name = this.sizes.nameOf(owner, key);
    if (name === undefined) return value;
    return { value, text: this.#slot(name, { index: -1, dtype: 'int32', value, raw: true }) };
  }
  /** `owner[key] / 4`, a stride in vec4 units: a uniform word of its own when `owner[key]` is symbolic. */
  quarter(owner: object, key: string | number): SizeText {
    const value = (owner as Record<string | number, number>)[key]! / 4;
    const name = this.sizes.nameOf(owner, key);
    return this.derived(`${name}/4`, value, name !== undefined);
  }
  /** A number computed from sizes (`name` says which): a uniform word when any of them is symbolic. */
  derived(name: string, value: number, symbolic: boolean): SizeText {
    return symbolic ? { value, text: this.#slot(name, { index: -1, dtype: 'int32', value, raw: true }) } : value;
  }

  /** The u32 expression of uniform word `slot`. */
  static word(slot: number): string {
    return `u[${int(slot >> 2)}][${int(slot & 3)}]`;
  }
  offset(arg: number): string {
    return Uniforms.word(arg);
  }
  /** The expression of scalar argument `index` converted to `dtype`. */
  scalar(index: number, dtype: GpuDType): string {
    return this.#slot(`${index}|${dtype}`, { index, dtype });
  }
  /** The expression of a recorded constant, already stored as `dtype` stores it. */
  literal(value: number, dtype: GpuDType): string {
    if (typeof value !== 'number') throw new InternalError(`wgsl: literal ${String(value)} is not a number`);
    return this.#slot(`L${Object.is(value, -0) ? '-0' : value}|${dtype}`, { index: -1, dtype, value });
  }
  #slot(key: string, entry: Omit<Slot, 'slot'>): string {
    let s = this.scalarSlots.get(key);
    if (s === undefined) {
      if (this.extra > 0) throw new InternalError('wgsl: scalar slots must be taken before raw words are reserved');
      s = { slot: this.nOffsets + this.scalarSlots.size, ...entry };
      this.scalarSlots.set(key, s);
    }
    const w = Uniforms.word(s.slot);
    if (entry.raw) return w;
    return wgslType(entry.dtype) === 'f32' ? `bitcast<f32>(${w})` : wgslType(entry.dtype) === 'i32' ? `bitcast<i32>(${w})` : w;
  }
  /** Reserves `n` raw words after the scalars (random's key and counter words). */
  reserve(n: number): number {
    const first = this.nOffsets + this.scalarSlots.size + this.extra;
    this.extra += n;
    return first;
  }
  get words(): number {
    return Math.max(4, Math.ceil((this.nOffsets + this.scalarSlots.size + this.extra) / 4) * 4);
  }
  declaration(binding: number): string {
    return `@group(0) @binding(${int(binding)}) var<uniform> u: array<vec4<u32>, ${int(this.words / 4)}>;`;
  }
  /** Packs one call's offsets and scalars (uniform words after them are left for the caller). */
  pack(offsets: readonly number[], scalars: readonly number[]): Uint32Array {
    const words = new Uint32Array(this.words);
    if (offsets.length !== this.nOffsets) throw new InternalError(`wgsl: expected ${this.nOffsets} offsets, got ${offsets.length}`);
    for (let a = 0; a < offsets.length; a++) {
      const o = offsets[a]!;
      if (!Number.isSafeInteger(o) || o < 0 || o >= 4294967296) throw new InternalError(`wgsl: offset ${o} of arg ${a} is not a u32`);
      words[a] = o;
    }
    if (this.scalarSlots.size > 0) {
      const f32 = new Float32Array(words.buffer);
      const i32 = new Int32Array(words.buffer);
      for (const { slot, index, dtype, value, raw } of this.scalarSlots.values()) {
        // A size word: negative strides wrap to two's complement, as u32 literals do.
        if (raw) {
          words[slot] = value! >>> 0;
          continue;
        }
        const x = value ?? scalars[index];
        if (typeof x !== 'number') throw new InternalError(`wgsl: scalar ${index} is missing`);
        const v = refCast(x, dtype);
        if (wgslType(dtype) === 'f32') f32[slot] = v;
        else if (wgslType(dtype) === 'i32') i32[slot] = v;
        else words[slot] = v;
      }
    }
    return words;
  }
}
