/**
 * The run-time path of the source transform: one function's text, as
 * `Function.prototype.toString` gives it, rewritten on its own.
 */
import type { Function as FunctionNode, Identifier, Node, Program } from 'acorn';
import { parseModule } from './parse.js';
import { analyzeScopes, forEachChild, isFunctionNode } from './scope.js';
import { freeHookNames } from './kiln-imports.js';
import { Positions } from './positions.js';
import { Rewriter, type RoutedCondition } from './rewriter.js';

/** A function's source rewritten on its own (the run-time path). */
export interface FunctionTransform {
  /** The rewritten text: a function expression, or a method (`name(…) {…}`) when `method`. */
  code: string;
  method: boolean;
  /** The sites table the code indexes, and the names it expects for the hooks and the table. */
  sites: string[];
  hook: string;
  sitesName: string;
  /** Conditions routed through the hooks. */
  routed: RoutedCondition[];
  /** Names the function reads that it does not declare (globals, or closure variables). */
  free: string[];
  /** `this`, `arguments`, `super` or `new.target` taken from outside the function. */
  outer: string[];
  /** The text was rewritten at build time already (it calls the hooks). */
  rewritten: boolean;
}

/** Parses a function's text (as Function.prototype.toString gives it): `shift` characters were put before it. */
export function parseFunction(source: string): { program: Program; fn: FunctionNode; method: boolean; shift: number } | undefined {
  // A function or arrow is an expression; a method (`step(x) {…}`) is one inside an object literal.
  for (const [open, close, method] of [['(', ')', false], ['({', '})', true]] as const) {
    let program: Program;
    try {
      program = parseModule(open + source + close, 'script');
    } catch {
      continue;
    }
    const st = program.body[0];
    if (program.body.length !== 1 || st?.type !== 'ExpressionStatement') continue;
    const e = st.expression;
    if (!method && isFunctionNode(e)) return { program, fn: e, method, shift: open.length };
    if (method && e.type === 'ObjectExpression' && e.properties.length === 1) {
      const p = e.properties[0]!;
      if (p.type === 'Property' && p.method && p.kind === 'init' && !p.computed && isFunctionNode(p.value)) return { program, fn: p.value, method, shift: open.length };
    }
  }
  return undefined;
}

/** What `fn` (a parsed function) takes from its surroundings besides names: `this` and friends. */
function outerContext(fn: FunctionNode): string[] {
  const out = new Set<string>();
  const visit = (node: Node, arrowOnly: boolean): void => {
    if (isFunctionNode(node) && node !== fn) {
      if (node.type !== 'ArrowFunctionExpression') return; // its own this, arguments, new.target
    }
    if (arrowOnly) {
      if (node.type === 'ThisExpression') out.add('this');
      if (node.type === 'Identifier' && (node as Identifier).name === 'arguments') out.add('arguments');
      if (node.type === 'MetaProperty') out.add('new.target');
    }
    if (node.type === 'Super') out.add('super');
    forEachChild(node, (c) => visit(c, arrowOnly));
  };
  forEachChild(fn, (c) => visit(c, fn.type === 'ArrowFunctionExpression'));
  return [...out];
}

/**
 * Rewrites the source text of one function (as `Function.prototype.toString` gives it) as
 * if it were handed to jit in a module; `label` names it in guard sites, whose lines count
 * from the function's first line. Undefined when the text does not parse as a function.
 */
export function transformFunction(source: string, label: string): FunctionTransform | undefined {
  const parsed = parseFunction(source);
  if (!parsed) return undefined;
  const { program, fn, method, shift } = parsed;
  const info = analyzeScopes(program);
  const free = new Set<string>();
  for (const [id, b] of info.references) if (b === null) free.add(id.name);
  const rewritten = [...free].some((n) => /^__kiln\d*(_sites)?$/.test(n));
  const names = freeHookNames(info.names);
  const text = (method ? '({' : '(') + source + (method ? '})' : ')');
  const rw = new Rewriter(text, info, new Set([fn]), names.hook, names.sites, label, new Positions(text, undefined, shift));
  if (!rewritten) rw.walk(program, false);
  const out = rw.s.toString();
  return {
    code: out.slice(shift, out.length - shift),
    method,
    sites: rw.sites,
    hook: names.hook,
    sitesName: names.sites,
    routed: rw.routed,
    free: [...free],
    outer: outerContext(fn),
    rewritten,
  };
}
