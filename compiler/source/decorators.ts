/**
 * Lowering of standard (TC39, 2023) decorators on class methods, getters and setters, for
 * bundles that must run where the syntax does not exist yet (Node 20, today's browsers).
 * Vite's transformer (oxc) lowers only TypeScript's legacy `experimentalDecorators`, whose
 * calling convention (target, key, descriptor) is not the one `@jit` implements.
 *
 *   class Model { @jit step(x) {…} }
 * becomes
 *   class Model { static #kilnDecorated = __kilnDecorate(this, [[0, "step", false, [jit]]]);
 *     #kilnInitialized = __kilnInitialize(this, (c) => #kilnDecorated in c && c.#kilnDecorated); step(x) {…} }
 *
 * The first static element applies the decorators (innermost first, static elements before
 * instance ones) with the context the proposal defines (kind, name, static, private, access,
 * addInitializer, metadata), then runs static initializers; the first instance field runs
 * the instance initializers at the start of construction, as the proposal orders them. The
 * decorator expressions are evaluated there, inside the class body: names resolve as they
 * would outside, only `this` would differ (the class), which no decorator in practice reads.
 *
 * Decorators on fields, private or computed-key members and on classes are left
 * as written, with a warning naming each: the code then needs native decorator support.
 * The helpers are appended to the module as hoisted function declarations built from fixed
 * text; the decorator expressions are moved as the user wrote them.
 */
import type { Node, Program } from 'acorn';
import MagicString, { type SourceMap } from 'magic-string';
import { errorPosition, parseModule, type Decorator } from './parse.js';
import { forEachChild } from './scope.js';
import type { SourceWarning } from './transform.js';

/** The lowered module, or null when it has no decorator to lower. */
export interface LoweredDecorators {
  code: string;
  map: SourceMap;
  warnings: SourceWarning[];
}

const DECORATOR_HINT = /(?:^|[{};]|\bexport)[ \t]*@[\w$(]/m;

/** Element kinds, as the helper numbers them. */
const KINDS = { method: 0, get: 1, set: 2 } as const;

type Decorated = Node & { decorators?: Decorator[] };
type ClassElementNode = Decorated & {
  type: string;
  kind?: string;
  static?: boolean;
  computed?: boolean;
  key?: Node & { type: string; name?: string; value?: unknown };
};
type ClassNode = Decorated & { body: Node & { body: ClassElementNode[] } };

// The helpers, as fixed text. __kilnDecorate applies every decorator of one class and returns
// the instance initializers; __kilnInitialize finds them for an instance (its class or a base).
const HELPERS = `
function __kilnDecorate(C, elements) {
  const key = Symbol.metadata ?? Symbol.for('Symbol.metadata');
  const parent = Object.getPrototypeOf(C)[key];
  const metadata = Object.create(parent ?? null);
  const kinds = ['method', 'getter', 'setter'];
  const statics = [], instances = [];
  for (const [kind, name, isStatic, decorators] of [...elements].sort((a, b) => Number(b[2]) - Number(a[2]))) {
    const target = isStatic ? C : C.prototype;
    const inits = isStatic ? statics : instances;
    for (let i = decorators.length - 1; i >= 0; i--) {
      const descriptor = Object.getOwnPropertyDescriptor(target, name);
      const field = kind === 0 ? 'value' : kind === 1 ? 'get' : 'set';
      let done = false;
      const access = { has: (o) => name in o };
      if (kind === 2) access.set = (o, v) => { o[name] = v; };
      else access.get = (o) => o[name];
      const context = {
        kind: kinds[kind], name, static: isStatic, private: false, access, metadata,
        addInitializer(fn) {
          if (done) throw new TypeError('addInitializer: decoration of ' + String(name) + ' has finished');
          if (typeof fn !== 'function') throw new TypeError('addInitializer: expects a function');
          inits.push(fn);
        },
      };
      const result = decorators[i](descriptor[field], context);
      done = true;
      if (result === undefined) continue;
      if (typeof result !== 'function') {
        throw new TypeError('decorator of ' + String(name) + ' returned ' + typeof result + ', expected a function or undefined');
      }
      Object.defineProperty(target, name, { ...descriptor, [field]: result });
    }
  }
  Object.defineProperty(C, key, { value: metadata, writable: true, enumerable: false, configurable: true });
  for (const fn of statics) fn.call(C);
  return instances;
}
function __kilnInitialize(instance, own) {
  for (let c = instance.constructor; typeof c === 'function'; c = Object.getPrototypeOf(c)) {
    const inits = own(c);
    if (inits) { for (const fn of inits) fn.call(instance); return true; }
  }
  return true;
}
`;

function isClass(node: Node): node is ClassNode {
  return node.type === 'ClassDeclaration' || node.type === 'ClassExpression';
}

/** The name of a non-computed, non-private key, or undefined. */
function keyName(element: ClassElementNode): string | undefined {
  const key = element.key;
  if (element.computed || key === undefined) return undefined;
  if (key.type === 'Identifier') return key.name;
  const literal = key.type === 'Literal' && (typeof key.value === 'string' || typeof key.value === 'number');
  return literal ? String(key.value) : undefined;
}

function position(code: string, offset: number): { line: number; column: number } {
  const before = code.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** Lowers the decorators of `code` (see the file comment); `filename` names warnings. */
export function lowerDecorators(code: string, filename: string): LoweredDecorators | null {
  // Prefilter: a decorator's `@` starts a line or follows `{`, `}`, `;` or `export`; doc
  // comments' ` * @param` do not match, so most modules are never parsed.
  if (!DECORATOR_HINT.test(code)) return null;
  let program: Program;
  try {
    program = parseModule(code);
  } catch (error) {
    const message = `could not parse ${filename} to lower its decorators (${(error as Error).message})`;
    const map = new MagicString(code).generateMap({ source: filename });
    return { code, map, warnings: [{ message, ...errorPosition(error) }] };
  }
  const s = new MagicString(code);
  const warnings: SourceWarning[] = [];
  const warn = (node: Node, what: string) => {
    const { line, column } = position(code, node.start);
    const message = `decorators on ${what} stay as written and need native decorator support (${filename}:${line}:${column})`;
    warnings.push({ message, line, column });
  };
  let lowered = 0;
  const visit = (node: Node): void => {
    if (isClass(node)) lowered += lowerClass(node, code, s, warn);
    forEachChild(node, visit);
  };
  visit(program);
  if (lowered === 0 && warnings.length === 0) return null;
  if (lowered > 0) s.append(HELPERS);
  return { code: s.toString(), map: s.generateMap({ hires: true, source: filename, includeContent: true }), warnings };
}

/** Lowers one class's method decorators; returns how many elements it lowered. */
function lowerClass(node: ClassNode, code: string, s: MagicString, warn: (node: Node, what: string) => void): number {
  if (node.decorators?.length) warn(node, 'a class');
  const entries: string[] = [];
  let instance = false;
  for (const element of node.body.body) {
    const decorators = element.decorators;
    if (!decorators?.length) continue;
    const kind = element.type === 'MethodDefinition' ? element.kind : undefined;
    const name = keyName(element);
    if (kind === 'constructor' || kind === undefined || (kind !== 'method' && kind !== 'get' && kind !== 'set')) {
      warn(element, element.type === 'PropertyDefinition' ? 'a field' : 'this element');
      continue;
    }
    if (name === undefined) {
      warn(element, element.key?.type === 'PrivateIdentifier' ? 'a private member' : 'a computed member');
      continue;
    }
    const expressions = decorators.map((d) => code.slice(d.expression.start, d.expression.end));
    for (const d of decorators) s.remove(d.start, d.end);
    entries.push(`[${KINDS[kind]}, ${JSON.stringify(name)}, ${element.static === true}, [${expressions.join(', ')}]]`);
    if (element.static !== true) instance = true;
  }
  if (entries.length === 0) return 0;
  const suffix = uniqueSuffix(code);
  const store = `#kilnDecorated${suffix}`;
  let prelude = ` static ${store} = __kilnDecorate(this, [${entries.join(', ')}]);`;
  if (instance) prelude += ` #kilnInitialized${suffix} = __kilnInitialize(this, (c) => ${store} in c && c.${store});`;
  s.appendLeft(node.body.start + 1, prelude);
  return entries.length;
}

/** A suffix that keeps the private names apart from any the module already uses. */
function uniqueSuffix(code: string): string {
  let n = 0;
  while (code.includes(`#kilnDecorated${n || ''}`) || code.includes(`#kilnInitialized${n || ''}`)) n++;
  return n === 0 ? '' : String(n);
}
