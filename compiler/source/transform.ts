/**
 * The control-flow source transform. JavaScript cannot overload `if`: every object is truthy,
 * so `if (x.gt(0))` is always taken. In the functions handed to `jit` (and methods decorated
 * `@jit`), this rewrites the tests of `if`, `while`, `do…while`, `for` and `?:`, and the
 * operands of `!` (and of `&&`/`||` inside those tests), into calls of a small runtime hook
 * (src/hooks.ts) that turns a one-element tensor into a boolean and records the guard with
 * the condition's original file:line:column. Comparisons in those tests become a hook call
 * too, which compares tensors as tensors, so the guard reads the branch taken (and loop
 * lifting sees a tensor condition) instead of the two operands' values. Loops whose shape
 * allows it (compiler/source/loops.ts) become closures the tracer may lift into one loop
 * node, and `if`s whose branches only assign computed values (compiler/source/selects.ts)
 * become closures the tracer may turn into a select.
 *
 * Shaped like a Rollup plugin transform: a cheap prefilter, a parse (a syntax error is a
 * warning and the code is left as it is), scope analysis, one walk that edits by offset with
 * magic-string, and `{ code, map }` out, or null when nothing changed. Generated code is
 * built only from the user's own source text, validated numbers, JSON string literals and
 * the fixed vocabulary in this file.
 *
 * Which functions are rewritten: a function (or arrow) passed to `jit(...)`, directly or
 * through a name bound in this module to a function that is never reassigned; methods
 * decorated `@jit`/`@jit(...)`/`@k.jit` (as written, or as lowered by esbuild or tsc); and
 * everything nested in them — arrows, callbacks, nested function declarations and class
 * methods — because whatever runs during a traced call is part of the trace, and outside a
 * trace the hooks give the same answers eager code would. Generator functions, and
 * everything inside them, are left as written: a traced call only creates the generator.
 */
import MagicString, { type SourceMap } from 'magic-string';
import type {
  ArrayExpression, AssignmentExpression, BinaryExpression, CallExpression, Class, Expression, Function as FunctionNode, Identifier, ImportDeclaration,
  MethodDefinition, Node, ObjectExpression, Program, Property, SpreadElement, VariableDeclarator,
} from 'acorn';
import { errorPosition, parseModule, type Decorator } from './parse.js';
import { analyzeScopes, forEachChild, isFunctionNode, type Binding, type Scope, type ScopeInfo } from './scope.js';
import { decodeMappings, originalPosition, readMap, type RawSourceMap, type Segment } from './mappings.js';
import { loopShape, type LiftableLoop, type LoopShape } from './loops.js';
import { selectVariables } from './selects.js';

/** Options of transformSource. */
export interface TransformOptions {
  /** The module's file name: guard sites name it, the map's `sources` too. */
  filename: string;
  /** The name guard sites and warnings give the module instead (kiln/vite: its path relative to the project root). */
  siteName?: string;
  /** Produce a source map (default true). */
  sourceMap?: boolean;
  /**
   * A map from `code` to the original source, when `code` is the output of an earlier
   * transform (TypeScript stripping): guard sites then name the original line and column.
   */
  inputMap?: RawSourceMap | string | null;
  /** The specifier the hooks are imported from (default: next to the kiln import, see hooksSpecifier). */
  hooks?: string;
}

/** Something the transform could not do, with the position it concerns (1-based). */
export interface SourceWarning {
  message: string;
  line?: number;
  column?: number;
}

/** The rewritten module. */
export interface TransformResult {
  code: string;
  map: SourceMap | null;
  warnings: SourceWarning[];
}

/** The name the hooks object is exported under by the hooks module. */
export const HOOKS_EXPORT = '__kiln';

/** The comparison operators routed through `cmp`, and the op name the hook receives. */
export const COMPARISONS: Readonly<Record<string, string>> = {
  '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge', '==': 'eq', '!=': 'ne', '===': 'seq', '!==': 'sne',
};

/** Constructs whose conditions the transform routes, as named in notes and warnings. */
export type Construct = 'if' | 'while' | 'do-while' | 'for' | '?:' | '!' | '&&' | '||';

// ---------------------------------------------------------------------------------------
// Which imports are kiln.

const ownRoot = ((): string | undefined => {
  // compiler/source/transform.ts (or dist/compiler/source/transform.js): the package root is
  // two folders up, and kiln's entry points sit under src/ there.
  const url = new URL('../../', import.meta.url);
  return url.protocol === 'file:' ? decodeURIComponent(url.pathname) : undefined;
})();

const ENTRY = /^src\/(index|node|jit\/jit)\.(js|ts|mjs|mts)$/;

/** How a module specifier reaches kiln, if it does: the hooks module to import next to it. */
export function hooksSpecifier(specifier: string, filename: string): string | undefined {
  if (specifier === 'kiln') return 'kiln/hooks';
  if (ownRoot === undefined || !/^(\.{1,2}\/|\/|file:)/.test(specifier) || !filename.startsWith('/')) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(new URL(specifier, 'file://' + filename).pathname);
  } catch {
    return undefined;
  }
  if (!path.startsWith(ownRoot)) return undefined;
  const m = ENTRY.exec(path.slice(ownRoot.length));
  if (!m) return undefined;
  const hooks = `${ownRoot}src/hooks.${m[2]}`;
  if (specifier.startsWith('/') || specifier.startsWith('file:')) return specifier.startsWith('file:') ? 'file://' + hooks : hooks;
  return relativeSpecifier(filename, hooks);
}

/** A `./`- or `../`-relative specifier from the file `from` to the file `to` (absolute POSIX paths). */
function relativeSpecifier(from: string, to: string): string {
  const a = from.split('/').slice(0, -1), b = to.split('/');
  let i = 0;
  while (i < a.length && i < b.length - 1 && a[i] === b[i]) i++;
  const up = a.length - i;
  return (up === 0 ? './' : '../'.repeat(up)) + b.slice(i).join('/');
}

// ---------------------------------------------------------------------------------------
// Positions.

function lineStarts(code: string): number[] {
  const starts = [0];
  for (let i = 0; i < code.length; i++) {
    const c = code.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13) {
      if (code.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    }
  }
  return starts;
}

/** Maps offsets of `code` to 1-based line and column, through an input map when there is one. */
class Positions {
  readonly #starts: number[];
  readonly #input: Segment[][] | undefined;

  constructor(code: string, inputMap: RawSourceMap | undefined, readonly firstColumnOffset = 0) {
    this.#starts = lineStarts(code);
    this.#input = inputMap ? decodeMappings(inputMap.mappings) : undefined;
  }

  /** 0-based line and column of `offset` in the code itself. */
  generated(offset: number): { line: number; column: number } {
    let lo = 0, hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, column: offset - this.#starts[lo]! };
  }

  /** 1-based line and column of `offset` in the original source. */
  original(offset: number): { line: number; column: number } {
    const g = this.generated(offset);
    const o = this.#input ? originalPosition(this.#input, g.line, g.column) : undefined;
    if (o) return { line: o.line + 1, column: o.column + 1 };
    // Text wrapped for parsing (run-time rewrites) shifts the first line's columns.
    const column = g.line === 0 ? g.column - this.firstColumnOffset : g.column;
    return { line: g.line + 1, column: column + 1 };
  }
}

// ---------------------------------------------------------------------------------------
// Finding jit'd functions.

interface KilnImports {
  /** Local bindings of `jit` imported from kiln. */
  jit: Set<Binding>;
  /** Namespace imports of kiln. */
  namespaces: Set<Binding>;
  /** Where the hooks come from: next to the first kiln import. */
  hooks: string | undefined;
  /** The module was already rewritten (it imports the hooks). */
  rewritten: boolean;
}

function kilnImports(program: Program, info: ScopeInfo, filename: string): KilnImports {
  const out: KilnImports = { jit: new Set(), namespaces: new Set(), hooks: undefined, rewritten: false };
  for (const st of program.body) {
    if (st.type !== 'ImportDeclaration') continue;
    const imp = st as ImportDeclaration;
    for (const s of imp.specifiers) {
      if (s.type === 'ImportSpecifier' && (s.imported.type === 'Identifier' ? s.imported.name : s.imported.value) === HOOKS_EXPORT) out.rewritten = true;
    }
    const hooks = hooksSpecifier(String(imp.source.value), filename);
    if (hooks === undefined) continue;
    for (const s of imp.specifiers) {
      const b = info.module.bindings.get(s.local.name);
      if (!b || b.kind !== 'import') continue;
      if (b.imported === 'jit') out.jit.add(b);
      else if (b.imported === '*') out.namespaces.add(b);
      else continue;
      out.hooks ??= hooks;
    }
  }
  return out;
}

/** The value of a string literal node. */
function stringValue(node: Node): string | undefined {
  const v = node.type === 'Literal' ? (node as unknown as { value: unknown }).value : undefined;
  return typeof v === 'string' ? v : undefined;
}

function propertyName(key: Node, computed: boolean): string | undefined {
  if (key.type === 'Identifier' && !computed) return (key as Identifier).name;
  return stringValue(key);
}

interface JitCall {
  call: CallExpression;
  scope: Scope;
  fn: FunctionNode;
}

/** What the collecting pass found: functions to rewrite and jit calls to give captures. */
interface Found {
  targets: Set<FunctionNode>;
  calls: JitCall[];
  warnings: SourceWarning[];
}

class Finder {
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

// ---------------------------------------------------------------------------------------
// Captures.

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

// ---------------------------------------------------------------------------------------
// The rewrite.

/** A condition the rewrite routed: its site and the construct it belongs to. */
export interface RoutedCondition {
  site: string;
  construct: Construct;
}

function isConstant(e: Node): boolean {
  switch (e.type) {
    case 'Literal': case 'ArrowFunctionExpression': case 'FunctionExpression': case 'ClassExpression': case 'ObjectExpression': case 'ArrayExpression':
      return true;
    case 'TemplateLiteral':
      return (e as import('acorn').TemplateLiteral).expressions.length === 0;
    default:
      return false;
  }
}

/** An operand that makes a comparison plain JavaScript: no tensor comparison can involve it. */
function isPlainOperand(e: Node, info: ScopeInfo): boolean {
  switch (e.type) {
    case 'Literal': {
      const v = (e as unknown as { value: unknown }).value;
      return typeof v !== 'number' && typeof v !== 'boolean';
    }
    case 'TemplateLiteral':
      return true;
    case 'UnaryExpression':
      return (e as import('acorn').UnaryExpression).operator === 'typeof' || (e as import('acorn').UnaryExpression).operator === 'void';
    case 'Identifier':
      return (e as Identifier).name === 'undefined' && info.references.get(e as Identifier) === null;
    default:
      return false;
  }
}

function isComparison(e: Node): e is BinaryExpression {
  return e.type === 'BinaryExpression' && (e as BinaryExpression).operator in COMPARISONS;
}

/** The offset of `op` after the left operand of a binary expression (past spaces, comments, parentheses). */
function operatorOffset(code: string, from: number, op: string): number {
  let i = from;
  while (i < code.length) {
    const c = code[i]!;
    if (c === ')' || /\s/.test(c)) i++;
    else if (code.startsWith('/*', i)) i = code.indexOf('*/', i + 2) + 2;
    else if (code.startsWith('//', i)) {
      const nl = code.slice(i).search(/[\n\r\u2028\u2029]/);
      i = nl < 0 ? code.length : i + nl;
    } else break;
  }
  if (!code.startsWith(op, i)) throw new Error(`internal: source transform expected ${op} at offset ${i}`);
  return i;
}

/** Rewrites conditions in the target functions of one program. */
class Rewriter {
  readonly s: MagicString;
  readonly sites: string[] = [];
  readonly #siteIndex = new Map<string, number>();
  readonly routed: RoutedCondition[] = [];
  hooksUsed = false;
  /** Labels written on loops. */
  readonly #labels = new Map<Node, string>();
  /** For the tests of loops left native: why they could not be lifted (index into NOT_LIFTABLE). */
  readonly #nativeWhy = new Map<Node, number>();

  constructor(
    readonly code: string,
    readonly info: ScopeInfo,
    readonly targets: ReadonlySet<Node>,
    readonly hook: string,
    readonly sitesName: string,
    readonly label: string,
    readonly positions: Positions,
  ) {
    this.s = new MagicString(code);
  }

  #site(node: Node, construct: Construct): string {
    const p = this.positions.original(node.start);
    const site = `${this.label}:${p.line}:${p.column}`;
    let i = this.#siteIndex.get(site);
    if (i === undefined) {
      i = this.sites.length;
      this.sites.push(site);
      this.#siteIndex.set(site, i);
      this.routed.push({ site, construct });
    }
    return `${this.sitesName}[${i}]`;
  }

  /** `e` → `hook.fn(e, site)`. Outer wraps are made before inner ones, so inserts nest. */
  #wrap(e: Node, fn: 'cond' | 'loop', construct: Construct): void {
    this.hooksUsed = true;
    const why = fn === 'loop' ? this.#nativeWhy.get(e) : undefined;
    this.s.appendLeft(e.start, `${this.hook}.${fn}(`);
    this.s.prependRight(e.end, `, ${this.#site(e, construct)}${why === undefined ? '' : `, ${why}`})`);
  }

  /** `a < b` → `hook.cmp(a, b, "lt", site)`. */
  #compare(e: BinaryExpression, construct: Construct): void {
    this.hooksUsed = true;
    const op = operatorOffset(this.code, e.left.end, e.operator);
    let from = op;
    while (from > e.left.end && (this.code[from - 1] === ' ' || this.code[from - 1] === '\t')) from--;
    this.s.appendLeft(e.start, `${this.hook}.cmp(`);
    this.s.overwrite(from, op + e.operator.length, ',', { contentOnly: true });
    this.s.prependRight(e.end, `, ${JSON.stringify(COMPARISONS[e.operator])}, ${this.#site(e, construct)})`);
    this.walk(e.left, true);
    this.walk(e.right, true);
  }

  /**
   * Routes `e`, whose value is only used for its truth, through the hooks. `fn` 'lift': the
   * test of a lifted loop, whose hook converts the value itself, so it stays unwrapped.
   */
  #test(e: Node, fn: 'cond' | 'loop' | 'lift', construct: Construct): void {
    if (isConstant(e)) return this.walk(e, true);
    const logical = e.type === 'LogicalExpression' && (e as import('acorn').LogicalExpression).operator !== '??';
    const not = e.type === 'UnaryExpression' && (e as import('acorn').UnaryExpression).operator === '!';
    if (logical || not || e.type === 'SequenceExpression') {
      // The whole test is a boolean already; a loop still reports every evaluation of its test.
      if (fn === 'loop') this.#wrap(e, 'loop', construct);
      if (logical) {
        const l = e as import('acorn').LogicalExpression;
        this.#test(l.left, 'cond', l.operator as Construct);
        this.#test(l.right, 'cond', l.operator as Construct);
      } else if (not) {
        this.#test((e as import('acorn').UnaryExpression).argument, 'cond', '!');
      } else {
        const list = (e as import('acorn').SequenceExpression).expressions;
        list.slice(0, -1).forEach((x) => this.walk(x, true));
        this.#test(list[list.length - 1]!, 'cond', construct);
      }
      return;
    }
    const comparison = isComparison(e);
    const plain = comparison && (isPlainOperand(e.left, this.info) || isPlainOperand(e.right, this.info));
    const boolean = plain || (e.type === 'BinaryExpression' && ((e as BinaryExpression).operator === 'instanceof' || (e as BinaryExpression).operator === 'in'));
    // A JS boolean needs no conversion; loops still report each evaluation.
    if (fn !== 'lift' && (!boolean || fn === 'loop')) this.#wrap(e, fn, construct);
    if (comparison && !plain) this.#compare(e, construct);
    else this.walk(e, true);
  }

  /**
   * Turns `loop` into a call of the hooks' lift (see src/jit/loop-hook.ts) when its shape
   * allows; otherwise notes why for its test's `loop` hook and returns false. Every insert
   * around the body is made before the walk of the test and body, so theirs nest inside.
   */
  #lift(loop: LiftableLoop): boolean {
    const test = loop.test;
    if (test === null || test === undefined || isConstant(test)) return false;
    const shape = loopShape(loop, this.#labels.get(loop), this.info);
    if ('why' in shape) {
      this.#nativeWhy.set(test, shape.why);
      return false;
    }
    this.hooksUsed = true;
    const h = this.hook;
    const construct: Construct = loop.type === 'WhileStatement' ? 'while' : loop.type === 'DoWhileStatement' ? 'do-while' : 'for';
    const site = this.#site(test, construct);
    const body = loop.body;
    const block = body.type === 'BlockStatement';
    const open = block ? '' : '{ ', close = block ? '' : ' }';
    const carried = (shape as LoopShape).carried.join(', ');
    // The setter lets a trace that confirmed the loop's iteration run the rest compiled.
    const values = freeName(this.info.names, `${h}_values`);
    const state = `() => [${carried}], (${values}) => { [${carried}] = ${values}; }`;
    // Only the text between the parts is overwritten; contentOnly keeps the inserts that
    // the rewrite of each part puts at its edges.
    const put = (from: number, to: number, text: string) => this.s.overwrite(from, to, text, { contentOnly: true });
    switch (loop.type) {
      case 'WhileStatement':
        put(loop.start, test.start, `${h}.lift(${site}, () => (`);
        put(test.end, body.start, `), () => ${open}`);
        this.s.prependRight(loop.end, `${close}, ${state});`);
        break;
      case 'DoWhileStatement':
        put(loop.start, body.start, `${h}.liftDo(${site}, () => ${open}`);
        put(body.end, test.start, `${close}, () => (`);
        put(test.end, loop.end, `), ${state});`);
        break;
      case 'ForStatement': {
        const { init, update } = loop;
        const head = `${h}.liftFor(${site}, () => (`;
        if (init) {
          put(loop.start, init.start, '{ ');
          put(init.end, test.start, `; ${head}`);
        } else {
          put(loop.start, test.start, `{ ${head}`);
        }
        if (update) {
          put(test.end, update.start, '), () => { ');
          put(update.end, body.start, ` }, () => ${open}`);
        } else {
          put(test.end, body.start, `), undefined, () => ${open}`);
        }
        this.s.prependRight(loop.end, `${close}, ${state}); }`);
        break;
      }
    }
    for (const j of shape.jumps) put(j.start, j.end, j.type === 'BreakStatement' ? 'return 1;' : 'return;');
    if (loop.type === 'ForStatement' && loop.init) this.walk(loop.init, true);
    this.#test(test, 'lift', construct);
    if (loop.type === 'ForStatement' && loop.update) this.walk(loop.update, true);
    this.walk(body, true);
    return true;
  }

  /**
   * Turns an `if` whose branches only assign computed values to variables into a call of
   * the hooks' select (see src/jit/select-hook.ts): under a trace, a tensor condition then
   * picks values with `where` instead of becoming a guard.
   */
  #select(st: import('acorn').IfStatement): boolean {
    if (isConstant(st.test)) return false;
    const fromKiln = (b: Binding) => b.source !== undefined && hooksSpecifier(b.source, this.label) !== undefined;
    const vars = selectVariables(st, this.info, fromKiln);
    if (vars === undefined) return false;
    this.hooksUsed = true;
    const site = this.#site(st.test, 'if');
    const put = (from: number, to: number, text: string) => this.s.overwrite(from, to, text, { contentOnly: true });
    const braces = (b: Node) => (b.type === 'BlockStatement' ? ['', ''] : ['{ ', ' }']);
    const [openThen, closeThen] = braces(st.consequent);
    const values = freeName(this.info.names, `${this.hook}_values`);
    const tail = `() => [${vars.join(', ')}], (${values}) => { [${vars.join(', ')}] = ${values}; });`;
    put(st.start, st.test.start, `${this.hook}.select(${site}, () => (`);
    put(st.test.end, st.consequent.start, `), () => ${openThen}`);
    if (st.alternate) {
      const [openElse, closeElse] = braces(st.alternate);
      put(st.consequent.end, st.alternate.start, `${closeThen}, () => ${openElse}`);
      this.s.prependRight(st.end, `${closeElse}, ${tail}`);
    } else {
      this.s.prependRight(st.end, `${closeThen}, undefined, ${tail}`);
    }
    this.#test(st.test, 'lift', 'if');
    this.walk(st.consequent, true);
    if (st.alternate) this.walk(st.alternate, true);
    return true;
  }

  /** Walks `node`; `active`: inside a function being rewritten. */
  walk(node: Node, active: boolean): void {
    if (isFunctionNode(node)) {
      if (node.generator) active = false;
      else if (this.targets.has(node)) active = true;
    }
    if (!active) return forEachChild(node, (c) => this.walk(c, false));
    switch (node.type) {
      case 'IfStatement': {
        const n = node as import('acorn').IfStatement;
        if (this.#select(n)) return;
        this.#test(n.test, 'cond', 'if');
        this.walk(n.consequent, true);
        if (n.alternate) this.walk(n.alternate, true);
        return;
      }
      case 'ConditionalExpression': {
        const n = node as import('acorn').ConditionalExpression;
        this.#test(n.test, 'cond', '?:');
        this.walk(n.consequent, true);
        this.walk(n.alternate, true);
        return;
      }
      case 'LabeledStatement': {
        const n = node as import('acorn').LabeledStatement;
        this.#labels.set(n.body, n.label.name);
        break;
      }
      case 'WhileStatement': {
        const n = node as import('acorn').WhileStatement;
        if (this.#lift(n)) return;
        this.#test(n.test, 'loop', 'while');
        this.walk(n.body, true);
        return;
      }
      case 'DoWhileStatement': {
        const n = node as import('acorn').DoWhileStatement;
        if (this.#lift(n)) return;
        this.walk(n.body, true);
        this.#test(n.test, 'loop', 'do-while');
        return;
      }
      case 'ForStatement': {
        const n = node as import('acorn').ForStatement;
        if (this.#lift(n)) return;
        if (n.init) this.walk(n.init, true);
        if (n.test) this.#test(n.test, 'loop', 'for');
        if (n.update) this.walk(n.update, true);
        this.walk(n.body, true);
        return;
      }
      case 'UnaryExpression':
        if ((node as import('acorn').UnaryExpression).operator === '!') return this.#test((node as import('acorn').UnaryExpression).argument, 'cond', '!');
        break;
      default: break;
    }
    forEachChild(node, (c) => this.walk(c, true));
  }
}

/** `base`, or `base` with a number, whichever no name of the module uses. */
function freeName(names: ReadonlySet<string>, base: string): string {
  for (let i = 0; ; i++) if (!names.has(i === 0 ? base : `${base}${i}`)) return i === 0 ? base : `${base}${i}`;
}

/** A hooks name, and its sites table's, bound nowhere in the module. */
function freeHookNames(names: ReadonlySet<string>): { hook: string; sites: string } {
  for (let i = 0; ; i++) {
    const hook = i === 0 ? HOOKS_EXPORT : `${HOOKS_EXPORT}${i}`;
    if (!names.has(hook) && !names.has(`${hook}_sites`)) return { hook, sites: `${hook}_sites` };
  }
}

function addCaptures(s: MagicString, c: JitCall, info: ScopeInfo): void {
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

/** Rewrites the jit'd functions of a module; null when there is nothing to do. */
export function transformSource(code: string, options: TransformOptions): TransformResult | null {
  // Prefilter: a module that never says `jit` has nothing to rewrite.
  if (!code.includes('jit')) return null;
  const filename = options.filename;
  let program: Program;
  try {
    program = parseModule(code);
  } catch (error) {
    const pos = errorPosition(error);
    return {
      code,
      map: null,
      warnings: [{ message: `could not parse ${filename} (${(error as Error).message}); its jit'd functions run as written, without rewritten conditions`, ...pos }],
    };
  }
  const info = analyzeScopes(program);
  const kiln = kilnImports(program, info, filename);
  if (kiln.rewritten || (kiln.jit.size === 0 && kiln.namespaces.size === 0)) return null;
  const inputMap = options.inputMap ? readMap(options.inputMap) : undefined;
  const positions = new Positions(code, inputMap);
  const finder = new Finder(info, kiln, positions);
  finder.visit(program, info.module, undefined);
  const found = finder.finish();
  const site = options.siteName ?? filename;
  const warnings = found.warnings.map((w) => ({ ...w, message: `${w.message} (${site}:${w.line}:${w.column})` }));

  const names = freeHookNames(info.names);
  const rw = new Rewriter(code, info, found.targets, names.hook, names.sites, site, positions);
  rw.walk(program, false);
  for (const c of found.calls) addCaptures(rw.s, c, info);
  if (!rw.s.hasChanged()) return warnings.length > 0 ? { code, map: null, warnings } : null;

  if (rw.hooksUsed) {
    const spec = options.hooks ?? kiln.hooks ?? 'kiln/hooks';
    const binding = names.hook === HOOKS_EXPORT ? HOOKS_EXPORT : `${HOOKS_EXPORT} as ${names.hook}`;
    // One line, no newline: every original line keeps its number, even without a source map.
    const prelude = `import { ${binding} } from ${JSON.stringify(spec)}; const ${names.sites} = [${rw.sites.map((x) => JSON.stringify(x)).join(', ')}]; `;
    // After a hashbang line, which must stay first.
    const afterHashbang = code.startsWith('#!') ? code.indexOf('\n') + 1 : 0;
    if (afterHashbang > 0) rw.s.appendLeft(afterHashbang, prelude);
    else rw.s.prependLeft(0, prelude);
  }
  const map = options.sourceMap === false ? null : rw.s.generateMap({ hires: true, source: filename, includeContent: true });
  return { code: rw.s.toString(), map, warnings };
}

// ---------------------------------------------------------------------------------------
// One function at run time.

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
