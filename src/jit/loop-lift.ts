/**
 * Loop lifting, the analysis half: a loop with a tensor condition ran natively while the
 * tracer recorded every iteration (each evaluation of the condition ends in a guard). If
 * every iteration recorded the same computation of the loop-carried tensors from the
 * previous ones (plus values from before the loop), the recording collapses into one `loop`
 * node whose trip count is data: later calls with other trip counts replay it.
 *
 * The recording is compared, not assumed: each iteration's nodes are written in a canonical
 * form (operands named as "this iteration's node k", "carried value j" or "outer node x")
 * and all iterations must agree. Anything that would make the lifted loop compute something
 * else than the native one (a guard or write in the body, a random draw, a value flowing
 * between iterations outside the carried variables) leaves the native, guarded recording.
 */
import { fmtShape } from '../../runtime/errors.js';
import { makeNode, type EffectParams, type Graph, type Node } from '../../compiler/ir/graph.js';
import { formatParamsExact } from '../../compiler/ir/text.js';

/** What the tracer noted about one evaluation of the loop's condition and the body after it. */
export interface LoopEvaluation {
  /** Nodes of the carried tensors when the condition was evaluated. */
  state: number[];
  /** First node of the condition's computation. */
  testStart: number;
  /** One past the condition's guard (its last node). */
  testEnd: number;
  /** Nodes of the carried tensors after the condition (it may assign them: `while ((d = f(x)) > 0)`). */
  afterTest: number[];
  /** One past the body's last node; undefined for the final evaluation (the condition was false). */
  bodyEnd?: number;
}

/** A lifted loop: the loop node's parameters and operands (outer nodes), or why it cannot be. */
export type LoopLift =
  | { ok: true; params: EffectParams['loop']; operands: number[] }
  | { ok: false; reason: string };

/** How an operand of a node inside the loop is reached from one iteration. */
type Ref = { kind: 'local'; node: number } | { kind: 'state'; index: number } | { kind: 'outer'; node: number };

/** Nodes that may sit in an iteration: primitives (no random draws) and constants; hoisted captures are skipped. */
function problemOf(n: Node): string | undefined {
  switch (n.op) {
    case 'write': return 'its body writes a tensor in place';
    case 'observe': return 'its body reads a tensor value (an `if` or `.item()` on a tensor, say)';
    case 'setGrad': return 'its body assigns a `.grad`';
    case 'random': return 'its body draws random numbers';
    case 'loop': case 'loopResult': return 'its body contains another lifted loop';
    case 'input': {
      return n.params.source.kind === 'capture' ? undefined : "its body reads a tensor's `.grad`";
    }
    default: return undefined;
  }
}

const isCapture = (n: Node): boolean => n.op === 'input' && n.params.source.kind === 'capture';

/** One iteration's nodes (condition, then body) in a form equal for equal computations. */
class Iteration {
  readonly nodes: number[] = [];
  readonly refs: Ref[][] = [];
  readonly text: string[] = [];
  readonly #local = new Map<number, number>();

  constructor(readonly graph: Graph, readonly start: number, readonly state: readonly number[]) {}

  /** How node `x` is reached from here; undefined when it belongs to an earlier iteration. */
  ref(x: number): Ref | undefined {
    const local = this.#local.get(x);
    if (local !== undefined) return { kind: 'local', node: local };
    const j = this.state.indexOf(x);
    if (j >= 0) return { kind: 'state', index: j };
    if (x < this.start || isCapture(this.graph.nodes[x]!)) return { kind: 'outer', node: x };
    return undefined;
  }

  /** Adds nodes [from, to); returns a problem, if any. */
  add(from: number, to: number): string | undefined {
    for (let i = from; i < to; i++) {
      const n = this.graph.nodes[i]!;
      const problem = problemOf(n);
      if (problem !== undefined) return problem;
      if (isCapture(n)) continue;
      const refs: Ref[] = [];
      for (const x of n.inputs) {
        const r = this.ref(x);
        if (r === undefined) return 'it reads a value from an earlier iteration that is not a loop variable';
        refs.push(r);
      }
      this.#local.set(i, this.nodes.length);
      this.nodes.push(i);
      this.refs.push(refs);
      this.text.push(`${n.op}(${refs.map(fmtRef).join(',')})${formatParamsExact(n.params)}:${n.dtype}${fmtShape(n.shape)}`);
    }
    return undefined;
  }
}

const fmtRef = (r: Ref): string => (r.kind === 'local' ? `L${r.node}` : r.kind === 'state' ? `S${r.index}` : `O${r.node}`);

/** Builds one of the loop's graphs from an iteration's nodes [from, to) (positions in `it`). */
class SubgraphBuilder {
  readonly graph: Graph = { nodes: [] };
  /** Position in the iteration → node of this graph. */
  readonly at = new Map<number, number>();

  constructor(readonly source: Graph, args: readonly Node[]) {
    args.forEach((a, slot) => this.graph.nodes.push({ op: 'input', inputs: [], params: { source: { kind: 'arg', slot } }, shape: a.shape.slice(), dtype: a.dtype }));
  }

  copy(it: Iteration, from: number, to: number, resolve: (r: Ref) => number): void {
    for (let k = from; k < to; k++) {
      const n = this.source.nodes[it.nodes[k]!]!;
      this.at.set(k, this.graph.nodes.length);
      this.graph.nodes.push(makeNode(n.op, it.refs[k]!.map(resolve), n.params, n.shape.slice(), n.dtype));
    }
  }
}

/**
 * Collapses the evaluations of one loop into a loop node, when they all computed the same
 * thing. `start`: the first node recorded inside the loop; `final`: the carried tensors'
 * nodes after the loop; `site`: the loop's source location.
 */
export function liftLoop(graph: Graph, start: number, evals: readonly LoopEvaluation[], final: readonly number[], site: string): LoopLift {
  const fail = (reason: string): LoopLift => ({ ok: false, reason });
  if (evals.length < 2) return fail('it ran no iteration when traced, so its body was not seen');
  const nodes = graph.nodes;
  const carried = final.length;

  // Canonical form of every iteration: its condition (ending in the guard) and its body.
  const iterations: { it: Iteration; testLength: number; next: Ref[]; exit: Ref[] }[] = [];
  let first: string | undefined;
  for (let k = 0; k < evals.length; k++) {
    const e = evals[k]!;
    const guard = nodes[e.testEnd - 1];
    if (guard?.op !== 'observe' || guard.inputs.length !== 1) return fail('its condition is not one tensor');
    const it = new Iteration(graph, start, e.state);
    const problem = it.add(e.testStart, e.testEnd - 1);
    if (problem !== undefined) return fail(problem.replace('its body', 'its condition'));
    const testLength = it.nodes.length;
    const value = it.ref(guard.inputs[0]!);
    const exit = e.afterTest.map((x) => it.ref(x));
    if (value === undefined || exit.some((r) => r === undefined)) return fail('its condition reads a value from an earlier iteration that is not a loop variable');
    let text = `${it.text.join(';')}|cond ${fmtRef(value)}|exit ${(exit as Ref[]).map(fmtRef).join(',')}`;
    let next: Ref[] = [];
    if (e.bodyEnd !== undefined) {
      const bodyProblem = it.add(e.testEnd, e.bodyEnd);
      if (bodyProblem !== undefined) return fail(bodyProblem);
      const after = evals[k + 1]!.state;
      const refs = after.map((x) => it.ref(x));
      if (refs.some((r) => r === undefined)) return fail('a loop variable is given a value from an earlier iteration');
      next = refs as Ref[];
      text += `|body ${it.text.slice(testLength).join(';')}|next ${next.map(fmtRef).join(',')}`;
    }
    const expected = k === 0 ? undefined : k < evals.length - 1 ? first : first!.slice(0, first!.indexOf('|body'));
    if (k === 0) first = text;
    else if (text !== expected) return fail(`iteration ${k + 1} computed something else than iteration 1 (shapes or operations changed)`);
    iterations.push({ it, testLength, next, exit: exit as Ref[] });
  }
  const { it, testLength, next, exit } = iterations[0]!;

  // Carried values keep their shape and dtype from one iteration to the next.
  const stateMeta = evals[0]!.state.map((x) => nodes[x]!);
  for (let j = 0; j < carried; j++) {
    const after = nodes[evals[1]!.state[j]!]!;
    if (after.dtype !== stateMeta[j]!.dtype || after.shape.join() !== stateMeta[j]!.shape.join()) {
      return fail(`loop variable ${j + 1} changes from ${stateMeta[j]!.dtype}${fmtShape(stateMeta[j]!.shape)} to ${after.dtype}${fmtShape(after.shape)}`);
    }
  }

  // Outer values the loop reads (loop invariants), in order of first use.
  const invariants: number[] = [];
  const invariantSlot = new Map<number, number>();
  const noteOuter = (r: Ref) => {
    if (r.kind === 'outer' && !invariantSlot.has(r.node)) {
      invariantSlot.set(r.node, invariants.length);
      invariants.push(r.node);
    }
  };
  it.refs.forEach((rs) => rs.forEach(noteOuter));
  next.forEach(noteOuter);
  exit.forEach(noteOuter);
  const guardRef = it.ref(nodes[evals[0]!.testEnd - 1]!.inputs[0]!)!;
  noteOuter(guardRef);
  const args = [...stateMeta, ...invariants.map((x) => nodes[x]!)];

  // The condition graph: carried values and invariants in, the guarded value out.
  const cond = new SubgraphBuilder(graph, args);
  const argOf = (r: Ref): number => (r.kind === 'state' ? r.index : carried + invariantSlot.get(r.node)!);
  cond.copy(it, 0, testLength, (r) => (r.kind === 'local' ? cond.at.get(r.node)! : argOf(r)));
  const condValue = guardRef.kind === 'local' ? cond.at.get(guardRef.node)! : argOf(guardRef);

  // Condition values the body (or the next carried values) read come in as extra arguments.
  const exports: number[] = [];
  const exportSlot = new Map<number, number>();
  const noteExport = (r: Ref) => {
    if (r.kind === 'local' && r.node < testLength && !exportSlot.has(r.node)) {
      exportSlot.set(r.node, exports.length);
      exports.push(r.node);
    }
  };
  it.refs.slice(testLength).forEach((rs) => rs.forEach(noteExport));
  next.forEach(noteExport);
  const body = new SubgraphBuilder(graph, [...args, ...exports.map((k) => nodes[it.nodes[k]!]!)]);
  const inBody = (r: Ref): number => {
    if (r.kind !== 'local') return argOf(r);
    return r.node < testLength ? args.length + exportSlot.get(r.node)! : body.at.get(r.node)!;
  };
  body.copy(it, testLength, it.nodes.length, inBody);

  return {
    ok: true,
    operands: [...evals[0]!.state, ...invariants],
    params: {
      carried, cond: cond.graph, condValue,
      condExports: exports.map((k) => cond.at.get(k)!),
      exits: exit.map((r) => (r.kind === 'local' ? cond.at.get(r.node)! : argOf(r))),
      body: body.graph, results: next.map(inBody), site,
    },
  };
}
