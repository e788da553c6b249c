/**
 * Algebraic simplification and constant folding. Every rule keeps results bit for bit on
 * the recorded dtype (the comment at each rule says why it is exact), and a rule that
 * would only be exact for most values is not here: `x + 0` is not `x` for x = -0 in float
 * arithmetic, and int32 → float32 → int32 is not a round trip past 2^24.
 *
 * Equal numbers are not enough when a node is replaced by another value, because values
 * are tensors (see pass.ts): the replaced node must not escape (its caller would receive
 * another tensor, perhaps an argument) nor be written in place (the write would reach the
 * replacement's memory), and the replacement's memory must not be written after it was
 * read (the replaced node's readers would see the write). Rewrites that only re-express
 * the same view of the same memory (view folds) need none of this: they cannot change
 * which memory anything reads, or when.
 *
 * Constants are `constant` nodes with a `value` parameter (one number filling the shape)
 * that nothing writes, seen through any views (views of a uniform tensor are uniform).
 * Constants tied to a number argument (`numberSlot`) change between calls and are never
 * folded.
 */
import { ARRAY_OF, isInteger, type DType } from '../../runtime/dtype.js';
import { storedValue } from '../../runtime/stored.js';
import type { Graph, Node } from '../ir/graph.js';
import { isPrim } from '../ir/kinds.js';
import { isElementwisePrim, primitiveRules, refCast, type Prim } from '../ir/primitives.js';
import { sameShape } from '../ir/shape.js';
import { formatParamsExact } from '../ir/text.js';
import { Rebuilder, graphFacts, isView, nodeLabel, writesBetween, type GraphFacts, type PassInfo, type PassResult } from './pass.js';

/**
 * Primitives folded with the table's reference semantics. For each of these the kernels
 * evaluate the same IEEE expression as `ref`/`refInt` (basic arithmetic, sqrt, comparisons,
 * min/max, rounding, the same pow and mod helpers) and round once when storing, so the
 * folded constant has the kernel's bits. The transcendental functions are left out: float32
 * kernels use kiln's own float32 approximations, which may be one ulp from the rounded
 * float64 reference.
 */
const FOLDABLE: ReadonlySet<Prim> = new Set<Prim>([
  'neg', 'abs', 'sign', 'recip', 'sqrt', 'rsqrt', 'floor', 'ceil', 'round', 'not', 'isnan',
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'lt', 'le', 'eq', 'ne', 'and', 'or',
  'where', 'cast',
]);

/** Dtypes that hold every value of a dtype exactly, so a cast there and back (or onward) loses nothing. */
const HOLDS_EXACTLY: Record<DType, readonly DType[]> = {
  bool: ['uint8', 'int32', 'float16', 'float32', 'float64'],
  uint8: ['int32', 'float16', 'float32', 'float64'],
  int32: ['float64'],
  float16: ['float32', 'float64'],
  float32: ['float64'],
  float64: [],
};

/** `v` as an element of `dtype` stores it (float32 rounds, int32 wraps, bool keeps the byte). */
function stored(v: number, dtype: DType): number {
  if (dtype === 'float16') return storedValue(v, dtype);
  const a = new ARRAY_OF[dtype](1);
  a[0] = v;
  return a[0]!;
}

function isIdentityPerm(perm: readonly number[]): boolean {
  return perm.every((p, i) => p === i);
}

/** A rewrite of one node: its value is an existing new node, or new nodes take its place. */
type Rewrite =
  | { kind: 'value'; value: number; why: string }
  | { kind: 'nodes'; emit: (push: (n: Node) => number) => number; why: string };

class Rules {
  constructor(readonly facts: GraphFacts, readonly b: Rebuilder) {}

  node(x: number): Node {
    return this.b.nodes[x]!;
  }

  /** The value of every element of new node `x`, when x is a constant nothing writes. */
  splat(x: number): number | undefined {
    let k = x;
    while (isView(this.node(k))) k = this.node(k).inputs[0]!;
    const c = this.node(k);
    if (c.op !== 'constant') return undefined;
    const p = c.params;
    if (typeof p.value !== 'number' || p.numberSlot !== undefined || p.data !== undefined) return undefined;
    if (this.facts.written.has(this.b.origin[k]!)) return undefined;
    return stored(p.value, c.dtype);
  }

  /** Does new node `a` (not a view) still hold, at old position `at`, the value it was computed with? */
  unchangedUntil(a: number, at: number): boolean {
    const origin = this.b.origin[a]!;
    return !writesBetween(this.facts, this.facts.root[origin]!, origin, at);
  }

  /** May readers of old node `i` read new node `x` instead, given that i's value is x's as read at old position `readAt`? */
  canReplace(i: number, x: number, readAt: number): boolean {
    if (this.facts.escapes[i] || this.facts.written.has(i)) return false;
    return !writesBetween(this.facts, this.facts.root[this.b.origin[x]!]!, readAt);
  }

  /** Replacing a view by one with the same memory and layout changes only which tensor object an escaping node is. */
  canAlias(i: number): boolean {
    return !this.facts.escapes[i];
  }

  replace(i: number, x: number, readAt: number, why: string): Rewrite | undefined {
    return this.canReplace(i, x, readAt) ? { kind: 'value', value: x, why } : undefined;
  }

  alias(i: number, x: number, why: string): Rewrite | undefined {
    return this.canAlias(i) ? { kind: 'value', value: x, why } : undefined;
  }

  /** An elementwise primitive (or cast) whose operands are all constants becomes a constant. */
  fold(i: number, node: Node): Rewrite | undefined {
    if (!isPrim(node.op) || !FOLDABLE.has(node.op) || node.inputs.length === 0) return undefined;
    // The folded value becomes a cached constant: it must not be written or handed out.
    if (this.facts.escapes[i] || this.facts.written.has(i)) return undefined;
    const values: number[] = [];
    for (const x of node.inputs) {
      const v = this.splat(x);
      if (v === undefined) return undefined;
      // A bool byte other than 0/1 reads differently in `ref` (truthiness) and in kernels (bit ops).
      if (this.node(x).dtype === 'bool' && v !== 0 && v !== 1) return undefined;
      values.push(v);
    }
    let v: number;
    if (node.op === 'cast') {
      v = refCast(values[0]!, node.params.dtype);
    } else {
      if (!isElementwisePrim(node.op)) return undefined;
      const rule = primitiveRules[node.op];
      const operandDtype = this.node(node.inputs[node.inputs.length - 1]!).dtype;
      const f = isInteger(operandDtype) && rule.refInt !== undefined ? rule.refInt : rule.ref;
      v = f(...values);
    }
    const value = stored(v, node.dtype);
    const { dtype, shape } = node;
    return {
      kind: 'nodes',
      why: `its operands are constants, so it is the constant${formatParamsExact({ value })}`,
      emit: (push) => {
        const c = push({ op: 'constant', inputs: [], params: { value }, shape: [], dtype });
        return shape.length === 0 ? c : push({ op: 'expand', inputs: [c], params: { shape: shape.slice() }, shape: shape.slice(), dtype });
      },
    };
  }

  /** Identities of arithmetic with a constant operand, negation and casts. */
  arithmetic(i: number, node: Node): Rewrite | undefined {
    const [a, c] = node.inputs as [number, number | undefined];
    const int = isInteger(node.dtype);
    switch (node.op) {
      case 'mul': {
        // x * 1 = x in IEEE arithmetic for every x (NaN, ±Inf, -0 too); imul(x, 1) = x.
        if (this.splat(c!) === 1) return this.replace(i, a, i, 'x * 1 = x');
        if (this.splat(a) === 1) return this.replace(i, c!, i, '1 * x = x');
        return undefined;
      }
      case 'div':
        // x / 1 = x exactly, signs of zero and NaN included.
        return this.splat(c!) === 1 ? this.replace(i, a, i, 'x / 1 = x') : undefined;
      case 'add': {
        // x + (-0) = x for every float x (-0 + -0 = -0), but x + 0 turns -0 into +0; int32 has one zero.
        const isZero = (v: number | undefined): boolean => (int ? v === 0 : Object.is(v, -0));
        const zero = int ? '0' : '(-0)';
        if (isZero(this.splat(c!))) return this.replace(i, a, i, `x + ${zero} = x`);
        if (isZero(this.splat(a))) return this.replace(i, c!, i, `${zero} + x = x`);
        return undefined;
      }
      case 'sub': {
        // x - 0 = x + (-0) = x for every float x; x - (-0) = x + 0 is not (it turns -0 into +0).
        const v = this.splat(c!);
        return (int ? v === 0 : Object.is(v, 0)) ? this.replace(i, a, i, 'x - 0 = x') : undefined;
      }
      case 'neg': {
        // Negation flips the sign bit (int32: wraps, and -(-2^31) = -2^31 flips back), so twice is the identity.
        const inner = this.node(a);
        // The inner negation must still hold -x when this one reads it.
        if (inner.op !== 'neg' || !this.unchangedUntil(a, i)) return undefined;
        return this.replace(i, inner.inputs[0]!, this.b.origin[a]!, '-(-x) = x');
      }
      case 'cast': {
        const to = node.params.dtype;
        if (to === this.node(a).dtype) return this.replace(i, a, i, `a cast to ${to} of a ${to} value is the value`);
        const inner = this.node(a);
        if (inner.op !== 'cast' || !this.unchangedUntil(a, i)) return undefined;
        const y = inner.inputs[0]!;
        const from = this.node(y).dtype;
        // The inner cast keeps every value of y, so the outer one sees y's values themselves.
        if (!HOLDS_EXACTLY[from].includes(inner.dtype)) return undefined;
        const readAt = this.b.origin[a]!;
        if (to === from) {
          // A bool byte other than 0/1 comes back from the round trip as 1, so only numbers round-trip.
          return from === 'bool' ? undefined : this.replace(i, y, readAt, `${from} → ${inner.dtype} → ${from} loses nothing`);
        }
        if (writesBetween(this.facts, this.facts.root[this.b.origin[y]!]!, readAt, i)) return undefined;
        return {
          kind: 'nodes',
          why: `${from} → ${inner.dtype} loses nothing, so casting on to ${to} is casting ${from} to ${to}`,
          emit: (push) => push({ ...node, inputs: [y], params: { dtype: to } }),
        };
      }
    }
    return undefined;
  }

  /** View folds: same memory, same element addresses. */
  views(i: number, node: Node): Rewrite | undefined {
    const x = node.inputs[0]!;
    const inner = this.node(x);
    switch (node.op) {
      case 'reshape': {
        const { shape } = node.params;
        if (sameShape(shape, inner.shape)) return this.alias(i, x, 'a reshape to the same shape is the value');
        if (inner.op !== 'reshape') return undefined;
        const y = inner.inputs[0]!;
        if (sameShape(shape, this.node(y).shape)) return this.alias(i, y, 'a reshape back to the original shape is the value');
        // Both steps were views (the tracer copies before a reshape strides cannot express),
        // and reading memory row-major as one shape and then another is reading it as the last.
        return { kind: 'nodes', why: 'a reshape of a reshape is one reshape', emit: (push) => push({ ...node, inputs: [y], params: { shape: shape.slice() } }) };
      }
      case 'permute': {
        const { perm } = node.params;
        if (isIdentityPerm(perm)) return this.alias(i, x, 'the identity permutation is the value');
        if (inner.op !== 'permute') return undefined;
        const p = inner.params.perm;
        const composed = perm.map((k) => p[k]!);
        const y = inner.inputs[0]!;
        if (isIdentityPerm(composed)) return this.alias(i, y, 'a permutation and its inverse cancel');
        return { kind: 'nodes', why: `a permute of a permute is one permute ${JSON.stringify(composed)}`, emit: (push) => push({ ...node, inputs: [y], params: { perm: composed } }) };
      }
      case 'expand': {
        const { shape } = node.params;
        return sameShape(shape, inner.shape) ? this.alias(i, x, 'an expand to the same shape is the value') : undefined;
      }
    }
    return undefined;
  }
}

/**
 * Applies the exact identities, view folds and constant folds in one forward sweep. Rules
 * look at operands after their own rewrites, so chains fold in the same sweep.
 */
export function simplify(g: Graph, info: PassInfo): PassResult {
  const facts = graphFacts(g, info.outputs);
  const b = new Rebuilder(g);
  const rules = new Rules(facts, b);
  const changes: string[] = [];
  g.nodes.forEach((n, i) => {
    if (!isPrim(n.op)) {
      b.keep(i);
      return;
    }
    // Operands are already rewritten, so rules see through earlier rewrites (neg(neg(neg(neg(x))))).
    const node = b.renumber(n);
    const r = rules.fold(i, node) ?? rules.arithmetic(i, node) ?? rules.views(i, node);
    if (r === undefined) {
      b.remap[i] = b.push(node, i);
    } else if (r.kind === 'value') {
      b.remap[i] = r.value;
      changes.push(`${nodeLabel(g, i)} is %${b.origin[r.value]}: ${r.why}`);
    } else {
      b.remap[i] = r.emit((m) => b.push(m, i));
      changes.push(`${nodeLabel(g, i)} rewritten: ${r.why}`);
    }
  });
  return b.result(changes);
}
