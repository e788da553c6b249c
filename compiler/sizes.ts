/**
 * Symbolic sizes of kernel specs. Every spec kind has a canonical list of its size numbers
 * (shapes, strides, m/n/k, gather and scatter strides and sizes, the random size, integer
 * constants of bodies): its size slots. Specs that differ only in those numbers form a
 * family, keyed by the spec with them erased. The first member of a family renders as a
 * concrete kernel (constant bounds, which V8 and WGSL compilers like); a later member marks symbolic the slots whose numbers differ
 * from the first member's (or from any earlier member's), and renders a size-generic kernel
 * that takes those numbers at launch. Renderers read symbolic slots by name and decide
 * everything that depends on a value (interleaving, remainder loops, zero strides) from the
 * member's own numbers, in a way that shows in the text, so two members share a kernel
 * exactly when their rendered texts are equal.
 */
import type { Expr, KernelSpec, MapSpec, ReduceSpec, RowPass, RowSpec, Store } from './kernel.js';
import { specKey } from './kernel.js';
import { InternalError } from '../runtime/errors.js';

/** One size number of a spec: `owner[key]`, an integer. */
export interface SizeSlot {
  owner: Record<string | number, unknown>;
  key: string | number;
}

function slotsOfArray(list: number[], out: SizeSlot[]): void {
  for (let i = 0; i < list.length; i++) out.push({ owner: list as unknown as Record<number, unknown>, key: i });
}

function slotsOfStrides(strides: number[][], out: SizeSlot[]): void {
  for (const s of strides) slotsOfArray(s, out);
}

function slotsOfBody(body: Expr[], out: SizeSlot[]): void {
  for (const e of body) {
    const owner = e as unknown as Record<string, unknown>;
    if (e.op === 'gatherLoad') out.push({ owner, key: 'stride' }, { owner, key: 'size' });
    // An integer constant is often a size (a mean's divisor); other constants are structure.
    else if (e.op === 'literal' && Number.isSafeInteger(e.value)) out.push({ owner, key: 'value' });
  }
}

function slotsOfStores(stores: Store[], out: SizeSlot[]): void {
  for (const st of stores) {
    if (st.scatter === undefined) continue;
    const owner = st.scatter as unknown as Record<string, unknown>;
    out.push({ owner, key: 'stride' }, { owner, key: 'size' });
  }
}

function slotsOfMap(spec: MapSpec, out: SizeSlot[]): void {
  slotsOfArray(spec.shape, out);
  slotsOfStrides(spec.strides, out);
  slotsOfBody(spec.body, out);
  slotsOfStores(spec.stores, out);
}

/** The layout reduce and row specs share: outer and inner dims, then every arg's strides along them. */
function slotsOfRows(spec: ReduceSpec | RowSpec, out: SizeSlot[]): void {
  for (const dims of [spec.outer, spec.inner]) slotsOfArray(dims, out);
  for (const strides of [spec.outerStrides, spec.innerStrides]) slotsOfStrides(strides, out);
}

function slotsOfReduce(spec: ReduceSpec, out: SizeSlot[]): void {
  slotsOfRows(spec, out);
  slotsOfBody(spec.body, out);
}

function slotsOfPass(pass: RowPass, out: SizeSlot[]): void {
  slotsOfBody(pass.body, out);
  switch (pass.kind) {
    case 'map': return slotsOfStores(pass.stores, out);
    case 'reduce':
    case 'scalar':
      return;
    default: {
      const never: never = pass;
      throw new InternalError(`sizes: unknown row pass ${String(never)}`);
    }
  }
}

/** The size slots of `spec`, in the canonical order of its kind. */
export function sizeSlots(spec: KernelSpec): SizeSlot[] {
  const out: SizeSlot[] = [];
  switch (spec.kind) {
    case 'map':
      slotsOfMap(spec, out);
      break;
    case 'reduce':
      slotsOfReduce(spec, out);
      break;
    case 'matmul': {
      const self = spec as unknown as Record<string, unknown>;
      slotsOfArray(spec.batch, out);
      for (const s of spec.batchStrides) slotsOfArray(s, out);
      out.push({ owner: self, key: 'm' }, { owner: self, key: 'n' }, { owner: self, key: 'k' });
      slotsOfArray(spec.aStrides, out);
      slotsOfArray(spec.bStrides, out);
      for (const x of spec.extras) {
        slotsOfArray(x.batchStrides, out);
        slotsOfArray(x.strides, out);
      }
      if (spec.epilogue !== null) slotsOfBody(spec.epilogue.body, out);
      break;
    }
    case 'random':
      out.push({ owner: spec as unknown as Record<string, unknown>, key: 'size' });
      break;
    case 'row':
      slotsOfRows(spec, out);
      for (const pass of spec.passes) slotsOfPass(pass, out);
      break;
    case 'multi':
      for (const part of spec.parts) {
        if (part.spec.kind === 'map') slotsOfMap(part.spec, out);
        else slotsOfReduce(part.spec, out);
      }
      break;
    // A loop kernel's values are one element each: nothing to make symbolic.
    case 'loop':
      break;
    default: {
      const never: never = spec;
      throw new InternalError(`sizes: unknown kernel spec ${String(never)}`);
    }
  }
  return out;
}

/** The numbers in `spec`'s size slots, in canonical order. */
export function sizeValues(spec: KernelSpec): number[] {
  return sizeSlots(spec).map((s) => s.owner[s.key] as number);
}

/** The structural key of `spec`'s family: the spec with every size number erased. */
export function familyKey(spec: KernelSpec): string {
  const erased = structuredClone(spec);
  for (const s of sizeSlots(erased)) s.owner[s.key] = null;
  return specKey(erased);
}

/**
 * Which size slots of a spec a renderer reads as launch parameters: a name per symbolic
 * slot (`z<slot index>`, so members of one family name a slot alike), looked up by owner.
 */
export class SymbolicSizes {
  /** Launch values of the symbolic slots, in slot order: what the kernel's leading parameters receive. */
  readonly values: number[] = [];
  /** Parameter names of the symbolic slots, in slot order. */
  readonly names: string[] = [];
  /** Indices (in sizeSlots order) of the symbolic slots, in slot order. */
  readonly slots: number[] = [];
  private readonly byOwner = new Map<object, Map<string | number, string>>();

  constructor(spec: KernelSpec, symbolic: readonly boolean[]) {
    sizeSlots(spec).forEach((s, i) => {
      if (!symbolic[i]) return;
      const name = `z${i}`;
      this.names.push(name);
      this.slots.push(i);
      this.values.push(s.owner[s.key] as number);
      let keys = this.byOwner.get(s.owner);
      if (keys === undefined) this.byOwner.set(s.owner, (keys = new Map()));
      keys.set(s.key, name);
    });
  }

  /** The parameter name of `owner[key]`, or undefined when that number is a constant of the kernel. */
  nameOf(owner: object, key: string | number): string | undefined {
    return this.byOwner.get(owner)?.get(key);
  }
}

/** No symbolic slots: every size of any spec renders as a constant. */
export const noSymbolicSizes = new SymbolicSizes({ kind: 'random', size: 0 }, []);

/** First member's size numbers and the slots any member has differed in so far. */
interface Family {
  first: number[];
  symbolic: boolean[];
}

/**
 * Families of specs, one per structural key. Slots only ever become symbolic, so a family
 * renders at most one text per set of symbolic slots and value-dependent decisions: a loop
 * over many sizes compiles a bounded number of kernels.
 */
export class SizeFamilies {
  private readonly families = new Map<string, Family>();

  /** The symbolic slots `spec` renders with: none for a family's first member. */
  sizesOf(spec: KernelSpec): SymbolicSizes {
    const symbolic = this.symbolicSlots(spec);
    return symbolic.includes(true) ? new SymbolicSizes(spec, symbolic) : noSymbolicSizes;
  }

  /** Which of `spec`'s size slots are symbolic, in sizeSlots order, after counting `spec` in its family. */
  symbolicSlots(spec: KernelSpec): boolean[] {
    const values = sizeValues(spec);
    if (values.length === 0) return [];
    const key = familyKey(spec);
    const family = this.families.get(key);
    if (family === undefined) {
      this.families.set(key, { first: values, symbolic: values.map(() => false) });
      return values.map(() => false);
    }
    values.forEach((v, i) => {
      if (v !== family.first[i]) family.symbolic[i] = true;
    });
    return family.symbolic.slice();
  }
}
