/**
 * The graph verifier: checks the invariants every pass must keep, so a pass that breaks one
 * is caught at the pass rather than as a wrong number (or a crash) during replay. The
 * primitive checks call the same `inferMeta` that eager execution and the tracer use.
 */
import { isDType } from '../../runtime/dtype.js';
import { InternalError, fmtShape } from '../../runtime/errors.js';
import type { EffectParams, Graph } from './graph.js';
import { inferMeta, type Meta } from './infer.js';
import { definesValue, isKnownOp, isPrim } from './kinds.js';
import { isViewPrim, primitiveRules, type Params, type Prim } from './primitives.js';
import { unreachable } from '../../runtime/unreachable.js';
import { sameShape, sizeOf } from './shape.js';

/** A broken graph invariant, naming the node (`node`, its index) and the problem. */
export class GraphVerifyError extends InternalError {
  override name = 'GraphVerifyError';
  constructor(readonly node: number, readonly problem: string, readonly where: string) {
    super(`verifyGraph: node %${node} (${where}): ${problem}`);
  }
}

const isIndex = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;
const isIndexList = (x: unknown): x is number[] => Array.isArray(x) && x.every(isIndex);

/** Problems of a primitive's parameters that inferMeta does not look for (it trusts the tracer). */
function paramProblem(prim: Prim, inputs: readonly Meta[], params: Record<string, unknown>): string | undefined {
  const rule = primitiveRules[prim];
  const x = inputs[0];
  const rank = x?.shape.length ?? 0;
  switch (rule.kind) {
    case 'cast':
      return isDType(params['dtype']) ? undefined : `cast needs a dtype parameter (got ${String(params['dtype'])})`;
    case 'reduce': {
      if (prim === 'argmax' || prim === 'argmin') return isIndex(params['axis']) ? undefined : `${prim} needs an axis (got ${String(params['axis'])})`;
      const axes = params['axes'];
      if (!isIndexList(axes)) return `${prim} needs a list of axes (got ${String(axes)})`;
      return new Set(axes).size === axes.length ? undefined : `${prim} axes ${fmtShape(axes)} repeat an axis`;
    }
    case 'view':
      if (x === undefined) return `${prim} needs one operand`;
      if (!isViewPrim(prim)) return `internal: ${prim} has a view rule but is no view`;
      switch (prim) {
        case 'reshape': {
          const shape = params['shape'];
          if (!isIndexList(shape)) return `reshape needs a shape (got ${String(shape)})`;
          return sizeOf(shape) === sizeOf(x.shape) ? undefined : `reshape of ${fmtShape(x.shape)} (${sizeOf(x.shape)} elements) to ${fmtShape(shape)} (${sizeOf(shape)} elements)`;
        }
        case 'permute': {
          const perm = params['perm'];
          if (!isIndexList(perm) || perm.length !== rank || new Set(perm).size !== rank || perm.some((p) => p >= rank)) {
            return `permute of ${fmtShape(x.shape)} needs a permutation of 0..${rank - 1} (got ${Array.isArray(perm) ? fmtShape(perm) : String(perm)})`;
          }
          return undefined;
        }
        case 'expand': {
          const shape = params['shape'];
          if (!isIndexList(shape) || shape.length < rank) return `expand of ${fmtShape(x.shape)} needs a shape of at least ${rank} dims (got ${Array.isArray(shape) ? fmtShape(shape) : String(shape)})`;
          const lead = shape.length - rank;
          const bad = x.shape.findIndex((d, i) => d !== 1 && d !== shape[i + lead]);
          return bad < 0 ? undefined : `expand of ${fmtShape(x.shape)} to ${fmtShape(shape)}: dim ${bad} is neither 1 nor kept`;
        }
        case 'slice': {
          const { starts, steps, sizes } = params;
          if (!isIndexList(starts) || !isIndexList(steps) || !isIndexList(sizes) || starts.length !== rank || steps.length !== rank || sizes.length !== rank) {
            return `slice of ${fmtShape(x.shape)} needs ${rank} starts, steps and sizes`;
          }
          for (let d = 0; d < rank; d++) {
            const n = x.shape[d]!, s = starts[d]!, step = steps[d]!, size = sizes[d]!;
            if (step < 1) return `slice step ${step} in dim ${d} is not positive`;
            if (size > 0 ? s + (size - 1) * step >= n : s > n) return `slice of dim ${d} (size ${n}) from ${s} by ${step} for ${size} elements runs past its end`;
          }
          return undefined;
        }
        default:
          return unreachable(prim, 'paramProblem');
      }
    case 'pad': {
      const { before, after, value } = params;
      if (x === undefined) return 'pad needs one operand';
      if (!isIndexList(before) || !isIndexList(after) || before.length !== rank || after.length !== rank) return `pad of ${fmtShape(x.shape)} needs ${rank} non-negative amounts before and after`;
      return typeof value === 'number' ? undefined : `pad needs a number value (got ${String(value)})`;
    }
    case 'concat': {
      const axis = params['axis'];
      if (x === undefined) return 'concat needs at least one operand';
      if (!isIndex(axis) || axis >= rank) return `concat axis ${String(axis)} for ${fmtShape(x.shape)}`;
      const bad = inputs.find((y) => y.shape.length !== rank || y.shape.some((d, i) => i !== axis && d !== x.shape[i]));
      return bad === undefined ? undefined : `concat along axis ${axis} of ${fmtShape(x.shape)} and ${fmtShape(bad.shape)}`;
    }
    case 'gather':
    case 'scatterAdd': {
      const axis = params['axis'];
      return isIndex(axis) && axis < rank ? undefined : `${prim} axis ${String(axis)} for ${fmtShape(x?.shape ?? [])}`;
    }
    case 'random': {
      if (inputs.length > 0) return 'random takes no operands';
      if (!isIndexList(params['shape'])) return `random needs a shape (got ${String(params['shape'])})`;
      return isIndex(params['offset']) ? undefined : `random needs a non-negative integer offset (got ${String(params['offset'])})`;
    }
    case 'iota':
      if (inputs.length > 0) return 'iota takes no operands';
      return isIndex(params['n']) ? undefined : `iota needs a non-negative integer n (got ${String(params['n'])})`;
    // Elementwise primitives and matmul have no parameters; inferMeta checks their operands.
    case 'unary': case 'binary': case 'ternary': case 'matmul':
      return undefined;
    default:
      return unreachable(rule, 'paramProblem');
  }
}

/** Checks one of a loop's graphs: inputs are exactly arg slots 0.. with the metadata of `args`, and it verifies. */
function subgraphProblem(what: string, g: unknown, args: readonly Meta[]): string | undefined {
  const nodes = (g as Partial<Graph> | null)?.nodes;
  if (!Array.isArray(nodes)) return `loop ${what} must be a graph`;
  let inputs = 0;
  for (const n of nodes) {
    if (n.op !== 'input') continue;
    const source = (n.params as Partial<EffectParams['input']>).source;
    if (source?.kind !== 'arg') return `loop ${what} reads only its arguments (got a ${String(source?.kind)} input)`;
    const meta = args[source.slot];
    if (meta === undefined) return `loop ${what} reads argument ${source.slot}, but it has ${args.length}`;
    if (!sameShape(meta.shape, n.shape) || meta.dtype !== n.dtype) return `loop ${what} argument ${source.slot} is ${meta.dtype}${fmtShape(meta.shape)}, read as ${n.dtype}${fmtShape(n.shape)}`;
    inputs++;
  }
  if (nodes.some((n) => n.op === 'write' || n.op === 'observe' || n.op === 'setGrad' || n.op === 'random')) return `loop ${what} may only compute values (no writes, guards, gradients or random draws)`;
  try {
    verifyGraph(g as Graph);
  } catch (e) {
    return `loop ${what}: ${e instanceof Error ? e.message : String(e)}`;
  }
  return inputs <= args.length ? undefined : `loop ${what} has more inputs than arguments`;
}

/** Problems of a loop node's parameters against its operands. */
function loopProblem(p: Partial<EffectParams['loop']>, operands: readonly Meta[]): string | undefined {
  const { carried, cond, condValue, condExports, exits, body, results } = p;
  if (!isIndex(carried) || carried === 0 || carried > operands.length) return `loop carried must be an integer in [1, ${operands.length}] (got ${String(carried)})`;
  if (typeof p.site !== 'string') return 'loop needs a site string';
  const condProblem = subgraphProblem('cond', cond, operands);
  if (condProblem !== undefined) return condProblem;
  const condNodes = cond!.nodes;
  const value = isIndex(condValue) ? condNodes[condValue] : undefined;
  if (value === undefined || !definesValue(value.op) || sizeOf(value.shape) !== 1) return `loop condValue must name a one-element value of cond (got ${String(condValue)})`;
  if (!isIndexList(condExports) || condExports.some((x) => x >= condNodes.length || !definesValue(condNodes[x]!.op))) return 'loop condExports must name values of cond';
  if (!isIndexList(exits) || exits.length !== carried) return `loop exits must name ${carried} values of cond`;
  for (let j = 0; j < carried; j++) {
    const x = condNodes[exits[j]!];
    if (x === undefined || !definesValue(x.op)) return `loop exit ${j} must name a value of cond`;
    if (!sameShape(x.shape, operands[j]!.shape) || x.dtype !== operands[j]!.dtype) return `loop exit ${j} is ${x.dtype}${fmtShape(x.shape)}, but carried value ${j} is ${operands[j]!.dtype}${fmtShape(operands[j]!.shape)}`;
  }
  const bodyArgs = [...operands, ...condExports.map((x) => condNodes[x]!)];
  const bodyProblem = subgraphProblem('body', body, bodyArgs);
  if (bodyProblem !== undefined) return bodyProblem;
  if (!isIndexList(results) || results.length !== carried) return `loop results must name ${carried} values of body`;
  for (let j = 0; j < carried; j++) {
    const r = body!.nodes[results[j]!];
    if (r === undefined || !definesValue(r.op)) return `loop result ${j} must name a value of body`;
    if (!sameShape(r.shape, operands[j]!.shape) || r.dtype !== operands[j]!.dtype) return `loop result ${j} is ${r.dtype}${fmtShape(r.shape)}, but carried value ${j} is ${operands[j]!.dtype}${fmtShape(operands[j]!.shape)}`;
  }
  return undefined;
}

/**
 * Checks `g`: operands refer to earlier value-defining nodes; every primitive's shape and
 * dtype are what inferMeta gives for its operands; writes pair equal shapes; observe
 * guards count up from 0; input sources and constant parameters are well formed. Throws a
 * GraphVerifyError naming the first bad node.
 */
export function verifyGraph(g: Graph): void {
  const nodes = g.nodes;
  const argSlots = new Map<number, number>(), captureSlots = new Map<number, number>();
  let guards = 0;
  nodes.forEach((n, i) => {
    const where = `${String(n.op)}(${Array.isArray(n.inputs) ? n.inputs.map((x) => `%${x}`).join(', ') : '?'})`;
    const fail = (problem: string): never => {
      throw new GraphVerifyError(i, problem, where);
    };
    if (typeof n.op !== 'string' || !isKnownOp(n.op)) fail(`unknown op ${JSON.stringify(n.op)}`);
    if (!Array.isArray(n.inputs)) fail('inputs must be a list of node indices');
    if (n.params === null || typeof n.params !== 'object') fail('params must be an object');
    if (!isIndexList(n.shape)) fail(`shape must be a list of non-negative integers (got ${String(n.shape)})`);
    if (!isDType(n.dtype)) fail(`unknown dtype ${JSON.stringify(n.dtype)}`);
    for (const x of n.inputs) {
      if (!isIndex(x) || x >= i) fail(`operand %${x} is not an earlier node (operands must be defined before they are used)`);
      if (!definesValue(nodes[x]!.op)) fail(`operand %${x} is a ${nodes[x]!.op}, which defines no value`);
    }
    const metas: Meta[] = n.inputs.map((x) => nodes[x]!);
    const params = n.params as Record<string, unknown>;
    const arity = (lo: number, hi = lo): void => {
      if (n.inputs.length < lo || n.inputs.length > hi) fail(`${n.op} takes ${lo === hi ? lo : `${lo} or ${hi}`} operands (got ${n.inputs.length})`);
    };
    /** Effects define nothing: no dims, and the dtype of the tensor they act on. */
    const effectMeta = (): void => {
      if (n.shape.length !== 0 || n.dtype !== metas[0]!.dtype) {
        fail(`${n.op} defines no value, so its metadata must be ${metas[0]!.dtype}[] (its first operand's dtype, no dims); got ${n.dtype}${fmtShape(n.shape)}`);
      }
    };
    switch (n.op) {
      case 'input': {
        arity(0);
        const source = (params as Partial<EffectParams['input']>).source as Record<string, unknown> | undefined;
        if (source === undefined || source === null || typeof source !== 'object') return fail('input needs a source parameter');
        if (source['kind'] === 'arg' || source['kind'] === 'capture') {
          const slot = source['slot'];
          if (!isIndex(slot)) return fail(`input source ${source['kind']} needs a non-negative integer slot (got ${String(slot)})`);
          const seen = source['kind'] === 'arg' ? argSlots : captureSlots;
          const other = seen.get(slot);
          if (other !== undefined) fail(`${source['kind']} slot ${slot} is already read by %${other} (each tensor is one input)`);
          seen.set(slot, i);
        } else if (source['kind'] === 'grad') {
          const of = source['of'];
          if (!isIndex(of) || of >= i) return fail(`the gradient source of %${String(of)} must name an earlier node`);
          if (!definesValue(nodes[of]!.op)) fail(`the gradient source of %${of} names a ${nodes[of]!.op}, which defines no tensor`);
        } else {
          fail(`input source kind ${JSON.stringify(source['kind'])} is not arg, capture or grad`);
        }
        return;
      }
      case 'constant': {
        arity(0);
        const keys = Object.keys(params).filter((k) => params[k] !== undefined);
        const extra = keys.filter((k) => k !== 'value' && k !== 'numberSlot' && k !== 'data');
        if (extra.length > 0) fail(`constant parameter ${extra[0]} is not value, numberSlot or data`);
        if (keys.length !== 1) fail(`a constant has exactly one of value, numberSlot and data (got ${keys.length === 0 ? 'none' : keys.join(', ')})`);
        const p = params as EffectParams['constant'];
        if (p.value !== undefined && typeof p.value !== 'number') fail(`constant value must be a number (got ${typeof p.value})`);
        if (p.numberSlot !== undefined && !isIndex(p.numberSlot)) fail(`constant numberSlot must be a non-negative integer (got ${String(p.numberSlot)})`);
        if (p.data !== undefined) {
          const data = p.data as unknown;
          if (!(Array.isArray(data) || ArrayBuffer.isView(data)) || !Array.from(data as ArrayLike<unknown>).every((v) => typeof v === 'number')) fail('constant data must be a list of numbers');
          if (p.data.length !== sizeOf(n.shape)) fail(`constant data has ${p.data.length} values for shape ${fmtShape(n.shape)} (${sizeOf(n.shape)} elements)`);
        }
        return;
      }
      case 'write':
        arity(2);
        effectMeta();
        if (!sameShape(metas[0]!.shape, metas[1]!.shape)) fail(`write of a ${fmtShape(metas[1]!.shape)} value into a ${fmtShape(metas[0]!.shape)} target: shapes must be equal`);
        return;
      case 'observe': {
        const p = params as Partial<EffectParams['observe']>;
        if (p.numberCompare !== undefined) {
          // A guard on a number argument reads no tensor.
          arity(0);
          const c = p.numberCompare;
          if (!Number.isInteger(c.slot) || c.slot < 0 || typeof c.other !== 'number' || typeof c.swap !== 'boolean') fail('observe numberCompare needs a slot, a number and swap');
        } else {
          arity(1);
          effectMeta();
        }
        if (p.guard !== guards) fail(`observe guard ${String(p.guard)} is out of order (guards count up from 0; expected ${guards})`);
        guards++;
        if (!Array.isArray(p.expected) || !p.expected.every((v) => typeof v === 'number')) fail('observe expected must be a list of numbers');
        if (typeof p.site !== 'string' || typeof p.how !== 'string') fail('observe needs site and how strings');
        if (typeof p.gradNull !== 'boolean') fail('observe needs a boolean gradNull');
        return;
      }
      case 'loop': {
        const p = params as Partial<EffectParams['loop']>;
        const problem = loopProblem(p, metas);
        if (problem !== undefined) fail(problem);
        if (n.shape.length !== 0 || n.dtype !== 'int32') fail(`a loop's value is its iteration count: int32[] (got ${n.dtype}${fmtShape(n.shape)})`);
        return;
      }
      case 'loopResult': {
        arity(1);
        const loop = nodes[n.inputs[0]!]!;
        if (loop.op !== 'loop') return fail(`loopResult reads a loop node (got ${loop.op})`);
        const index = params['index'];
        const carried = (loop.params as EffectParams['loop']).carried;
        if (!isIndex(index) || index >= carried) return fail(`loopResult index must be an integer in [0, ${carried}) (got ${String(index)})`);
        const first = nodes[loop.inputs[index]!]!;
        if (!sameShape(first.shape, n.shape) || first.dtype !== n.dtype) fail(`carried value ${index} is ${first.dtype}${fmtShape(first.shape)}, but the result is recorded as ${n.dtype}${fmtShape(n.shape)}`);
        return;
      }
      case 'setGrad':
        arity(1, 2);
        effectMeta();
        if (metas.length === 2 && !sameShape(metas[0]!.shape, metas[1]!.shape)) fail(`setGrad of a ${fmtShape(metas[1]!.shape)} gradient on a ${fmtShape(metas[0]!.shape)} tensor: shapes must be equal`);
        return;
    }
    if (!isPrim(n.op)) return;
    const problem = paramProblem(n.op, metas, params);
    if (problem !== undefined) fail(problem);
    let meta: Meta;
    try {
      meta = inferMeta(n.op, metas, params as Params<Prim>);
    } catch (e) {
      return fail(e instanceof Error ? e.message.replace(/^internal: /, '') : String(e));
    }
    if (!sameShape(meta.shape, n.shape) || meta.dtype !== n.dtype) {
      fail(`recorded as ${n.dtype}${fmtShape(n.shape)}, but ${n.op} of its operands gives ${meta.dtype}${fmtShape(meta.shape)}`);
    }
  });
}

