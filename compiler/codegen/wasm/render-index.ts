/**
 * Data-dependent addressing in Wasm kernels: gathers (a load at an index the body computed),
 * scatter stores (a store, or an accumulating add, at such an index), and the check that
 * every such index is in range. The JavaScript kernel throws at the first bad index, after
 * the elements before it were written; a Wasm kernel cannot throw kiln's error, so it
 * returns at the same element with an f64 code, site · 2^32 + index (as unsigned 32 bits),
 * and -1 when every index was in range; the backend turns a code into the JavaScript
 * engine's error (the op the user called, the index and the size). Kernels with index sites
 * never split over threads: two jobs could add into one element, and a worker's code would
 * not come back.
 */
import { itemSize, type DType } from '../../../runtime/dtype.js';
import type { Expr, MapSpec, Store } from '../../kernel.js';
import { jsHelpers } from '../js-helpers.js';
import type { Code } from './encoder.js';
import { wasmPrims } from './render-prims.js';
import { mulDim, pushDim, type Dim } from './render-sizes.js';

/** What a kernel returns when every index was in range. */
const IN_RANGE = -1;
const SITE_SCALE = 2 ** 32;

type IndexedOp = 'gather' | 'scatterAdd';

/** The index sites of one kernel, in the order its code checks them. */
export class IndexSites {
  private readonly sites: { op: IndexedOp; size: number }[] = [];

  /** Whether any body or store of `spec` indexes by data (the kernel then returns a code). */
  static present(body: readonly Expr[], stores: readonly Store[] = []): boolean {
    return body.some((e) => e.op === 'gatherLoad') || stores.some((st) => st.scatter !== undefined);
  }

  /** Returns the code of a bad index from the kernel where i32 local `index` is outside [0, size). */
  check(c: Code, index: number, size: Dim, sizeValue: number, op: IndexedOp): void {
    const site = this.sites.push({ op, size: sizeValue }) - 1;
    // Unsigned: a negative index compares above every size.
    c.get(index);
    pushDim(c, size);
    c.op('i32.ge_u').open('if');
    c.f64(site * SITE_SCALE).get(index).op('f64.convert_i32_u').op('f64.add').op('return');
    c.end();
  }

  /** The value a checking kernel returns after its last element. */
  static done(c: Code): void {
    c.f64(IN_RANGE);
  }

  /** Throws the JavaScript engine's error for a kernel's code, or returns where every index was in range. */
  thrower(): (code: number) => void {
    const sites = this.sites.slice();
    return (code) => {
      if (code === IN_RANGE) return;
      const site = sites[Math.floor(code / SITE_SCALE)]!;
      const index = (code % SITE_SCALE) | 0;
      if (site.op === 'gather') jsHelpers.indexError(index, site.size);
      jsHelpers.scatterIndexError(index, site.size);
    };
  }
}

/** Pushes the byte address `address + index · stride · element size` (`address`, `index`: i32 locals). */
export function indexedAddress(c: Code, address: number, index: number, stride: Dim, dtype: DType): void {
  const bytes = mulDim(c, stride, itemSize(dtype));
  c.get(address).get(index);
  pushDim(c, bytes);
  c.op('i32.mul').op('i32.add');
}

/** Whether a map's scatter stores have Wasm code: int32 indices, accumulating only where add has scalar code. */
export function scattersSupported(spec: MapSpec, dtypes: readonly DType[]): boolean {
  return spec.stores.every((st) => {
    if (st.scatter === undefined) return true;
    const dtype = spec.dtypes[st.arg]!;
    if (dtype === 'float16' || dtypes[st.scatter.index] !== 'int32') return false;
    return !st.scatter.accumulate || wasmPrims.add!.scalar.includes(dtype);
  });
}
