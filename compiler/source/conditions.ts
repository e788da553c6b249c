/**
 * A cheap static look at the conditions of one function, for a function jit traces without
 * rewriting it (no kiln/vite, no kiln/register, or a `rewrite: true` that could not apply).
 * In plain JavaScript `if (x.gt(0))` is always taken (a tensor object is truthy), in eager
 * and jit alike; kiln cannot change the language, but it can name such conditions once.
 * A comparison (`a < b`) is different: JavaScript converts one-element tensors through
 * valueOf, so it works, each read being a guard. One parse and one walk, no scope analysis.
 */
import type { Node } from 'acorn';
import { forEachChild } from './scope.js';
import { COMPARISONS, type Construct } from './rewriter.js';
import { parseFunction } from './function-transform.js';

/** A condition of the function, where it is (line and column from its first line, 1-based) and what it is. */
export interface ConditionNote {
  construct: Construct;
  /** Its source text, shortened past 60 characters. */
  text: string;
  line: number;
  column: number;
  /**
   * `tensor-call`: a call of a method in the given set (always true when it returns a
   * tensor); `comparison`: `<`, `===` and friends; `other`: anything else.
   */
  kind: 'tensor-call' | 'comparison' | 'other';
}

/** What the scan found: whether the text already calls the hooks, and its conditions. */
export interface ConditionScan {
  rewritten: boolean;
  conditions: ConditionNote[];
}

const HOOKS_NAME = /^__kiln\d*$/;

/**
 * Scans the source of one function (as Function.prototype.toString gives it); undefined
 * when it does not parse. `tensorMethods`: names of methods that return a tensor.
 */
export function scanConditions(source: string, tensorMethods: ReadonlySet<string>): ConditionScan | undefined {
  const parsed = parseFunction(source);
  if (parsed === undefined) return undefined;
  const { fn, shift } = parsed;
  const text = source;
  const position = (offset: number): { line: number; column: number } => {
    const at = offset - shift;
    const before = text.slice(0, at);
    const line = before.split('\n').length;
    return { line, column: at - (before.lastIndexOf('\n') + 1) + 1 };
  };
  const conditions: ConditionNote[] = [];
  const noted = new Set<Node>();
  let rewritten = false;

  const note = (e: Node, construct: Construct): void => {
    if (e.type === 'LogicalExpression') {
      const l = e as import('acorn').LogicalExpression;
      if (l.operator === '&&' || l.operator === '||') {
        note(l.left, l.operator);
        note(l.right, l.operator);
        return;
      }
    }
    if (e.type === 'UnaryExpression' && (e as import('acorn').UnaryExpression).operator === '!') {
      noted.add(e);
      return note((e as import('acorn').UnaryExpression).argument, '!');
    }
    if (noted.has(e)) return;
    noted.add(e);
    const snippet = text.slice(e.start - shift, e.end - shift).replace(/\s+/g, ' ');
    conditions.push({
      construct,
      text: snippet.length > 60 ? `${snippet.slice(0, 57)}...` : snippet,
      ...position(e.start),
      kind: kindOf(e, tensorMethods),
    });
  };

  const visit = (node: Node): void => {
    switch (node.type) {
      case 'Identifier':
        if (HOOKS_NAME.test((node as import('acorn').Identifier).name)) rewritten = true;
        break;
      case 'IfStatement': note((node as import('acorn').IfStatement).test, 'if'); break;
      case 'WhileStatement': note((node as import('acorn').WhileStatement).test, 'while'); break;
      case 'DoWhileStatement': note((node as import('acorn').DoWhileStatement).test, 'do-while'); break;
      case 'ForStatement': {
        const test = (node as import('acorn').ForStatement).test;
        if (test) note(test, 'for');
        break;
      }
      case 'ConditionalExpression': note((node as import('acorn').ConditionalExpression).test, '?:'); break;
      case 'UnaryExpression':
        if ((node as import('acorn').UnaryExpression).operator === '!' && !noted.has(node)) note(node, '!');
        break;
      default: break;
    }
    forEachChild(node, visit);
  };
  forEachChild(fn, visit);
  return { rewritten, conditions };
}

function kindOf(e: Node, tensorMethods: ReadonlySet<string>): ConditionNote['kind'] {
  if (e.type === 'BinaryExpression' && (e as import('acorn').BinaryExpression).operator in COMPARISONS) return 'comparison';
  if (e.type !== 'CallExpression') return 'other';
  const callee = (e as import('acorn').CallExpression).callee;
  if (callee.type !== 'MemberExpression' || callee.computed) return 'other';
  const property = callee.property;
  return property.type === 'Identifier' && tensorMethods.has(property.name) ? 'tensor-call' : 'other';
}
