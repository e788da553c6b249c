/**
 * The static scan of one function's conditions (compiler/source/conditions.ts): which
 * conditions call a tensor method, which compare, where they are, and whether the text
 * already goes through the hooks.
 */
import { describe, expect, it } from 'vitest';
import { scanConditions } from '../../../compiler/source/conditions.js';

const METHODS = new Set(['gt', 'any', 'sum', 'lt']);

describe('scanConditions', () => {
  it('names every condition with its construct, kind and line, through !, && and ||', () => {
    const source = `(x, y, flag) => {
  if (x.sum().gt(0)) return x;
  while (x < y && !y.any()) x = x.add(1);
  for (let i = 0; flag || x.lt(y); i++) y = y.sub(1);
  return flag ? x : other(y) ? y : x;
}`;
    const scan = scanConditions(source, METHODS)!;
    expect(scan.rewritten).toBe(false);
    expect(scan.conditions.map((c) => [c.construct, c.kind, c.text, c.line])).toEqual([
      ['if', 'tensor-call', 'x.sum().gt(0)', 2],
      ['&&', 'comparison', 'x < y', 3],
      ['!', 'tensor-call', 'y.any()', 3],
      ['||', 'other', 'flag', 4],
      ['||', 'tensor-call', 'x.lt(y)', 4],
      ['?:', 'other', 'flag', 5],
      ['?:', 'other', 'other(y)', 5],
    ]);
    expect(scan.conditions[0]!.column).toBe(7);
  });

  it('sees methods and functions, and text that calls the hooks already', () => {
    expect(scanConditions('step(x) { return x.gt(0) ? x : x.neg(); }', METHODS)!.conditions.map((c) => c.kind)).toEqual(['tensor-call']);
    const built = scanConditions('(x) => __kiln.cond(x.gt(0), __kiln_sites[0]) ? 1 : 2', METHODS)!;
    expect(built.rewritten).toBe(true);
    expect(built.conditions.map((c) => c.kind)).toEqual(['other']);
    expect(scanConditions('not a function {', METHODS)).toBeUndefined();
  });
});
