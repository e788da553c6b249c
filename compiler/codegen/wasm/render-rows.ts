/**
 * Row kernels (softmax, layerNorm, logsumexp…: reductions over a row and the elementwise
 * work around them) as Wasm. Each row runs the spec's passes in order, as the JavaScript
 * kernel does: a reduction pass folds one element at a time in a float64 accumulator (so
 * its bits are the JavaScript engine's, and the same for eager and jit), a scalar pass
 * computes a row value, a map pass stores at every inner position. Values a pass saves for
 * later passes go to a scratch block of the memory, one 8-byte slot per inner position,
 * allocated once per kernel.
 */
import type { DType } from '../../../runtime/dtype.js';
import { unreachable } from '../../../runtime/unreachable.js';
import type { RowPass, RowSpec, Save } from '../../kernel.js';
import { collapseDims } from '../../kernel.js';
import { bodySupported, emitBody, nodeDtypes, storeOp, valType, type BodySite, type RowContext } from './render-body.js';
import { FOLD_START, foldStep, LaneSum, lanewise, loaded, nest, type Frame } from './render-loops.js';

/** Bytes of one scratch element: every dtype fits. */
const SLOT = 8;

function innerSize(spec: RowSpec): number {
  return spec.inner.reduce((p, n) => p * n, 1);
}

/** Bytes of scratch a row kernel needs. */
export function rowScratchBytes(spec: RowSpec): number {
  return spec.scratch * innerSize(spec) * SLOT;
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

/** Emits a row kernel (rowSupported) into frame `f`; scratch starts at byte address `scratch`. */
export function emitRow(f: Frame, spec: RowSpec, scratch: number): void {
  const { c } = f;
  const context = rowContext(spec);
  const outer = collapseDims(spec.outer, spec.outerStrides);
  const inner = collapseDims(spec.inner, spec.innerStrides);
  const size = innerSize(spec);
  const all = spec.dtypes.map((_, a) => a);
  const rowLocals = Array.from({ length: spec.rows }, (_, i) => c.local(valType(context.row(i))));
  const zero = c.local('i32');
  const t = c.local('i32');
  const scratchAt = (index: number) => {
    // An address past 2^31 is written as the int32 with its bits.
    c.i32((scratch + index * size * SLOT) | 0).get(t).i32(SLOT).op('i32.mul').op('i32.add');
  };
  nest(f, outer.shape, outer.strides, spec.dtypes, all, f.base, (rowAddress) => {
    // Row values start at 0 in every row, as the JavaScript kernel's do.
    rowLocals.forEach((local, i) => {
      const ty = valType(context.row(i));
      if (ty === 'f32') c.f32(0); else if (ty === 'f64') c.f64(0); else c.i32(0);
      c.set(local);
    });
    const last = inner.shape.length - 1;
    const site = (address: (arg: number) => number, position: number): BodySite => ({
      address, position, scalar: f.scalar, broadcast: (a) => inner.strides[a]![last] === 0,
      row: (i) => rowLocals[i]!, scratch: scratchAt,
    });
    const saves = (pass: { body: RowPass['body']; saves: readonly Save[] }, locals: readonly number[]) => {
      const dtypes = nodeDtypes(pass.body, spec.dtypes, context);
      for (const sv of pass.saves) {
        scratchAt(sv.index);
        c.get(locals[sv.node]!).mem(storeOp(dtypes[sv.node]!));
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
          const vector = pass.op === 'sum' && pass.dtype === 'float32' && pass.saves.length === 0 &&
            lanewise(inner.shape, inner.strides, spec.dtypes, pass.body, [], context);
          const lanes = vector ? new LaneSum(c) : undefined;
          nest(f, inner.shape, inner.strides, spec.dtypes, loaded(pass), rowAddress, (address, position, four) => {
            const locals = emitBody(c, pass.body, spec.dtypes, site(address, position), four, context);
            if (four) {
              lanes!.add(locals[pass.value]!);
              return;
            }
            saves(pass, locals);
            const v = c.local('f64');
            c.get(locals[pass.value]!);
            if (pass.dtype === 'float32') c.op('f64.promote_f32');
            c.set(v);
            foldStep(c, pass.op, acc, v);
            c.get(t).i32(1).op('i32.add').set(t);
          }, vector);
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
          const vector = pass.saves.length === 0 && lanewise(inner.shape, inner.strides, spec.dtypes, pass.body, stores, context);
          nest(f, inner.shape, inner.strides, spec.dtypes, args, rowAddress, (address, position, four) => {
            const locals = emitBody(c, pass.body, spec.dtypes, site(address, position), four, context);
            if (four) {
              for (const st of pass.stores) c.get(address(st.arg)).get(locals[st.node]!).simdMem('v128.store');
              return;
            }
            saves(pass, locals);
            for (const st of pass.stores) c.get(address(st.arg)).get(locals[st.node]!).mem(storeOp(spec.dtypes[st.arg]!));
            c.get(t).i32(1).op('i32.add').set(t);
          }, vector);
          break;
        }
        default: unreachable(pass, 'wasm rows: pass');
      }
    }
  }, false);
}
