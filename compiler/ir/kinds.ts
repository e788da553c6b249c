/**
 * Which kind of node an op names. graph.ts keeps the node types; the printer, parser,
 * verifier and passes all need the same split between primitives, value-defining effects
 * (input, constant, loop, loopResult) and effects that define nothing (write, observe, setGrad).
 */
import type { EffectOp, Node } from './graph.js';
import { primitiveRules, type Prim } from './primitives.js';

/** The non-primitive ops, in the order graph.ts lists them. */
export const EFFECT_OPS: readonly EffectOp[] = ['input', 'constant', 'write', 'observe', 'setGrad', 'loop', 'loopResult'];

/** True when `op` names a primitive of the table. */
export function isPrim(op: string): op is Prim {
  return Object.prototype.hasOwnProperty.call(primitiveRules, op);
}

/** True when `op` names a node kind the IR knows. */
export function isKnownOp(op: string): op is Node['op'] {
  return isPrim(op) || (EFFECT_OPS as readonly string[]).includes(op);
}

/** True for ops whose node defines a value other nodes may read (everything but write, observe, setGrad; a loop defines its iteration count). */
export function definesValue(op: Node['op']): boolean {
  return op !== 'write' && op !== 'observe' && op !== 'setGrad';
}
