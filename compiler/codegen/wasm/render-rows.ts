/**
 * Row kernels (softmax, layerNorm, logsumexp…: reductions over a row and the elementwise
 * work around them) as Wasm. Each row runs the spec's passes in order, as the JavaScript
 * kernel does: a reduction pass folds one element at a time in a float64 accumulator (so
 * its bits are the JavaScript engine's, and the same for eager and jit), a scalar pass
 * computes a row value, a map pass stores at every inner position. Values a pass saves for
 * later passes go to a scratch block of the memory (a row of elements of the saved value's
 * dtype per save), one block per thread that runs the kernel. Passes over contiguous 32-bit rows run four
 * lanes at a time, float32 sums in float64 lanes (see LaneFold).
 */
import { itemSize, type DType } from '../../../runtime/dtype.js';
import { unreachable } from '../../../runtime/unreachable.js';
import type { RowPass, RowSpec, Save } from '../../kernel.js';
import { bodySupported, emitBody, nodeDtypes, storeOp, valType, type BodySite, type RowContext } from './render-body.js';
import { FOLD_START, foldGroups, foldStep, LaneFold } from './render-fold.js';
import { collapsedSizes, lanewise, loaded, nest, type Frame } from './render-loops.js';

function innerSize(spec: RowSpec): number {
  return spec.inner.reduce((p, n) => p * n, 1);
}

/** Byte offset of each scratch row in the scratch block, and the block's size last. */
function scratchLayout(spec: RowSpec, context: RowContext): number[] {
  const offsets = [0];
  for (let k = 0; k < spec.scratch; k++) offsets.push(offsets[k]! + innerSize(spec) * itemSize(context.scratch(k)));
  return offsets;
}

/** Bytes of scratch a row kernel needs. */
export function rowScratchBytes(spec: RowSpec): number {
  return scratchLayout(spec, rowContext(spec))[spec.scratch]!;
}

/** The dtype of every row value and scratch row, from the passes that produce them. */
function rowContext(spec: RowSpec): RowContext {
  const rows = new Array<DType>(spec.rows).fill('float64');
  const scratch = new Array<DType>(spec.scratch).fill('float64');
  const context: RowContext = { row: (i) => rows[i]!, scratch: (i) => scratch[i]! };
  const saveAll = (pass: { body: RowPass['body']; saves: readonly Save[] }) => {
    const dtypes = nodeDtypes(pass.body, spec.dtypes, context);
    for (const sv of pass.saves) scratch[sv.index] = dtypes[sv.node]!;
  };
  for (const pass of spec.passes) {
    switch (pass.kind) {
      case 'reduce': saveAll(pass); rows[pass.row] = pass.outDtype; break;
      case 'scalar': rows[pass.row] = nodeDtypes(pass.body, spec.dtypes, context)[pass.value]!; break;
      case 'map': saveAll(pass); break;
      default: unreachable(pass, 'wasm rows: pass');
    }
  }
  return context;
}

const isFloat = (d: DType) => d === 'float32' || d === 'float64';

/** Whether the scratch rows a pass reads and writes hold 32-bit elements (four lanes are 16 bytes there). */
function scratch32(pass: { body: RowPass['body']; saves?: readonly Save[] }, context: RowContext): boolean {
  const is32 = (d: DType) => d === 'float32' || d === 'int32';
  return pass.body.every((e) => e.op !== 'scratch' || is32(context.scratch(e.index))) &&
    (pass.saves ?? []).every((sv) => is32(context.scratch(sv.index)));
}

/** Whether a row kernel has Wasm code: float reductions, no scatters, every body supported. */
export function rowSupported(spec: RowSpec): boolean {
  const context = rowContext(spec);
  return spec.passes.every((pass) => {
    if (!bodySupported(pass.body, spec.dtypes, false, () => true, context)) return false;
    switch (pass.kind) {
      case 'reduce': return isFloat(pass.dtype) && isFloat(pass.outDtype);
      case 'scalar': return true;
      case 'map': return pass.stores.every((st) => st.scatter === undefined);
      default: return unreachable(pass, 'wasm rows: pass');
    }
  });
}

/**
 * Emits a row kernel (rowSupported) into frame `f`, a split kernel's: its scratch starts at
 * the byte address in the split's `scratch` parameter (each job has its own block).
 */
export function emitRow(f: Frame, spec: RowSpec): void {
  const { c } = f;
  const context = rowContext(spec);
  const outer = collapsedSizes(f, spec.outer, spec.outerStrides);
  const inner = collapsedSizes(f, spec.inner, spec.innerStrides);
  const all = spec.dtypes.map((_, a) => a);
  const rowLocals = Array.from({ length: spec.rows }, (_, i) => c.local(valType(context.row(i))));
  const zero = c.local('i32');
  const t = c.local('i32');
  const layout = scratchLayout(spec, context);
  const scratchAt = (index: number) => {
    c.get(f.split!.scratch).i32(layout[index]!).op('i32.add');
    c.get(t).i32(itemSize(context.scratch(index))).op('i32.mul').op('i32.add');
  };
  const advance = (n: number) => c.get(t).i32(n).op('i32.add').set(t);
  nest(f, outer.shape, outer.strides, spec.dtypes, all, f.base, (rowAddress) => {
    // Row values start at 0 in every row, as the JavaScript kernel's do.
    rowLocals.forEach((local, i) => {
      const ty = valType(context.row(i));
      if (ty === 'f32') c.f32(0); else if (ty === 'f64') c.f64(0); else c.i32(0);
      c.set(local);
    });
    const last = inner.shape.length - 1;
    const site = (address: (arg: number) => number, position: number): BodySite => ({
      address, position, scalar: f.scalar, math: f.math, broadcast: (a) => inner.strides[a]![last] === 0,
      row: (i) => rowLocals[i]!, scratch: scratchAt, sizes: f.sizes,
    });
    const saves = (pass: { body: RowPass['body']; saves: readonly Save[] }, locals: readonly number[], four: boolean) => {
      const dtypes = nodeDtypes(pass.body, spec.dtypes, context);
      for (const sv of pass.saves) {
        scratchAt(sv.index);
        c.get(locals[sv.node]!);
        if (four) c.simdMem('v128.store');
        else c.mem(storeOp(dtypes[sv.node]!));
      }
    };
    const storeRow = (store: number | undefined, row: number, dtype: DType) => {
      if (store !== undefined) c.get(rowAddress(store)).get(rowLocals[row]!).mem(storeOp(dtype));
    };
    for (const pass of spec.passes) {
      switch (pass.kind) {
        case 'reduce': {
          const acc = c.local('f64');
          c.f64(FOLD_START[pass.op]).set(acc);
          c.i32(0).set(t);
          const fold = pass.op;
          const vector = LaneFold.covers(fold, pass.dtype) && scratch32(pass, context) &&
            lanewise(inner.shape, inner.strides, spec.dtypes, pass.body, [], context);
          const lanes = vector ? new LaneFold(c, fold, foldGroups(fold)) : undefined;
          nest(f, inner.shape, inner.strides, spec.dtypes, loaded(pass), rowAddress, (address, position, four, group) => {
            const locals = emitBody(c, pass.body, spec.dtypes, site(address, position), four, context);
            saves(pass, locals, four);
            if (four) {
              lanes!.add(locals[pass.value]!, group);
              advance(4);
              return;
            }
            const v = c.local('f64');
            c.get(locals[pass.value]!);
            if (pass.dtype === 'float32') c.op('f64.promote_f32');
            c.set(v);
            foldStep(c, pass.op, acc, v);
            advance(1);
          }, vector, undefined, lanes?.groups);
          lanes?.into(acc);
          c.get(acc);
          if (pass.outDtype === 'float32') c.op('f32.demote_f64');
          c.set(rowLocals[pass.row]!);
          storeRow(pass.store, pass.row, pass.outDtype);
          break;
        }
        case 'scalar': {
          c.i32(0).set(zero);
          const locals = emitBody(c, pass.body, spec.dtypes, site(rowAddress, zero), false, context);
          c.get(locals[pass.value]!).set(rowLocals[pass.row]!);
          storeRow(pass.store, pass.row, context.row(pass.row));
          break;
        }
        case 'map': {
          c.i32(0).set(t);
          const stores = pass.stores.map((st) => st.arg);
          const args = [...new Set([...loaded(pass), ...stores])];
          const vector = scratch32(pass, context) &&
            lanewise(inner.shape, inner.strides, spec.dtypes, pass.body, stores, context);
          nest(f, inner.shape, inner.strides, spec.dtypes, args, rowAddress, (address, position, four) => {
            const locals = emitBody(c, pass.body, spec.dtypes, site(address, position), four, context);
            saves(pass, locals, four);
            for (const st of pass.stores) {
              c.get(address(st.arg)).get(locals[st.node]!);
              if (four) c.simdMem('v128.store');
              else c.mem(storeOp(spec.dtypes[st.arg]!));
            }
            advance(four ? 4 : 1);
          }, vector);
          break;
        }
        default: unreachable(pass, 'wasm rows: pass');
      }
    }
  }, false, f.split);
}
