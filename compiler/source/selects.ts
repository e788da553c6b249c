/**
 * Which `if` statements may become a select: under a trace both branches run and `where`
 * picks each assigned variable's value, so the branch taken is data and not a guard. Both
 * branches then run while only one would have, so they must be pure by their text:
 * statements are `name = expression` assignments and let/const declarations (and blocks of
 * them); every call is a method call or a call of a function imported from kiln, never one
 * whose name ends in `_` (kiln's in-place ops) or one of the methods below that change
 * state. The runtime (src/jit/select-hook.ts) still checks what was recorded and falls back
 * to a guard when a branch did anything but compute tensors.
 */
import type { CallExpression, IfStatement, Node } from 'acorn';
import { forEachChild, isFunctionNode, type Binding, type ScopeInfo } from './scope.js';

/** Methods that change their receiver or the world (arrays, maps, autograd, optimizers, consoles). */
const EFFECTFUL_METHODS = new Set([
  'backward', 'step', 'zeroGrad', 'dispose', 'retainGrad', 'push', 'pop', 'shift', 'unshift', 'splice',
  'set', 'delete', 'clear', 'fill', 'sort', 'reverse', 'copyWithin', 'assign', 'log', 'warn', 'error', 'info', 'debug',
  'then', 'catch', 'finally', 'next', 'emit', 'dispatchEvent', 'write', 'load', 'save',
]);

function calleeName(call: CallExpression): string | undefined {
  const c = call.callee;
  if (c.type === 'Identifier') return c.name;
  if (c.type === 'MemberExpression' && !c.computed && c.property.type === 'Identifier') return c.property.name;
  return undefined;
}

/**
 * The variables an `if` assigns (declared outside it) when it may become a select;
 * undefined when it may not. `fromKiln`: whether an imported binding comes from kiln.
 */
export function selectVariables(st: IfStatement, info: ScopeInfo, fromKiln: (b: Binding) => boolean): string[] | undefined {
  const names: string[] = [];
  let pure = true;
  const expression = (e: Node): void => {
    if (!pure) return;
    if (isFunctionNode(e) || e.type === 'AssignmentExpression' || e.type === 'UpdateExpression' || e.type === 'AwaitExpression' ||
      e.type === 'YieldExpression' || e.type === 'NewExpression' || e.type === 'TaggedTemplateExpression' || e.type === 'ImportExpression') {
      pure = false;
      return;
    }
    if (e.type === 'CallExpression') {
      const call = e as CallExpression;
      const name = calleeName(call);
      if (name === undefined || name.endsWith('_') || EFFECTFUL_METHODS.has(name) || call.optional) pure = false;
      else if (call.callee.type === 'Identifier') {
        const b = info.references.get(call.callee);
        if (b === undefined || b === null || b.kind !== 'import' || !fromKiln(b)) pure = false;
      }
    }
    forEachChild(e, expression);
  };
  const statement = (s: Node | null | undefined): void => {
    if (!pure || s === null || s === undefined) return;
    switch (s.type) {
      case 'BlockStatement':
        (s as import('acorn').BlockStatement).body.forEach(statement);
        return;
      case 'EmptyStatement':
        return;
      case 'VariableDeclaration': {
        const d = s as import('acorn').VariableDeclaration;
        if (d.kind === 'var') pure = false;
        for (const decl of d.declarations) {
          if (decl.id.type !== 'Identifier') pure = false;
          if (decl.init) expression(decl.init);
        }
        return;
      }
      case 'ExpressionStatement': {
        const e = (s as import('acorn').ExpressionStatement).expression;
        if (e.type !== 'AssignmentExpression' || e.operator !== '=' || e.left.type !== 'Identifier') {
          pure = false;
          return;
        }
        const b = info.references.get(e.left);
        // A name declared inside the branch is the branch's own; a const cannot be assigned.
        const inside = b !== undefined && b !== null && b.id.start >= st.start && b.id.end <= st.end;
        if (b === undefined || b?.kind === 'const') pure = false;
        else if (!inside && !names.includes(e.left.name)) names.push(e.left.name);
        expression(e.right);
        return;
      }
      default:
        pure = false;
    }
  };
  statement(st.consequent);
  statement(st.alternate);
  return pure && names.length > 0 ? names : undefined;
}
