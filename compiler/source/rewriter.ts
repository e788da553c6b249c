/**
 * The rewrite of one program's target functions: conditions routed through the hooks with
 * their sites, comparisons made hook calls, liftable loops and selects made closures.
 */
import MagicString from 'magic-string';
import type { BinaryExpression, Identifier, Node } from 'acorn';
import { forEachChild, isFunctionNode, type Binding, type ScopeInfo } from './scope.js';
import { hooksSpecifier } from './kiln-imports.js';
import { loopShape, type LiftableLoop, type LoopShape } from './loops.js';
import { selectVariables } from './selects.js';
import type { Positions } from './positions.js';

/** The comparison operators routed through `cmp`, and the op name the hook receives. */
export const COMPARISONS: Readonly<Record<string, string>> = {
  '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge', '==': 'eq', '!=': 'ne', '===': 'seq', '!==': 'sne',
};

/** Constructs whose conditions the transform routes, as named in notes and warnings. */
export type Construct = 'if' | 'while' | 'do-while' | 'for' | '?:' | '!' | '&&' | '||';

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
export class Rewriter {
  readonly s: MagicString;
  readonly sites: string[] = [];
  readonly #siteIndex = new Map<string, number>();
  readonly routed: RoutedCondition[] = [];
  hooksUsed = false;
  /** Labels written on loops. */
  readonly #labels = new Map<Node, string>();
  /** For the tests of loops left native: why they could not be lifted (index into NOT_LIFTABLE). */
  readonly #nativeWhy = new Map<Node, number>();
  /** Whether the innermost function around the walk is async: its lifted loops are awaited. */
  #inAsync = false;

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
    // In an async function the loop is awaited: on WebGPU its condition may be read back
    // while it runs (src/jit/loop-async.ts).
    const [wait, async] = this.#inAsync ? ['await ', 'Async'] : ['', ''];
    switch (loop.type) {
      case 'WhileStatement':
        put(loop.start, test.start, `${wait}${h}.lift${async}(${site}, () => (`);
        put(test.end, body.start, `), () => ${open}`);
        this.s.prependRight(loop.end, `${close}, ${state});`);
        break;
      case 'DoWhileStatement':
        put(loop.start, body.start, `${wait}${h}.liftDo${async}(${site}, () => ${open}`);
        put(body.end, test.start, `${close}, () => (`);
        put(test.end, loop.end, `), ${state});`);
        break;
      case 'ForStatement': {
        const { init, update } = loop;
        const head = `${wait}${h}.liftFor${async}(${site}, () => (`;
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
    // The test, update and body become synchronous closures: loops inside them are not awaited.
    const outer = this.#inAsync;
    this.#inAsync = false;
    this.#test(test, 'lift', construct);
    if (loop.type === 'ForStatement' && loop.update) this.walk(loop.update, true);
    this.walk(body, true);
    this.#inAsync = outer;
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
    if (!isFunctionNode(node)) return this.#visit(node, active);
    if (node.generator) active = false;
    else if (this.targets.has(node)) active = true;
    const outer = this.#inAsync;
    this.#inAsync = node.async;
    try {
      this.#visit(node, active);
    } finally {
      this.#inAsync = outer;
    }
  }

  #visit(node: Node, active: boolean): void {
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
