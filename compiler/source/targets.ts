/**
 * Which functions of a module the transform rewrites (functions handed to `jit`, methods
 * decorated `@jit` as written or as lowered by esbuild and tsc), and the jit calls that get
 * captures.
 */
import type {
  ArrayExpression, AssignmentExpression, CallExpression, Class, Function as FunctionNode, Identifier, MethodDefinition,
  Node, ObjectExpression, VariableDeclarator,
} from 'acorn';
import type { Decorator } from './parse.js';
import { forEachChild, isFunctionNode, type Binding, type Scope, type ScopeInfo } from './scope.js';
import type { KilnImports } from './kiln-imports.js';
import type { Positions } from './positions.js';
import type { SourceWarning } from './transform.js';

/** The value of a string literal node. */
export function stringValue(node: Node): string | undefined {
  const v = node.type === 'Literal' ? (node as unknown as { value: unknown }).value : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** The name of a property key written as a name or a string. */
export function propertyName(key: Node, computed: boolean): string | undefined {
  if (key.type === 'Identifier' && !computed) return (key as Identifier).name;
  return stringValue(key);
}

/** A call of `jit` with the function it compiles and the scope it is made in. */
export interface JitCall {
  call: CallExpression;
  scope: Scope;
  fn: FunctionNode;
}

/** What the collecting pass found: functions to rewrite and jit calls to give captures. */
export interface Found {
  targets: Set<FunctionNode>;
  calls: JitCall[];
  warnings: SourceWarning[];
}

/** The collecting pass: one walk over the module. */
export class Finder {
  readonly found: Found = { targets: new Set(), calls: [], warnings: [] };
  /** Variables holding lowered decorator lists that contain jit (esbuild's `_m_dec = [jit]`, tsc's `_m_decorators = [jit]`). */
  readonly #decoratorLists = new Set<Binding>();
  /** Calls that apply a decorator list to a method: (list, method name, class). */
  readonly #applications: { list: Binding; name: string; cls: Class }[] = [];

  constructor(readonly info: ScopeInfo, readonly kiln: KilnImports, readonly positions: Positions) {}

  #binding(e: Node): Binding | null | undefined {
    return e.type === 'Identifier' ? this.info.references.get(e as Identifier) : undefined;
  }

  #isNamespace(e: Node): boolean {
    if (e.type === 'Identifier') {
      const b = this.#binding(e);
      return b != null && this.kiln.namespaces.has(b);
    }
    // tsc lowers `@k.jit` to `(_a = k).jit.bind(_a)`.
    return e.type === 'AssignmentExpression' && (e as AssignmentExpression).operator === '=' && this.#isNamespace((e as AssignmentExpression).right);
  }

  /** `jit` (imported from kiln) or `k.jit` (k a namespace import of kiln). */
  isJitRef(e: Node): boolean {
    if (e.type === 'Identifier') {
      const b = this.#binding(e);
      return b != null && this.kiln.jit.has(b);
    }
    if (e.type === 'MemberExpression') {
      const m = e as import('acorn').MemberExpression;
      return propertyName(m.property, m.computed) === 'jit' && this.#isNamespace(m.object);
    }
    return false;
  }

  /** A decorator that is jit: `jit`, `jit(options)`, `k.jit`, or tsc's `….jit.bind(…)`. */
  isJitDecorator(e: Node): boolean {
    if (this.isJitRef(e)) return true;
    if (e.type !== 'CallExpression') return false;
    const callee = (e as CallExpression).callee;
    if (this.isJitRef(callee)) return true;
    if (callee.type === 'MemberExpression' && propertyName(callee.property, callee.computed) === 'bind') return this.isJitRef(callee.object);
    return false;
  }

  #warn(node: Node, message: string): void {
    const p = this.positions.original(node.start);
    this.found.warnings.push({ message, line: p.line, column: p.column });
  }

  /** The function a jit call compiles, when it is written in this module. */
  #functionOf(arg: Node | undefined): FunctionNode | undefined {
    if (!arg) return undefined;
    if (isFunctionNode(arg)) return arg;
    const b = this.#binding(arg);
    if (!b || b.reassigned || !b.init) return undefined;
    if (b.kind === 'function' && isFunctionNode(b.init)) return b.init;
    if ((b.kind === 'const' || b.kind === 'let' || b.kind === 'var') && (b.init.type === 'FunctionExpression' || b.init.type === 'ArrowFunctionExpression')) return b.init as FunctionNode;
    return undefined;
  }

  #target(fn: FunctionNode): void {
    // A traced call of a generator function only creates the generator: leave it as written.
    if (!fn.generator) this.found.targets.add(fn);
  }

  #decoratorList(list: Node, into: Node): void {
    if (into.type !== 'Identifier' || list.type !== 'ArrayExpression') return;
    if (!(list as ArrayExpression).elements.some((e) => e !== null && e.type !== 'SpreadElement' && this.isJitDecorator(e))) return;
    const b = this.#binding(into);
    if (b) this.#decoratorLists.add(b);
  }

  /** Walks the program: `scope` is where `node` sits, `cls` the nearest enclosing class. */
  visit(node: Node, scope: Scope, cls: Class | undefined, parent?: Node): void {
    switch (node.type) {
      case 'CallExpression': {
        const call = node as CallExpression;
        if (this.isJitRef(call.callee)) {
          const arg = call.arguments[0];
          const fn = arg && arg.type !== 'SpreadElement' ? this.#functionOf(arg) : undefined;
          if (fn) {
            this.#target(fn);
            if (!fn.generator) this.found.calls.push({ call, scope, fn });
          } else if (arg && arg.type !== 'ObjectExpression' && parent?.type !== 'Decorator' && parent?.type !== 'ArrayExpression') {
            // (`jit({...})` is the decorator factory; decorators arrive as written or in lowered lists.)
            this.#warn(call, 'jit: the function passed here is not written in this module as a function or arrow (or its name is reassigned), so its conditions are not rewritten; jit still traces it');
          }
        }
        this.#application(call, cls);
        break;
      }
      case 'MethodDefinition': {
        const m = node as MethodDefinition & { decorators?: Decorator[] };
        if (m.kind === 'method' && (m.decorators ?? []).some((d) => this.isJitDecorator(d.expression))) this.#target(m.value);
        break;
      }
      case 'AssignmentExpression': {
        const a = node as AssignmentExpression;
        if (a.operator === '=') this.#decoratorList(a.right, a.left);
        break;
      }
      case 'VariableDeclarator': {
        const d = node as VariableDeclarator;
        if (d.init) this.#decoratorList(d.init, d.id);
        break;
      }
      default: break;
    }
    const inner = this.info.scopeOf.get(node) ?? scope;
    const innerClass = node.type === 'ClassDeclaration' || node.type === 'ClassExpression' ? (node as Class) : cls;
    forEachChild(node, (child) => this.visit(child, inner, innerClass, node));
  }

  /** Records `helper(…, list, "name", Class, …)`-shaped calls that may apply a lowered decorator list. */
  #application(call: CallExpression, cls: Class | undefined): void {
    let name: string | undefined, target = cls;
    const lists: Binding[] = [];
    for (const a of call.arguments) {
      if (a.type === 'Identifier') {
        const b = this.#binding(a);
        if (!b) continue;
        // esbuild passes the class (`__decorateElement(init, 1, "step", _step_dec, Model)`);
        // tsc decorates from a static block inside it.
        if (b.kind === 'class' && b.init) target = b.init as Class;
        else if (b.init?.type === 'ClassExpression') target = b.init as Class;
        else lists.push(b);
      } else if (stringValue(a) !== undefined) {
        name ??= stringValue(a);
      } else if (a.type === 'ObjectExpression') {
        // tsc: `{ kind: "method", name: "step", … }`
        for (const p of (a as ObjectExpression).properties) {
          if (p.type === 'Property' && propertyName(p.key, p.computed) === 'name') name ??= stringValue(p.value);
        }
      }
    }
    // Candidates only: whether a list holds jit is known once the whole program was seen.
    if (name !== undefined && target !== undefined) for (const list of lists) this.#applications.push({ list, name, cls: target });
  }

  /** Resolves lowered decorator applications once every decorator list is known. */
  finish(): Found {
    for (const { list, name, cls } of this.#applications) {
      if (!this.#decoratorLists.has(list)) continue;
      for (const el of cls.body.body) {
        if (el.type === 'MethodDefinition' && el.kind === 'method' && propertyName(el.key, el.computed) === name) this.#target(el.value);
      }
    }
    return this.found;
  }
}
