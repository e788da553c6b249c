/**
 * The recorder: while a jit'd function runs eagerly for the first time with a signature,
 * every primitive, constant, in-place write, value read and gradient assignment becomes a
 * node of the graph. Tensors map to the node that defined them; a tensor the function
 * reaches without receiving it becomes a captured input, read live on every later call.
 */
import type { DType } from '../../runtime/dtype.js';
import { makeNode, type EffectParams, type Graph, type InputSource, type Node } from '../../compiler/ir/graph.js';
import type { Prim } from '../../compiler/ir/primitives.js';
import { isGradEnabled } from '../autograd/mode.js';
import type { ConstantSource } from '../observers.js';
import { randomState } from '../random.js';
import type { Storage, Tensor } from '../tensor.js';
import { storedAs } from './signature.js';
import { captureSite, librarySite, userSite } from './site.js';
import type { ComparisonOp } from './compare.js';
import type { LoopLift } from './loop-lift.js';
import type { NamedPass } from '../../compiler/passes/pipeline.js';
import { UnrollWatch } from './unroll.js';

/** A value JS observed while tracing; on replay it must come out the same. */
export interface Guard {
  node: number;
  site: string;
  how: string;
  expected: number[];
}

/** A point of the recording that a lifted loop collapses back to. */
export interface TraceMark {
  nodes: number;
  guards: number;
  captures: number;
  defined: number;
}

/** The id of a tensor made inside a lifted loop that left it other than as a loop variable. */
const POISONED = -1;

/** The recording of one call. */
export class Trace {
  readonly graph: Graph = { nodes: [] };
  /** Grad mode at each node, replayed as recorded so autograd behaves as in eager. */
  readonly gradModes: boolean[] = [];
  readonly captures: Tensor[] = [];
  readonly guards: Guard[] = [];
  /** Input and constant nodes whose storage the trace writes in place. */
  readonly writtenRoots = new Set<number>();
  /** Random elements drawn, from the generator position at the start of the call. */
  randomCount = 0;
  /** The function returned a promise (replays return one too). */
  isAsync = false;
  readonly #ids = new WeakMap<Tensor, number>();
  /** `.grad` values assigned during this call: reading them back needs no guard. */
  readonly #gradsSet = new Map<Tensor, Tensor | null>();
  readonly #storageOwner = new Map<Storage, number>();
  /** For each value, the node whose storage it reads (itself, or the base of a view). */
  readonly roots: number[] = [];
  readonly #randomStart: number;
  /** Lift loops with tensor conditions into loop nodes (src/hooks.ts `lift`). */
  liftLoops = true;
  /** What became of each loop with a tensor condition and each possible select, by site, for explain(). */
  readonly controlNotes = new Map<string, string>();
  /**
   * Record where each node was made in `sites` (resolved by resolveSite when read): only for
   * the traces after a signature's first, which explain compares with the one before.
   */
  recordSites = false;
  readonly sites: (string | Error)[] = [];
  /** Set when the recording cannot be replayed (a value escaped a lifted loop): the reason. */
  invalid: string | undefined;
  /**
   * Set when recording stopped for good (a loop being unrolled): why. The call finishes
   * eagerly, unrecorded, and its signature stays eager.
   */
  abandoned: string | undefined;
  /** Graph passes of the jit'd function, for a lifted loop the trace runs compiled. */
  passes: readonly NamedPass[] = [];
  /** Identical iterations of a loop recorded before the trace gives up on unrolling it. */
  maxUnroll = Infinity;
  #unroll: UnrollWatch | undefined;
  /** Nesting of `paused` sections: nothing is recorded inside one. */
  #paused = 0;
  /**
   * While a loop is recorded: the tensors from before it (and captured in it) that it read,
   * by node, so the loop can be run compiled. Tensors made inside are not kept, so a long
   * native loop holds on to nothing per iteration.
   */
  readonly #loopTensors = new Map<number, Tensor>();
  /** First node of each loop being recorded, innermost last. */
  readonly #loopStarts: number[] = [];
  /** Flags of tensors changed by JS, with where; settled at the end (see unrecordedWrite). */
  readonly #flagWrites = new Map<Tensor, string>();
  /** The first other JS state change of the call, with where. */
  #stateWrite: string | undefined;
  /** Loops being recorded for lifting, and the tensors defined meanwhile. */
  #loopDepth = 0;
  #defined: Tensor[] = [];

  /** `numbers`: the dynamic number arguments by position (others undefined), for linking constants. */
  constructor(readonly args: readonly Tensor[], readonly numbers: readonly (number | undefined)[]) {
    this.#randomStart = randomState().offset;
    args.forEach((t, slot) => {
      if (!this.#ids.has(t)) this.#define(t, this.#node('input', [], { source: { kind: 'arg', slot } }, t.shape, t.dtype));
    });
  }

  /** Whether ops are recorded now (context.ts hides a trace that is not). */
  get recording(): boolean {
    return this.abandoned === undefined && this.#paused === 0;
  }

  /** Runs `fn` unrecorded (kiln's own work inside a traced call, such as running a lifted loop). */
  paused<R>(fn: () => R): R {
    this.#paused++;
    try {
      return fn();
    } finally {
      this.#paused--;
    }
  }

  /** The tensor of node `id`, if a loop being recorded read it. */
  loopTensor(id: number): Tensor | undefined {
    return this.#loopTensors.get(id);
  }

  #node(op: Node['op'], inputs: number[], params: object, shape: readonly number[], dtype: DType): number {
    this.graph.nodes.push(makeNode(op, inputs, params, shape.slice(), dtype));
    this.gradModes.push(isGradEnabled());
    if (this.recordSites) this.sites[this.graph.nodes.length - 1] = captureSite();
    return this.graph.nodes.length - 1;
  }

  #define(t: Tensor, id: number): number {
    if (this.#loopDepth > 0) this.#defined.push(t);
    this.#ids.set(t, id);
    if (!this.#storageOwner.has(t.storage)) this.#storageOwner.set(t.storage, id);
    this.roots[id] = this.#storageOwner.get(t.storage)!;
    return id;
  }

  /** The node defining `t`; a tensor never seen before is a captured input. */
  idOf(t: Tensor): number {
    const id = this.#ids.get(t);
    if (id === POISONED) this.invalid ??= 'a tensor computed inside a lifted loop is used after the loop other than through a loop variable';
    else if (id !== undefined) {
      if (this.#loopDepth > 0 && id < this.#loopStarts.at(-1)!) this.#loopTensors.set(id, t);
      return id;
    }
    const source: InputSource = { kind: 'capture', slot: this.captures.length };
    this.captures.push(t);
    const captured = this.#define(t, this.#node('input', [], { source }, t.shape, t.dtype));
    if (this.#loopDepth > 0) this.#loopTensors.set(captured, t);
    return captured;
  }

  /** The node defining `t` if the trace has seen it. */
  knownId(t: Tensor): number | undefined {
    const id = this.#ids.get(t);
    return id === POISONED ? undefined : id;
  }

  /** Starts recording a loop that may be lifted (or a select); every beginLoop is followed by one endLoop or rollback. */
  beginLoop(): TraceMark {
    this.#loopDepth++;
    this.#loopStarts.push(this.graph.nodes.length);
    return { nodes: this.graph.nodes.length, guards: this.guards.length, captures: this.captures.length, defined: this.#defined.length };
  }

  /**
   * Ends a loop's recording. With `lift`, everything recorded since `mark` is replaced by the
   * loop node (captured tensors first read inside the loop become inputs before it), and the
   * loop's results define `final`, the loop variables' tensors after the loop. Tensors made
   * inside the loop are forgotten: using one later makes the recording invalid.
   */
  endLoop(mark: TraceMark, lift?: { lifted: Extract<LoopLift, { ok: true }>; final: readonly Tensor[] }): void {
    if (lift !== undefined) {
      // Captured tensors first read inside the loop: their input nodes move in front of it.
      const capturedInside = this.captures.slice(mark.captures).map((t) => ({ t, old: this.#ids.get(t)! }));
      this.#truncate(mark);
      const moved = new Map<number, number>();
      capturedInside.forEach(({ t, old }, k) => {
        moved.set(old, this.#define(t, this.#node('input', [], { source: { kind: 'capture', slot: mark.captures + k } }, t.shape, t.dtype)));
      });
      const operands = lift.lifted.operands.map((x) => (x < mark.nodes ? x : moved.get(x)!));
      const loop = this.#node('loop', operands, lift.lifted.params, [], 'int32');
      lift.final.forEach((t, index) => this.#define(t, this.#node('loopResult', [loop], { index }, t.shape, t.dtype)));
    }
    this.#endSpeculation();
  }

  /**
   * Forgets everything recorded since `mark` (a select that falls back to a guard): its
   * nodes and guards, and the captured tensors first read since, which are captured afresh
   * if read again.
   */
  rollback(mark: TraceMark): void {
    const captured = this.captures.splice(mark.captures);
    this.#truncate(mark);
    for (const t of captured) this.#ids.delete(t);
    this.#endSpeculation();
  }

  /** Drops the nodes since `mark`; tensors defined since then are forgotten (poisoned). */
  #truncate(mark: TraceMark): void {
    for (const t of this.#defined.slice(mark.defined)) {
      if ((this.#storageOwner.get(t.storage) ?? -1) >= mark.nodes) this.#storageOwner.delete(t.storage);
      this.#ids.set(t, POISONED);
    }
    this.graph.nodes.length = mark.nodes;
    this.gradModes.length = mark.nodes;
    this.roots.length = mark.nodes;
    this.guards.length = mark.guards;
  }

  #endSpeculation(): void {
    this.#loopDepth--;
    this.#loopStarts.pop();
    // What only the inner loop (or select) needed goes: the enclosing one keeps its own.
    const start = this.#loopStarts.at(-1) ?? 0;
    for (const id of this.#loopTensors.keys()) if (id >= start) this.#loopTensors.delete(id);
    if (this.#loopDepth === 0) this.#defined = [];
  }

  onApply(prim: Prim, inputs: readonly Tensor[], params: object, out: Tensor): void {
    const ids = inputs.map((x) => this.idOf(x));
    let p = params;
    if (prim === 'random') {
      // Replays draw from the generator's position at their own call: keep the offset relative.
      const { shape, offset } = params as { shape: number[]; offset: number };
      p = { shape, offset: offset - this.#randomStart };
      this.randomCount = Math.max(this.randomCount, offset - this.#randomStart + out.size);
    }
    // An op without operands runs on the device eager code chose for it; the graph must say so,
    // or two equal ones made on different devices (an iota for a GPU mask and one for a CPU
    // `eye` later moved to the GPU) look like one value and are merged onto one device.
    if (inputs.length === 0 && out.device === 'webgpu') p = { ...p, device: 'webgpu' };
    this.#define(out, this.#node(prim, ids, p, out.shape, out.dtype));
  }

  onCreate(t: Tensor, source: ConstantSource): void {
    let params: EffectParams['constant'];
    if ('value' in source) {
      // A scalar equal to a number argument that changes between calls is that argument,
      // compared as the tensor stores it (a float32 scalar holds the number rounded). Bool
      // scalars store truthiness, which replaying a number slot would not reproduce.
      const slot = t.dtype === 'bool' ? -1 : this.numbers.findIndex((n) => n !== undefined && Object.is(storedAs(n, t.dtype), source.value));
      params = slot >= 0 ? { numberSlot: slot } : { value: source.value };
    } else {
      params = 'fill' in source ? { value: source.fill } : { data: source.data };
    }
    this.#define(t, this.#node('constant', [], params, t.shape, t.dtype));
  }

  onWrite(target: Tensor, value: Tensor): void {
    const t = this.idOf(target);
    const v = this.idOf(value);
    const owner = this.#storageOwner.get(target.storage);
    if (owner !== undefined) {
      const op = this.graph.nodes[owner]!.op;
      if (op === 'input' || op === 'constant') this.writtenRoots.add(owner);
    }
    this.#node('write', [t, v], {}, [], target.dtype);
  }

  onRead(t: Tensor, values: ArrayLike<number>, how: string): void {
    const expected = Array.from(values, Number);
    const guard = this.guards.length;
    const site = userSite();
    // A read inside kiln's own layers names that line too: the user's line only calls it.
    const inKiln = librarySite();
    if (inKiln !== undefined) how = `${how} in kiln's ${inKiln}`;
    const node = this.#node('observe', [this.idOf(t)], { guard, expected, site, how, gradNull: false } satisfies EffectParams['observe'], [], t.dtype);
    this.guards.push({ node, site, how, expected });
    if (this.maxUnroll === Infinity) return;
    this.#unroll ??= new UnrollWatch(this.maxUnroll);
    if (this.#unroll.note(this.graph, site, node)) {
      this.abandoned = `the loop at ${site} repeats the same recorded iteration (${this.maxUnroll} times in a row): tracing it `
        + 'would unroll every iteration, so it runs eagerly. Let the source transform hand the loop over (node --import '
        + 'kiln/register or the kiln/vite plugin; a loop whose iterations compute the same thing becomes one loop node), '
        + 'or jit the loop\'s body instead of the function around it';
    }
  }

  /**
   * JS compared two numbers in a condition (through the control-flow hook). When one is a
   * number argument fed in per call, the outcome becomes a guard on that argument: a replay
   * re-evaluates the comparison with the call's value.
   */
  onNumberCompare(a: number, b: number, op: ComparisonOp, result: boolean): void {
    const slotOf = (v: number) => this.numbers.findIndex((n) => n !== undefined && Object.is(n, v));
    const sa = slotOf(a), sb = slotOf(b);
    if (sa < 0 && sb < 0) return;
    const numberCompare = sa >= 0 ? { slot: sa, op, other: b, swap: false } : { slot: sb, op, other: a, swap: true };
    const guard = this.guards.length;
    const site = userSite();
    const how = `a comparison (${op}) of number argument ${numberCompare.slot}`;
    const expected = [result ? 1 : 0];
    const node = this.#node('observe', [], { guard, expected, site, how, gradNull: false, numberCompare } satisfies EffectParams['observe'], [], 'bool');
    this.guards.push({ node, site, how, expected });
  }

  onGradRead(t: Tensor, grad: Tensor | null): void {
    if (this.#gradsSet.has(t) && this.#gradsSet.get(t) === grad) return;
    if (grad !== null && this.#ids.has(grad)) return;
    const of = this.idOf(t);
    if (grad === null) {
      const guard = this.guards.length;
      const site = userSite();
      const node = this.#node('observe', [of], { guard, expected: [], site, how: '.grad (null when traced)', gradNull: true } satisfies EffectParams['observe'], [], t.dtype);
      this.guards.push({ node, site, how: '.grad (null when traced)', expected: [] });
      return;
    }
    this.#define(grad, this.#node('input', [], { source: { kind: 'grad', of } }, grad.shape, grad.dtype));
  }

  /** Objects with state made during this call: their changes stay inside it. */
  readonly #madeObjects = new WeakSet<object>();

  onStateObject(owner: object): void {
    this.#madeObjects.add(owner);
  }

  onStateWrite(what: string, target?: Tensor, owner?: object): void {
    if (owner !== undefined && this.#madeObjects.has(owner)) return;
    const where = `${what} at ${userSite()}`;
    if (target === undefined) this.#stateWrite ??= where;
    else if (!this.#flagWrites.has(target)) this.#flagWrites.set(target, where);
  }

  /**
   * The first change this call made to JS state that its graph does not record, so a replay
   * would not repeat it; undefined when there is none. A flag of a tensor the call made
   * itself counts for nothing: nothing outside held that tensor before the call.
   */
  unrecordedWrite(): string | undefined {
    if (this.#stateWrite !== undefined) return this.#stateWrite;
    for (const [t, where] of this.#flagWrites) {
      const id = this.#ids.get(t);
      if (id === undefined || (id !== POISONED && this.graph.nodes[id]!.op === 'input')) return where;
    }
    return undefined;
  }

  onGradWrite(t: Tensor, grad: Tensor | null): void {
    this.#gradsSet.set(t, grad);
    const inputs = grad === null ? [this.idOf(t)] : [this.idOf(t), this.idOf(grad)];
    this.#node('setGrad', inputs, {}, [], t.dtype);
  }
}
