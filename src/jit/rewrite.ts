/**
 * The control-flow source transform at run time, for functions that reach jit without a
 * build-time rewrite (kiln/vite, kiln/register). A function's text can be compiled again
 * with `new Function` only when nothing in it depends on where it was written: acorn must
 * show that every name it reads is its own or a standard global, and that it takes no
 * `this`, `arguments` or `super` from outside. Otherwise the function is left as it is (jit
 * still traces it) and one warning names the conditions that stay plain JavaScript.
 *
 * The compiled text is the user's own function, rewritten, plus fixed vocabulary; the site
 * labels are passed in as values, never as code.
 */
import { transformFunction, type FunctionTransform } from '../../compiler/source/function-transform.js';
import { ValueError } from '../../runtime/errors.js';
import { __kiln } from '../hooks.js';
import { installRewriter } from './rewriter.js';
import { scanFunction } from './condition-scan.js';
import { fmtCondition } from './source-check.js';

// Standard ECMAScript globals (and console): names a closure is very unlikely to shadow.
const GLOBALS = new Set([
  'globalThis', 'Infinity', 'NaN', 'undefined', 'isFinite', 'isNaN', 'parseFloat', 'parseInt',
  'decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'Array', 'ArrayBuffer', 'BigInt',
  'BigInt64Array', 'BigUint64Array', 'Boolean', 'DataView', 'Date', 'Error', 'EvalError', 'Float32Array',
  'Float64Array', 'Int8Array', 'Int16Array', 'Int32Array', 'Map', 'Math', 'Number', 'Object', 'Promise',
  'Proxy', 'RangeError', 'ReferenceError', 'Reflect', 'RegExp', 'Set', 'SharedArrayBuffer', 'String', 'Symbol',
  'SyntaxError', 'TypeError', 'URIError', 'Uint8Array', 'Uint8ClampedArray', 'Uint16Array', 'Uint32Array',
  'WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry', 'JSON', 'Atomics', 'AggregateError', 'console',
]);

const warned = new WeakSet<object>();

function sourceOf(fn: Function): string | undefined {
  const text = Function.prototype.toString.call(fn);
  // Built-in and bound functions have no source to rewrite.
  return /\{\s*\[native code\]\s*\}\s*$/.test(text) ? undefined : text;
}

/** How guard sites of a run-time rewrite name the function: `<name>`, lines counted from its first line. */
function labelOf(fn: Function): string {
  return `<${fn.name || 'anonymous'}>`;
}

function transformed(fn: Function): FunctionTransform | undefined {
  const text = sourceOf(fn);
  return text === undefined ? undefined : transformFunction(text, labelOf(fn));
}

/** The source of `fn` with its conditions rewritten as the source transform rewrites jit'd functions. */
export function toCode(fn: (...args: any[]) => any): string {
  if (typeof fn !== 'function') throw new ValueError(`jit.toCode: expects a function (got ${fn === null ? 'null' : typeof fn})`);
  const t = transformed(fn);
  if (t === undefined) throw new ValueError(`jit.toCode: the source of ${fn.name || 'this function'} is not available or does not parse as a function`);
  return t.code;
}

/** Why a function cannot be compiled again from its text, or undefined when it can. */
function obstacle(t: FunctionTransform): string | undefined {
  const closure = t.free.filter((n) => n !== 'arguments' && !GLOBALS.has(n));
  if (closure.length > 0) return `it reads ${closure.join(', ')} from its surroundings, which a copy compiled from its text would not see`;
  if (t.outer.length > 0) return `it takes ${t.outer.join(', ')} from its surroundings`;
  return undefined;
}

/**
 * What plain JavaScript makes of `fn`'s conditions: a tensor method call is always true; a
 * comparison reads one-element tensors (each read a guard), right but never lifted; any
 * other condition is always true when it holds a tensor.
 */
function plainMeaning(fn: Function): string {
  const conditions = scanFunction(fn)?.conditions ?? [];
  const list = (kind: string) => conditions.filter((c) => c.kind === kind).map(fmtCondition).join(', ');
  const parts: string[] = [];
  if (list('tensor-call')) parts.push(`${list('tensor-call')}: always true (a tensor object is truthy)`);
  if (list('other')) parts.push(`${list('other')}: always true if it holds a tensor`);
  if (list('comparison')) {
    parts.push(`${list('comparison')}: right on one-element tensors (JavaScript reads them, each read a guard), `
      + 'but a loop on it is not lifted');
  }
  return parts.join('; ');
}

function warnOnce(fn: Function, why: string, where: string): void {
  if (warned.has(fn)) return;
  warned.add(fn);
  const meaning = plainMeaning(fn);
  console.warn(`[kiln] jit(${fn.name || 'anonymous'}) at ${where}: its conditions run as plain JavaScript: ${why}.`
    + `${meaning ? ` ${meaning}.` : ''} Rewrite it at build time with kiln/vite or node --import kiln/register.`);
}

/**
 * `fn` with its conditions rewritten, compiled from its own text, when that is sound (see
 * the file comment); otherwise `fn` itself, after one warning. `where`: where jit was called.
 */
export function rewriteForJit<F extends (...args: any[]) => any>(fn: F, where: string): F {
  const t = transformed(fn);
  if (t === undefined) {
    if (sourceOf(fn) !== undefined) warnOnce(fn, 'its source does not parse as a function', where);
    return fn;
  }
  // Rewritten at build time already, or nothing to rewrite.
  if (t.rewritten || t.routed.length === 0) return fn;
  const why = obstacle(t);
  if (why !== undefined) {
    warnOnce(fn, why, where);
    return fn;
  }
  let rewritten: F;
  try {
    const body = t.method ? `"use strict"; return Object.values({ ${t.code} })[0];` : `"use strict"; return (${t.code});`;
    rewritten = new Function(t.hook, t.sitesName, body)(__kiln, Object.freeze(t.sites.slice())) as F;
  } catch (error) {
    warnOnce(fn, `compiling its rewritten text failed (${(error as Error).message})`, where);
    return fn;
  }
  Object.defineProperty(rewritten, 'name', { value: fn.name, configurable: true });
  return rewritten;
}

// Importing this module is what makes the run-time rewrite available (see ./rewriter.ts).
installRewriter({ rewriteForJit, toCode, scanFunction });
