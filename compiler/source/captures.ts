/**
 * Captures: the closure variables a jit'd function reads that may hold tensors, written into
 * the jit call's options (`captures: () => ({ … })`) so they are read live at every call.
 */
import type MagicString from 'magic-string';
import type { ArrayExpression, Expression, Function as FunctionNode, Identifier, Node, ObjectExpression, Property, SpreadElement } from 'acorn';
import { forEachChild, type Binding, type Scope, type ScopeInfo } from './scope.js';
import { propertyName, type JitCall } from './targets.js';

/**
 * True for initializers that hold no tensor: literals, functions, classes, and array or
 * object literals made only of literals (settings such as a shape, which would only add
 * numbers to the signature).
 */
function knownNotTensor(init: Node): boolean {
  switch (init.type) {
    case 'Literal': case 'TemplateLiteral': case 'FunctionExpression': case 'ArrowFunctionExpression': case 'ClassExpression':
      return true;
    case 'UnaryExpression':
      return (init as import('acorn').UnaryExpression).argument.type === 'Literal';
    case 'ArrayExpression':
      return (init as ArrayExpression).elements.every((e) => e === null || (e.type !== 'SpreadElement' && knownNotTensor(e)));
    case 'ObjectExpression':
      return (init as ObjectExpression).properties.every((p) => p.type === 'Property' && !p.computed && p.kind === 'init' && knownNotTensor(p.value));
    default:
      return false;
  }
}

/** Names `fn` reads from its closure that may hold tensors, readable from `scope` (where jit is called). */
export function captureNames(fn: FunctionNode, info: ScopeInfo, scope: Scope, call: Node): string[] {
  const fnScope = info.scopeOf.get(fn)!;
  const out: string[] = [];
  const seen = new Set<Binding>();
  const visit = (node: Node): void => {
    if (node.type === 'Identifier') {
      const b = info.references.get(node as Identifier);
      if (b && !seen.has(b)) {
        seen.add(b);
        if (!fnScope.contains(b.scope) && capturable(b, call) && scope.lookup(b.name) === b) out.push(b.name);
      }
    }
    forEachChild(node, visit);
  };
  forEachChild(fn, visit);
  return out;
}

function capturable(b: Binding, call: Node): boolean {
  switch (b.kind) {
    case 'import': case 'function': case 'class':
      return false;
    case 'param': case 'catch':
      return true;
    default:
      if (!b.init) return true;
      // `const step = jit(…)`: the compiled function itself.
      if (call.start >= b.init.start && call.end <= b.init.end) return false;
      return b.reassigned || !knownNotTensor(b.init);
  }
}

/** Adds the captures of `c`'s function to the options of the jit call. */
export function addCaptures(s: MagicString, c: JitCall, info: ScopeInfo): void {
  const names = captureNames(c.fn, info, c.scope, c.call);
  if (names.length === 0) return;
  const captures = `captures: () => ({ ${names.join(', ')} })`;
  const [fnArg, options] = c.call.arguments as (Expression | SpreadElement)[];
  // Inserts at the end of a range use appendRight so they land after the wrap closers
  // (prependRight) that the rewrite put at the same offset.
  if (options === undefined) {
    s.appendRight(fnArg!.end, `, { ${captures} }`);
  } else if (options.type === 'ObjectExpression') {
    const props = (options as ObjectExpression).properties;
    if (props.some((p) => p.type === 'Property' && propertyName((p as Property).key, (p as Property).computed) === 'captures')) return;
    if (props.length === 0) s.appendRight(options.start + 1, ` ${captures} `);
    else s.appendRight(props[props.length - 1]!.end, `, ${captures}`);
  } else if (options.type !== 'SpreadElement') {
    // Options given by value: spread them after ours, so captures the caller set win.
    s.prependLeft(options.start, `{ ${captures}, ...`);
    s.appendRight(options.end, ' }');
  }
}
