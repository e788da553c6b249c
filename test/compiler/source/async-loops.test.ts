/**
 * Lifted loops inside async functions are awaited (`await __kiln.liftAsync(...)`), so that
 * a loop on WebGPU may read its condition back while it runs; loops elsewhere stay `lift`.
 */
import { describe, expect, it } from 'vitest';
import { parseModule } from '../../../compiler/source/parse.js';
import { transformSource } from '../../../compiler/source/transform.js';

describe('the transform awaits lifted loops in async functions', () => {
  it('while, do…while and for in an async function; loops in sync functions and closures are not awaited', () => {
    const code = [
      "import { jit } from 'kiln';",
      'export const f = jit(async (x, y) => {',
      '  while (x.lt(y)) { x = x.add(1); }',
      '  do { y = y.sub(1); } while (y.gt(x));',
      '  for (; x.lt(3); ) x = x.add(1);',
      '  const g = (a) => { while (a.lt(1)) { a = a.add(1); } return a; };',
      '  while (x.lt(9)) { while (y.lt(x)) { y = y.add(1); } x = x.add(1); }',
      '  return g(x);',
      '});',
      'export const h = jit((x) => { while (x.lt(1)) { x = x.add(1); } return x; });',
    ].join('\n');
    const out = transformSource(code, { filename: 'loops.js' })!.code;
    expect(out).toContain('await __kiln.liftAsync(');
    expect(out).toContain('await __kiln.liftDoAsync(');
    expect(out).toContain('await __kiln.liftForAsync(');
    // g's loop, h's, and the loop nested in a lifted loop's body (a synchronous closure).
    expect(out.match(/[^.]__kiln\.lift\(/g)).toHaveLength(3);
    expect(out.match(/await __kiln\.liftAsync\(/g)).toHaveLength(2);
    // Every await sits directly in an async function.
    expect(() => parseModule(out)).not.toThrow();
  });
});
