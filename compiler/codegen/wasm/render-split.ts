/**
 * How each rendered map, reduce and row kernel splits over threads (runtime/wasm/split.ts):
 * along its outermost loop, as the renderer collapses it. A map splits its elements (in
 * groups of four where that loop is the four-lane one, so every element takes the same
 * vector or scalar path as on one thread); a reduction or row kernel splits its rows, so a
 * row's sum is always folded by one thread in the one fixed order.
 */
import type { SplitPlan } from '../../../runtime/wasm/split.js';
import { collapseDims, type Expr, type MapSpec, type ReduceSpec, type RowSpec } from '../../kernel.js';
import { wasmMathFns, type WasmMathFn } from './math.js';
import { planMap, reduceLanes } from './render-loops.js';
import { rowScratchBytes } from './render-rows.js';

const product = (shape: readonly number[]) => shape.reduce((p, n) => p * n, 1);

/**
 * What one element of a body costs, in plain-element units: a call of math.ts weighs 16 (exp
 * over 2^16 float32s took 197 µs, an add 11 µs: bench/wasm-split.ts), anything else nothing
 * beyond the element's loads and stores.
 */
function elementCost(body: readonly Expr[]): number {
  const calls = (prim: string) => prim === 'pow' || wasmMathFns.includes(prim as WasmMathFn);
  return 1 + 16 * body.filter((e) => e.op === 'prim' && calls(e.prim)).length;
}

/** A map splits along its first collapsed dim. */
export function mapSplit(spec: MapSpec): SplitPlan {
  const { shape, vector } = planMap(spec);
  const work = product(shape) * elementCost(spec.body);
  return { items: shape[0]!, grain: shape.length === 1 && vector ? 4 : 1, work, scratchBytes: 0 };
}

/**
 * A reduction splits along the first collapsed dim of its outputs (in groups of four where
 * that dim is also the one whose outputs run four lanes at a time).
 */
export function reduceSplit(spec: ReduceSpec): SplitPlan {
  const outer = collapseDims(spec.outer, spec.outerStrides);
  const lanes = reduceLanes(spec, outer, collapseDims(spec.inner, spec.innerStrides));
  const work = product(spec.outer) * product(spec.inner) * elementCost(spec.body);
  const grain = lanes === 'outputs' && outer.shape.length === 1 ? 4 : 1;
  return { items: outer.shape[0]!, grain, work, scratchBytes: 0 };
}

/** A row kernel splits along the first collapsed dim of its rows; each job has its own scratch rows. */
export function rowSplit(spec: RowSpec): SplitPlan {
  const outer = collapseDims(spec.outer, spec.outerStrides).shape;
  const perRow = spec.passes.reduce((sum, p) => sum + (p.kind === 'scalar' ? 0 : elementCost(p.body)), 0);
  const work = product(spec.outer) * product(spec.inner) * perRow;
  return { items: outer[0]!, grain: 1, work, scratchBytes: rowScratchBytes(spec) };
}
