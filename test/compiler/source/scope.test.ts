/**
 * Scope analysis: what each identifier refers to. Cases list their references in source
 * order as `name:line->line of the declaration it resolves to` (0 for a global).
 */
import type { Identifier } from 'acorn';
import { describe, expect, it } from 'vitest';
import { parseModule } from '../../../compiler/source/parse.js';
import { analyzeScopes, type Binding } from '../../../compiler/source/scope.js';

/** For each reference: `name:line of the reference -> line of its declaration (0: global)`. */
function resolve(code: string): string[] {
  const program = parseModule(code);
  const info = analyzeScopes(program);
  const lineOf = (offset: number) => code.slice(0, offset).split('\n').length;
  return [...info.references].map(([id, b]: [Identifier, Binding | null]) => `${id.name}:${lineOf(id.start)}->${b === null ? 0 : lineOf(b.id.start)}`);
}

function bindings(code: string): Binding[] {
  const info = analyzeScopes(parseModule(code));
  const all: Binding[] = [];
  const seen = new Set<unknown>();
  for (const b of info.references.values()) if (b && !seen.has(b)) { seen.add(b); all.push(b); }
  return all;
}

describe('scope analysis', () => {
  it('resolves through function, block and catch scopes, with hoisting', () => {
    const code = [
      'let a = 1;', //                                 1
      'function f(a, { b = a }) {', //                 2
      '  g(a, b, c);', //                              3
      '  { let a = 2; a; }', //                        4
      '  try { } catch (a) { a; }', //                 5
      '  var c;', //                                   6
      '  return a;', //                                7
      '}', //                                          8
      'function g() { return a; }', //                9
      'for (let i = 0; i < 1; i++) i;', //            10
      'i;', //                                        11
    ].join('\n');
    expect(resolve(code)).toEqual([
      'a:2->2', 'g:3->9', 'a:3->2', 'b:3->2', 'c:3->6', 'a:4->4', 'a:5->5', 'a:7->2', 'a:9->1',
      'i:10->10', 'i:10->10', 'i:10->10', 'i:11->0',
    ]);
  });

  it('does not count property names, labels or declarations as references', () => {
    const code = [
      'const o = { a: 1, b() {}, [k]: 2 };', //           1
      'o.a; o[a];', //                                    2
      'x: for (;;) { break x; }', //                       3
      'class C { m() {} #p = 1; static s = C; }', //       4
      'export { o as p };', //                             5
    ].join('\n');
    expect(resolve(code)).toEqual(['k:1->0', 'o:2->1', 'o:2->1', 'a:2->0', 'C:4->4', 'o:5->1']);
  });

  it('records imports, kinds, initializers and reassignment', () => {
    const code = [
      "import { jit as j } from 'kiln';",
      "import * as k from 'kiln';",
      'let w = f(); const c = 1; let [d] = [2];',
      'w = 3; d++;',
      'function f() { return j(k, w, c, d); }',
      'class K {}',
      'K;',
    ].join('\n');
    const byName = new Map(bindings(code).map((b) => [b.name, b]));
    expect(byName.get('j')).toMatchObject({ kind: 'import', source: 'kiln', imported: 'jit', reassigned: false });
    expect(byName.get('k')).toMatchObject({ kind: 'import', source: 'kiln', imported: '*' });
    expect(byName.get('w')).toMatchObject({ kind: 'let', reassigned: true });
    expect(byName.get('w')!.init!.type).toBe('CallExpression');
    expect(byName.get('c')).toMatchObject({ kind: 'const', reassigned: false });
    expect(byName.get('d')).toMatchObject({ kind: 'let', init: null, reassigned: true });
    expect(byName.get('f')!.kind).toBe('function');
    expect(byName.get('K')!.kind).toBe('class');
  });

  it('gives a named function expression its own name, and arrows no arguments of their own', () => {
    const code = [
      'const f = function g() { return g; };', // 1
      'const h = () => arguments;', //           2
    ].join('\n');
    expect(resolve(code)).toEqual(['g:1->1', 'arguments:2->0']);
  });

  it('parses decorators on classes and class elements', () => {
    const code = [
      "import { jit } from 'kiln';", //          1
      '@dec class A {', //                       2
      '  @jit step() {}', //                      3
      '  @jit({ n: 1 }) @other.x fit() {}', //    4
      '}', //                                     5
      'export @dec class B {}', //                6
      'export default @dec class {}', //          7
    ].join('\n');
    expect(resolve(code)).toEqual(['dec:2->0', 'jit:3->1', 'jit:4->1', 'other:4->0', 'dec:6->0', 'dec:7->0']);
  });
});
