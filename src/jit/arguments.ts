/**
 * Checks jit makes before it trusts what it was handed: option values at `jit(fn, options)`
 * (so a typo fails there, not as a TypeError deep in a later call), and arguments at each
 * call (a replay reads storage directly, so a disposed tensor must be refused as eager ops
 * refuse it).
 */
import { ValueError, fmtShape, fmtValue } from '../../runtime/errors.js';
import { Tensor } from '../tensor.js';

/** Throws a ValueError naming the first option whose value has the wrong kind. */
export function checkJitOptions(options: unknown): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object') {
    throw new ValueError(`jit: options must be an object (got ${fmtValue(options)})`);
  }
  const o = options as Record<string, unknown>;
  const expect = (key: string, ok: (v: unknown) => boolean, valid: string): void => {
    if (o[key] !== undefined && !ok(o[key])) {
      throw new ValueError(`jit: option ${key} must be ${valid} (got ${fmtValue(o[key])})`);
    }
  };
  const isBool = (v: unknown) => typeof v === 'boolean';
  expect('captures', (v) => typeof v === 'function', 'a function returning the closure values, e.g. () => ({ w })');
  const passes = 'an array of { name: string, run: (graph) => graph } (e.g. [...defaultPasses, myPass])';
  expect('passes', (v) => Array.isArray(v) && v.every(isPass), passes);
  expect('strict', isBool, 'true or false');
  expect('dynamicNumbers', isBool, 'true or false');
  expect('rewrite', isBool, 'true or false');
  expect('liftLoops', isBool, 'true or false');
}

function isPass(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  const p = v as { name?: unknown; run?: unknown };
  return typeof p.name === 'string' && typeof p.run === 'function';
}

const DISPOSED_HINT = '(dispose(), or the end of its tidy scope); keep it out of the scope or create it again';

/** Throws when any tensor among a call's arguments was disposed, naming where it sits. */
export function checkArgumentsAlive(name: string, tensors: readonly Tensor[], args: readonly unknown[]): void {
  if (!tensors.some((t) => t.isDisposed)) return;
  for (let i = 0; i < args.length; i++) {
    const found = disposedPath(args[i], `argument ${i}`, new Set());
    if (found !== undefined) {
      const [path, t] = found;
      throw new ValueError(`jit(${name}): ${path} (${t.dtype}${fmtShape(t.shape)}) was disposed ${DISPOSED_HINT}`);
    }
  }
  throw new ValueError(`jit(${name}): a tensor it reads (from this or its captures) was disposed ${DISPOSED_HINT}`);
}

function disposedPath(v: unknown, path: string, seen: Set<object>): [string, Tensor] | undefined {
  if (v instanceof Tensor) return v.isDisposed ? [path, v] : undefined;
  if (v === null || typeof v !== 'object' || seen.has(v)) return undefined;
  seen.add(v);
  const entries: [string, unknown][] = Array.isArray(v)
    ? v.map((x, i) => [`${path}[${i}]`, x])
    : Object.entries(v).map(([k, x]) => [`${path}.${k}`, x]);
  for (const [p, x] of entries) {
    const found = disposedPath(x, p, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}
