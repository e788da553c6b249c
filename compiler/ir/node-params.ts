/**
 * The params of a node found by index, where the caller knows its op from the graph's
 * structure (an observe node's guard slot, a loop graph's inputs): the op is checked here,
 * so a wrong index is an InternalError naming both ops, not a misread params object.
 */
import { InternalError } from '../../runtime/errors.js';
import type { Node, NodeOf, NodeParams, PrimNode } from './graph.js';
import { isPrim } from './kinds.js';
import { isViewPrim, type ViewPrim } from './primitives.js';

/** True when `n` is a node of op `op` (narrows `n` to that op's node type). */
export function isOpNode<O extends Node['op']>(n: Node, op: O): n is Extract<Node, NodeOf<O>> {
  return n.op === op;
}

/** The params of `n`, which must be a node of op `op`. */
export function paramsOf<O extends Node['op']>(n: Node, op: O, where: string): NodeParams<O> {
  if (!isOpNode(n, op)) throw new InternalError(`${where}: expected a ${op} node, got ${n.op}`);
  return n.params;
}

/** The axes a reduction node reduces over (argmax and argmin name one axis, the others a list). */
export function reduceAxes(n: Node, where: string): number[] {
  switch (n.op) {
    case 'argmax':
    case 'argmin':
      return [n.params.axis];
    case 'sum':
    case 'prod':
    case 'max':
    case 'min':
      return n.params.axes;
    default:
      throw new InternalError(`${where}: expected a reduction node, got ${n.op}`);
  }
}

/** True for nodes of primitives (not effects): narrows `n` so that its op types its params. */
export function isPrimNode(n: Node): n is PrimNode {
  return isPrim(n.op);
}

/** True for nodes of view primitives (reshape, permute, expand, slice): they only change how storage is read. */
export function isViewNode(n: Node): n is PrimNode<ViewPrim> {
  return isPrim(n.op) && isViewPrim(n.op);
}
