/**
 * `@jit` applied where it cannot work, reported where it is applied. kiln's `@jit` is a
 * standard (TC39, TypeScript 5) method decorator, called as `(method, context)`. Under
 * `experimentalDecorators: true` TypeScript calls a decorator as `(prototype, key,
 * descriptor)` and ignores what does not look like a descriptor, so the method would run
 * unwrapped without a word; on a class, the wrapped constructor would fail only at `new`.
 */
import { JitError } from '../../runtime/errors.js';

/** A function written with the `class` keyword. */
function isClass(x: unknown): boolean {
  return typeof x === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(x));
}

function isDescriptor(x: unknown): boolean {
  return typeof x === 'object' && x !== null && ('value' in x || 'get' in x || 'set' in x) && 'configurable' in x;
}

function keyName(key: string | symbol): string {
  return typeof key === 'symbol' ? `[${key.description ?? 'symbol'}]` : key;
}

/**
 * The error for a jit call that is a misapplied decorator: a legacy decorator call, a class,
 * or a standard decorator on something other than a method. `args`: jit's (or jit(options)'s
 * returned decorator's) arguments.
 */
export function decoratorMisuse(args: readonly unknown[]): JitError | undefined {
  const [target, second, third] = args;
  if ((typeof second === 'string' || typeof second === 'symbol') && (args.length === 3 || isDescriptor(third))) {
    const owner = typeof target === 'function' ? target.name : (target as object | null)?.constructor?.name;
    const name = keyName(second);
    return new JitError(`@jit on ${owner ? `${owner}.` : ''}${name}: this is a legacy decorator call (experimentalDecorators: true in `
      + 'tsconfig), which would leave the method unwrapped. kiln\'s @jit is a standard decorator: remove experimentalDecorators, '
      + `or compile the method yourself: \`${name} = jit((...) => ...)\` as a field, or \`jit(fn)\` on a function`);
  }
  if (typeof second === 'object' && second !== null && 'kind' in second) {
    const kind = (second as { kind: unknown }).kind;
    const name = (second as { name?: unknown }).name;
    if (kind !== 'method') {
      const what = typeof name === 'string' ? ` ${name}` : '';
      return new JitError(`@jit decorates methods (got a ${String(kind)}${what}): put @jit on the method that computes, `
        + 'as in `class Net { @jit forward(x) { ... } }`');
    }
  }
  if (isClass(target)) {
    return new JitError(`jit: expects a function or method, got the class ${(target as Function).name || '(anonymous)'}: `
      + 'put @jit on the method that computes, as in `class Net { @jit forward(x) { ... } }`');
  }
  return undefined;
}
