/** Random programs: inputs of random shapes and dtypes, then ops proposed on the values made so far. */
import { dtypesFor } from './dtypes.js';
import type { Family, OpRecord, ProposeContext } from './op-record.js';
import { allOps } from './ops.js';
import { sizeOf, type Meta, type Mode, type Program } from './program.js';
import { Rng } from './rng.js';
import { randomShape } from './shapes.js';

const SPECIALS = [NaN, Infinity, -Infinity, -0, 0, 1e-30, -1e30, 3e38];
const BIG_INTS = [2147483647, -2147483648, 46341, -65536, 1 << 30];

/** Elements for an input: ordinary values, with NaN, ±Inf, -0 and extremes mixed in unless `mode` is grad. */
export function inputValues(rng: Rng, meta: Meta, mode: Mode): number[] {
  const special = mode !== 'grad' && rng.chance(0.35);
  return Array.from({ length: sizeOf(meta.shape) }, () => {
    switch (meta.dtype) {
      case 'bool': return rng.int(0, 1);
      case 'int32': return special && rng.chance(0.2) ? rng.pick(BIG_INTS) : rng.int(-6, 6);
      case 'float32': case 'float64': {
        if (special && rng.chance(0.25)) return rng.pick(SPECIALS);
        const x = (rng.next() * 2 - 1) * (mode === 'grad' ? 2 : 4);
        return meta.dtype === 'float32' ? Math.fround(x) : x;
      }
      default: {
        const never: never = meta.dtype;
        throw new Error(`unknown dtype ${String(never)}`);
      }
    }
  });
}

const FAMILY_WEIGHTS: Record<Family, number> = {
  elementwise: 8, cast: 1, reduce: 3, view: 4, matmul: 1.5, index: 1.5, inplace: 2.5,
};

function eligible(op: OpRecord, mode: Mode): boolean {
  if (mode === 'grad') return op.smooth && op.family !== 'cast';
  return true;
}

/** What the generator tracks per value to keep in-place writes legal. */
interface Lineage {
  /** The value whose storage this one shares (itself when it owns it). */
  base: number;
  /** Has stride-0 dims (from expand), so a write would hit one element twice. */
  expanded: boolean;
  isView: boolean;
  /** (On a storage's own entry) a statement read it: autograd may have saved it, so gradient programs do not write it. */
  read: boolean;
  /** Its producer's gradient does not need it (gradient programs write only such values). */
  gradSafe: boolean;
  meta: Meta;
}

/**
 * Ops whose result a gradient program may write in place: their VJP does not read the result,
 * and the result is not a view. (kiln's matmul of a vector and keepdim reductions end in a
 * reshape, so autograd treats their results as views and refuses writes PyTorch allows; mean's
 * division saves its result. Both are reported by kiln as errors, not wrong values.)
 */
const OUTPUT_NOT_SAVED = new Set([
  'add', 'sub', 'mul', 'neg', 'gather', 'indexSelect', 'scatterAdd', 'add_', 'sub_', 'copy_',
]);

/** A program of `mode` from `seed`: the same seed always gives the same program. */
export function generate(seed: number, mode: Mode, maxStmts = 8): Program {
  const rng = new Rng(seed);
  const p: Program = { seed, mode, inputs: [], stmts: [], outputs: [] };
  const dtypes = dtypesFor(mode);
  const lineage: Lineage[] = [];
  const addInput = (m: Meta): number => {
    const id = lineage.length;
    const meta = mode === 'webgpu' && m.dtype === 'float64' ? { ...m, dtype: 'float32' as const } : m;
    p.inputs.push({ id, meta, values: inputValues(rng, meta, mode) });
    lineage.push({ base: id, expanded: false, isView: false, read: false, gradSafe: false, meta });
    return id;
  };
  for (let i = rng.int(1, 3); i > 0; i--) addInput({ shape: randomShape(rng, mode !== 'grad'), dtype: rng.pick(dtypes) });
  const inputIds = new Set<number>();
  const ctx: ProposeContext = {
    rng, mode,
    pick(ok) {
      const values = lineage.map((_, v) => v).filter((v) => ok(lineage[v]!.meta, v));
      if (values.length === 0) return undefined;
      // Recent values are likelier, so programs chain rather than fan out.
      return values[Math.min(values.length - 1, Math.floor(values.length * Math.sqrt(rng.next())))]!;
    },
    input: addInput,
    meta: (v) => lineage[v]!.meta,
    reachesInput: (v) => inputIds.has(lineage[v]!.base),
    writable(v) {
      const storage = lineage[lineage[v]!.base]!;
      return !lineage[v]!.expanded && (mode !== 'grad' || (!lineage[v]!.isView && !storage.read && storage.gradSafe));
    },
  };
  for (const x of p.inputs) inputIds.add(x.id);
  const ops = allOps.filter((o) => eligible(o, mode));
  const families = [...new Set(ops.map((o) => o.family))];
  const target = rng.int(2, maxStmts);
  for (let tries = 0; p.stmts.length < target && tries < target * 6; tries++) {
    const family = rng.weighted(families.map((f) => [f, FAMILY_WEIGHTS[f]] as const));
    const op = rng.pick(ops.filter((o) => o.family === family));
    const inputsBefore = p.inputs.length, valuesBefore = lineage.length;
    const proposal = op.propose(ctx);
    for (const x of p.inputs.slice(inputsBefore)) inputIds.add(x.id);
    if (proposal === undefined || proposal.meta.shape.length > 5 || sizeOf(proposal.meta.shape) > 4096) {
      // Forget inputs made for a proposal that was dropped.
      p.inputs.length = inputsBefore;
      lineage.length = valuesBefore;
      continue;
    }
    const id = lineage.length;
    const a0 = lineage[proposal.args[0]!]!;
    // An in-place op returns its target, and a cast to the dtype a value has returns that very
    // tensor (as PyTorch's .to does): either result is the argument, expanded dims and all.
    const same = op.inplace === true || (op.name === 'cast' && proposal.meta.dtype === a0.meta.dtype);
    const isView = op.family === 'view' || (same && a0.isView);
    lineage.push({
      base: op.family === 'view' || same ? a0.base : id,
      expanded: op.name === 'expand' || ((op.family === 'view' || same) && a0.expanded),
      isView,
      read: false,
      gradSafe: OUTPUT_NOT_SAVED.has(op.name) || (op.name === 'sum' && proposal.params.keepdim === false),
      meta: proposal.meta,
    });
    // Reads are tracked per storage: autograd saves the tensor, and every alias shares its version.
    for (const a of proposal.args) lineage[lineage[a]!.base]!.read = true;
    p.stmts.push({ id, op: op.name, args: proposal.args, params: proposal.params, meta: proposal.meta });
  }
  return chooseOutputs(p, rng);
}

/** The outputs: the last value, and some others (views and written values included). */
function chooseOutputs(p: Program, rng: Rng): Program {
  const last = p.stmts.length > 0 ? p.stmts[p.stmts.length - 1]!.id : p.inputs[p.inputs.length - 1]!.id;
  const outputs = new Set<number>([last]);
  for (const s of p.stmts) if (rng.chance(0.3)) outputs.add(s.id);
  p.outputs = [...outputs].sort((a, b) => a - b);
  return p;
}
