/**
 * Scope analysis for the source transforms: which declaration each identifier refers to.
 * Small on purpose: function, block, class, catch and static-block scopes; bindings from
 * var/let/const, parameters, function and class declarations, catch parameters and
 * imports. Module code is strict, so function declarations in blocks are block-scoped.
 */
import type { Identifier, Node, Pattern, Program } from 'acorn';

/** How a name was declared. */
export type BindingKind = 'var' | 'let' | 'const' | 'param' | 'function' | 'class' | 'import' | 'catch';

/** One declared name. */
export interface Binding {
  name: string;
  kind: BindingKind;
  scope: Scope;
  /** The declaring identifier. */
  id: Identifier;
  /** What the name holds when declared: a plain `name = init` declarator's initializer, the function or class node; null when unknown (destructuring, parameters). */
  init: Node | null;
  /** For imports: the module specifier and the imported name (`*` for a namespace import). */
  source?: string;
  imported?: string;
  /** Assigned to (or updated) somewhere after its declaration. */
  reassigned: boolean;
}

/** A scope: the bindings it declares and the scope it sits in. */
export class Scope {
  readonly bindings = new Map<string, Binding>();
  /** `isFunction`: var declarations hoist to it (functions, the module, static blocks). */
  constructor(readonly node: Node, readonly parent: Scope | null, readonly isFunction: boolean) {}

  /** The binding `name` refers to from here; undefined for a global. */
  lookup(name: string): Binding | undefined {
    for (let s: Scope | null = this; s !== null; s = s.parent) {
      const b = s.bindings.get(name);
      if (b !== undefined) return b;
    }
    return undefined;
  }

  /** True when `other` is this scope or nested in it. */
  contains(other: Scope): boolean {
    for (let s: Scope | null = other; s !== null; s = s.parent) if (s === this) return true;
    return false;
  }

  /** The nearest scope that var declarations hoist to. */
  get functionScope(): Scope {
    let s: Scope = this;
    while (!s.isFunction && s.parent !== null) s = s.parent;
    return s;
  }
}

/** The result of analysing a program. */
export interface ScopeInfo {
  module: Scope;
  /** The scope each scope-creating node (function, block, class, loop head…) opens. */
  scopeOf: Map<Node, Scope>;
  /** Every identifier in a reference position, with its binding (null: a global). */
  references: Map<Identifier, Binding | null>;
  /** Every identifier name that appears anywhere, as a binding, reference or property. */
  names: Set<string>;
}

type AnyNode = Node & Record<string, unknown>;

const SKIP = new Set(['type', 'start', 'end', 'loc', 'range']);

/** Calls `fn` on each child node of `node`, with the key it sits under. */
export function forEachChild(node: Node, fn: (child: Node, key: string) => void): void {
  const n = node as AnyNode;
  for (const key in n) {
    if (SKIP.has(key)) continue;
    const v = n[key];
    if (Array.isArray(v)) {
      for (const c of v) if (c !== null && typeof c === 'object' && typeof (c as Node).type === 'string') fn(c as Node, key);
    } else if (v !== null && typeof v === 'object' && typeof (v as Node).type === 'string') {
      fn(v as Node, key);
    }
  }
}

/** True for function declarations, function expressions and arrow functions. */
export function isFunctionNode(n: Node): n is import('acorn').Function {
  return n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression';
}

/** Identifiers a pattern declares, in source order. */
export function patternNames(p: Pattern | null | undefined, out: Identifier[] = []): Identifier[] {
  if (!p) return out;
  switch (p.type) {
    case 'Identifier': out.push(p); break;
    case 'ObjectPattern':
      for (const prop of p.properties) patternNames(prop.type === 'RestElement' ? prop.argument : prop.value, out);
      break;
    case 'ArrayPattern': for (const e of p.elements) patternNames(e, out); break;
    case 'RestElement': patternNames(p.argument, out); break;
    case 'AssignmentPattern': patternNames(p.left, out); break;
    default: break; // MemberExpression targets declare nothing
  }
  return out;
}

/** Analyses `program`: scopes, bindings and what every identifier refers to. */
export function analyzeScopes(program: Program): ScopeInfo {
  const module = new Scope(program, null, true);
  const scopeOf = new Map<Node, Scope>([[program, module]]);
  const references = new Map<Identifier, Binding | null>();
  const names = new Set<string>();

  const declare = (scope: Scope, id: Identifier, kind: BindingKind, init: Node | null, extra?: { source: string; imported: string }): void => {
    // A parameter or var redeclared by var keeps the first binding (they are one variable).
    if (scope.bindings.has(id.name) && (kind === 'var' || kind === 'function')) return;
    scope.bindings.set(id.name, { name: id.name, kind, scope, id, init, reassigned: false, ...extra });
  };

  const open = (node: Node, parent: Scope, isFunction: boolean): Scope => {
    const s = new Scope(node, parent, isFunction);
    scopeOf.set(node, s);
    return s;
  };

  // Pass 1: scopes and declarations (so that hoisted names are known before references).
  const declareIn = (node: Node, scope: Scope): void => {
    switch (node.type) {
      case 'Identifier':
        names.add((node as Identifier).name);
        return;
      case 'FunctionDeclaration': case 'FunctionExpression': case 'ArrowFunctionExpression': {
        const f = node as import('acorn').Function;
        if (node.type === 'FunctionDeclaration' && f.id) declare(scope, f.id, 'function', node);
        const inner = open(node, scope, true);
        if (node.type === 'FunctionExpression' && f.id) declare(inner, f.id, 'function', node);
        if (f.id) names.add(f.id.name);
        for (const p of f.params) {
          for (const id of patternNames(p)) declare(inner, id, 'param', null);
          declareIn(p, inner);
        }
        // The body block shares the function's scope (a parameter and a body `let` cannot clash).
        if (f.body.type === 'BlockStatement') for (const st of f.body.body) declareIn(st, inner);
        else declareIn(f.body, inner);
        return;
      }
      case 'ClassDeclaration': case 'ClassExpression': {
        const c = node as import('acorn').Class;
        if (node.type === 'ClassDeclaration' && c.id) declare(scope, c.id, 'class', node);
        const inner = open(node, scope, false);
        if (node.type === 'ClassExpression' && c.id) declare(inner, c.id, 'class', node);
        forEachChild(node, (child) => declareIn(child, inner));
        return;
      }
      case 'StaticBlock': {
        const inner = open(node, scope, true);
        forEachChild(node, (child) => declareIn(child, inner));
        return;
      }
      case 'BlockStatement': case 'ForStatement': case 'ForInStatement': case 'ForOfStatement': case 'SwitchStatement': {
        const inner = open(node, scope, false);
        forEachChild(node, (child) => declareIn(child, inner));
        return;
      }
      case 'CatchClause': {
        const c = node as import('acorn').CatchClause;
        const inner = open(node, scope, false);
        for (const id of patternNames(c.param)) declare(inner, id, 'catch', null);
        if (c.param) declareIn(c.param, inner);
        // The catch body shares the clause's scope.
        scopeOf.set(c.body, inner);
        for (const st of c.body.body) declareIn(st, inner);
        return;
      }
      case 'VariableDeclaration': {
        const v = node as import('acorn').VariableDeclaration;
        const target = v.kind === 'var' ? scope.functionScope : scope;
        const kind: BindingKind = v.kind === 'var' ? 'var' : v.kind === 'let' ? 'let' : 'const';
        for (const d of v.declarations) {
          const plain = d.id.type === 'Identifier';
          for (const id of patternNames(d.id)) declare(target, id, kind, plain ? (d.init ?? null) : null);
        }
        break;
      }
      case 'ImportDeclaration': {
        const imp = node as import('acorn').ImportDeclaration;
        const source = String(imp.source.value);
        for (const s of imp.specifiers) {
          const imported = s.type === 'ImportNamespaceSpecifier' ? '*'
            : s.type === 'ImportDefaultSpecifier' ? 'default'
            : s.imported.type === 'Identifier' ? s.imported.name : String(s.imported.value);
          declare(module, s.local, 'import', null, { source, imported });
        }
        break;
      }
      default: break;
    }
    forEachChild(node, (child) => declareIn(child, scope));
  };
  declareIn(program, module);

  // Pass 2: references.
  const reference = (id: Identifier, scope: Scope, write: boolean): void => {
    const b = scope.lookup(id.name) ?? null;
    references.set(id, b);
    if (write && b !== null) b.reassigned = true;
  };

  // A pattern being declared (`declare`) or assigned to (`write`): its defaults and computed
  // keys are ordinary expressions.
  const visitPattern = (p: Node, scope: Scope, mode: 'declare' | 'write'): void => {
    switch (p.type) {
      case 'Identifier':
        if (mode === 'write') reference(p as Identifier, scope, true);
        return;
      case 'ObjectPattern':
        for (const prop of (p as import('acorn').ObjectPattern).properties) {
          if (prop.type === 'RestElement') visitPattern(prop.argument, scope, mode);
          else {
            if (prop.computed) visit(prop.key, scope);
            visitPattern(prop.value, scope, mode);
          }
        }
        return;
      case 'ArrayPattern':
        for (const e of (p as import('acorn').ArrayPattern).elements) if (e) visitPattern(e, scope, mode);
        return;
      case 'RestElement':
        visitPattern((p as import('acorn').RestElement).argument, scope, mode);
        return;
      case 'AssignmentPattern':
        visitPattern((p as import('acorn').AssignmentPattern).left, scope, mode);
        visit((p as import('acorn').AssignmentPattern).right, scope);
        return;
      default:
        visit(p, scope); // a member expression target: `[obj.x] = …`
    }
  };

  const visit = (node: Node, scope: Scope): void => {
    const own = scopeOf.get(node);
    switch (node.type) {
      case 'Identifier':
        reference(node as Identifier, scope, false);
        return;
      case 'FunctionDeclaration': case 'FunctionExpression': case 'ArrowFunctionExpression': {
        const f = node as import('acorn').Function;
        for (const p of f.params) visitPattern(p, own!, 'declare');
        visit(f.body, own!);
        return;
      }
      case 'ClassDeclaration': case 'ClassExpression': {
        const c = node as import('acorn').Class & { decorators?: Node[] };
        for (const d of c.decorators ?? []) visit(d, scope);
        if (c.superClass) visit(c.superClass, scope);
        visit(c.body, own!);
        return;
      }
      case 'MethodDefinition': case 'PropertyDefinition': {
        const m = node as (import('acorn').MethodDefinition | import('acorn').PropertyDefinition) & { decorators?: Node[] };
        for (const d of m.decorators ?? []) visit(d, scope);
        if (m.computed) visit(m.key, scope);
        if (m.value) visit(m.value, scope);
        return;
      }
      case 'Property': {
        const p = node as import('acorn').Property;
        if (p.computed) visit(p.key, scope);
        visit(p.value, scope);
        return;
      }
      case 'MemberExpression': {
        const m = node as import('acorn').MemberExpression;
        visit(m.object, scope);
        if (m.computed) visit(m.property, scope);
        return;
      }
      case 'VariableDeclarator': {
        const d = node as import('acorn').VariableDeclarator;
        visitPattern(d.id, scope, 'declare');
        if (d.init) visit(d.init, scope);
        return;
      }
      case 'CatchClause': {
        const c = node as import('acorn').CatchClause;
        if (c.param) visitPattern(c.param, own!, 'declare');
        for (const st of c.body.body) visit(st, own!);
        return;
      }
      case 'AssignmentExpression': {
        const a = node as import('acorn').AssignmentExpression;
        visitPattern(a.left, scope, 'write');
        visit(a.right, scope);
        return;
      }
      case 'UpdateExpression': {
        const u = node as import('acorn').UpdateExpression;
        if (u.argument.type === 'Identifier') reference(u.argument, scope, true);
        else visit(u.argument, scope);
        return;
      }
      case 'ForInStatement': case 'ForOfStatement': {
        const f = node as import('acorn').ForInStatement | import('acorn').ForOfStatement;
        if (f.left.type === 'VariableDeclaration') visit(f.left, own!);
        else visitPattern(f.left, own!, 'write');
        visit(f.right, own!);
        visit(f.body, own!);
        return;
      }
      case 'LabeledStatement':
        visit((node as import('acorn').LabeledStatement).body, scope);
        return;
      case 'BreakStatement': case 'ContinueStatement': case 'MetaProperty': case 'ImportDeclaration':
        return;
      case 'ExportNamedDeclaration': {
        const e = node as import('acorn').ExportNamedDeclaration;
        if (e.declaration) visit(e.declaration, scope);
        // `export { a as b }` reads the local `a`; `export { a } from 'm'` reads nothing here.
        if (!e.source) for (const s of e.specifiers) if (s.local.type === 'Identifier') reference(s.local, scope, false);
        return;
      }
      case 'ExportAllDeclaration':
        return;
      default:
        forEachChild(node, (child) => visit(child, own ?? scope));
    }
  };
  visit(program, module);
  return { module, scopeOf, references, names };
}
