/**
 * The source transform: every fixture in fixtures/ is rewritten and compared with its
 * expected output (fixtures/<name>.out.js); the output must parse, keep every line on its
 * number, map each character back to the same character of the input, and be left alone by
 * a second rewrite. Then the edges: the prefilter, parse errors, warnings, input maps,
 * thrown errors mapped back to the original column, and the one-function (run-time) form.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import MagicString from 'magic-string';
import { describe, expect, it } from 'vitest';
import { decodeMappings, originalPosition } from '../../../compiler/source/mappings.js';
import { parseModule } from '../../../compiler/source/parse.js';
import { transformSource } from '../../../compiler/source/transform.js';
import { transformFunction } from '../../../compiler/source/function-transform.js';
import { FIXTURES, PROGRAMS, checkMap } from './helpers.js';

const names = readdirSync(FIXTURES).filter((f) => f.endsWith('.js') && !f.endsWith('.out.js')).map((f) => f.slice(0, -3)).sort();

describe('fixtures', () => {
  it.each(names)('%s', async (name) => {
    const file = FIXTURES + name + '.js';
    const input = readFileSync(file, 'utf8');
    const out = transformSource(input, { filename: file });
    if (name === 'not-kiln') {
      expect(out).toBeNull();
      return;
    }
    expect(out).not.toBeNull();
    const { code, map } = out!;
    await expect(code.replaceAll(FIXTURES, '')).toMatchFileSnapshot(`./fixtures/${name}.out.js`);
    expect(() => parseModule(code)).not.toThrow();
    expect(code.split('\n').length, 'lines keep their numbers').toBe(input.split('\n').length);
    expect(map!.sources).toEqual([file]);
    expect(map!.sourcesContent).toEqual([input]);
    checkMap(code, input, map!.mappings);
    expect(transformSource(code, { filename: file }), 'a rewritten module is left alone').toBeNull();
  });

  it('warns about jit calls whose function is not written in the module', () => {
    const file = FIXTURES + 'references.js';
    const out = transformSource(readFileSync(file, 'utf8'), { filename: file })!;
    expect(out.warnings.map((w) => [w.line, w.column])).toEqual([[19, 30], [20, 24]]);
    for (const w of out.warnings) expect(w.message).toMatch(/not written in this module.*jit still traces it/);
  });
});

describe('what is left alone', () => {
  it('code that never mentions jit is not even parsed', () => {
    expect(transformSource('if (x) {', { filename: 'broken.js' })).toBeNull();
    expect(transformSource('if (a < b) f();', { filename: 'plain.js' })).toBeNull();
  });

  it('a parse error is a warning, and the code comes back untouched', () => {
    const code = "import { jit } from 'kiln';\nconst f = jit((x) => {\n  if (x > ) return 1;\n});\n";
    const out = transformSource(code, { filename: 'broken.js' })!;
    expect(out.code).toBe(code);
    expect(out.map).toBeNull();
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toMatchObject({ line: 3, column: 11 });
    expect(out.warnings[0]!.message).toMatch(/^could not parse broken\.js \(Unexpected token/);
  });

  it('jit imported from elsewhere, or jit calls with nothing to rewrite, give null', () => {
    expect(transformSource("import { jit } from 'other';\njit((x) => x ? 1 : 2);", { filename: 'a.js' })).toBeNull();
    expect(transformSource("import { jit } from 'kiln';\nexport const f = jit((x) => x.add(1));", { filename: 'a.js' })).toBeNull();
    expect(transformSource("import { jit } from 'kiln';\nexport const s = 'if (x) jit';", { filename: 'a.js' })).toBeNull();
  });

  it('a relative import that is not kiln is not kiln', () => {
    expect(transformSource("import { jit } from './jit.js';\njit((x) => x ? 1 : 2);", { filename: FIXTURES + 'a.js' })).toBeNull();
  });

  it('without sourceMap there is no map', () => {
    const out = transformSource("import { jit } from 'kiln';\njit((x) => x ? 1 : 2);", { filename: 'a.js', sourceMap: false })!;
    expect(out.map).toBeNull();
    expect(out.code).toContain('__kiln.cond(x, __kiln_sites[0])');
  });

  it('the hooks specifier can be chosen', () => {
    const out = transformSource("import { jit } from 'kiln';\njit((x) => x ? 1 : 2);", { filename: 'a.js', hooks: './my-hooks.js' })!;
    expect(out.code.startsWith('import { __kiln } from "./my-hooks.js"; ')).toBe(true);
  });

  it('file names reach the sites table as JSON strings', () => {
    const file = 'dir/a "quoted" \\ name\u2028.js';
    const out = transformSource("import { jit } from 'kiln';\njit((x) => x ? 1 : 2);", { filename: file })!;
    const table = /const __kiln_sites = (\[[^]*?\]); /.exec(out.code)![1]!;
    expect(JSON.parse(table)).toEqual([`${file}:2:12`]);
  });
});

describe('positions', () => {
  it('an input map turns sites into positions of the original source', () => {
    // The "original" is reformatted (another tool's output), with a map back to it.
    const original = "import { jit } from 'kiln';\n\n\nexport const f = jit((x) =>\n    x.sum() > 0 ? x : x.neg());\n";
    const s = new MagicString(original);
    s.overwrite(27, 30, '\n'); // the blank lines go away
    s.overwrite(original.indexOf('=>') + 2, original.indexOf('x.sum'), ' ');
    const code = s.toString();
    expect(code).toBe("import { jit } from 'kiln';\nexport const f = jit((x) => x.sum() > 0 ? x : x.neg());\n");
    const inputMap = s.generateMap({ hires: true, source: 'f.ts' });
    const out = transformSource(code, { filename: 'f.ts', inputMap })!;
    expect(out.code).toContain('const __kiln_sites = ["f.ts:5:5"]');
    // Without it, the sites name the code as given.
    expect(transformSource(code, { filename: 'f.ts' })!.code).toContain('const __kiln_sites = ["f.ts:2:29"]');
    // As JSON text too.
    expect(transformSource(code, { filename: 'f.ts', inputMap: inputMap.toString() })!.code).toContain('"f.ts:5:5"');
  });

  it('an error thrown on a rewritten line maps back to its original column', async () => {
    // Loaded from next to the programs, so that its relative kiln import resolves.
    const source = [
      "import { jit, tensor } from '../../../../src/index.js';",
      'const f = jit((x) => {',
      "  if (x.sum() > 0 && !(x.max() >= 10)) throw new RangeError('mapped');",
      '  return x;',
      '});',
      'export function run() { return f(tensor([1, 2])); }',
      '',
    ].join('\n');
    const file = `${PROGRAMS}thrown-${process.pid}.mjs`;
    const out = transformSource(source, { filename: file })!;
    // The error's frame is where it is made: `new RangeError`, further right once rewritten.
    const made = 'new RangeError';
    expect(out.code.split('\n')[2]!.indexOf(made)).toBeGreaterThan(source.split('\n')[2]!.indexOf(made));
    writeFileSync(file, out.code);
    let stack = '';
    try {
      const m = (await import(/* @vite-ignore */ file)) as { run(): unknown };
      expect(() => m.run()).toThrow('mapped');
      try {
        m.run();
      } catch (error) {
        stack = (error as Error).stack ?? '';
      }
    } finally {
      rmSync(file, { force: true });
    }
    const frame = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+)`).exec(stack);
    expect(frame, stack).not.toBeNull();
    const [line, column] = [Number(frame![1]), Number(frame![2])];
    // The frame names the rewritten file; the transform's map takes it back to the source.
    expect(out.code.split('\n')[line - 1]!.slice(column - 1).startsWith(made)).toBe(true);
    const original = originalPosition(decodeMappings(out.map!.mappings), line - 1, column - 1)!;
    expect([original.line + 1, original.column + 1]).toEqual([3, source.split('\n')[2]!.indexOf(made) + 1]);
  });
});

describe('one function at a time (the run-time form)', () => {
  it('rewrites an arrow, a function expression and a method, with sites counted from the function', () => {
    const arrow = transformFunction('(a, b) => {\n  while (a < b) a = a.add(1);\n  return a;\n}', '<f>')!;
    expect(arrow.code).toBe('(a, b) => {\n  __kiln.lift(__kiln_sites[0], () => (__kiln.cmp(a, b, "lt", __kiln_sites[0])), () => { a = a.add(1); }, () => [a], (__kiln_values) => { [a] = __kiln_values; });\n  return a;\n}');
    expect(arrow.sites).toEqual(['<f>:2:10']);
    expect(arrow.routed).toEqual([{ site: '<f>:2:10', construct: 'while' }]);
    expect(arrow).toMatchObject({ method: false, free: [], outer: [], rewritten: false, hook: '__kiln', sitesName: '__kiln_sites' });

    const fn = transformFunction('async function g(x) { return x ? 1 : 2; }', '<g>')!;
    expect(fn.code).toBe('async function g(x) { return __kiln.cond(x, __kiln_sites[0]) ? 1 : 2; }');
    expect(fn.sites).toEqual(['<g>:1:30']);

    const method = transformFunction('step(x) { if (!x) return this.y; }', '<step>')!;
    expect(method.code).toBe('step(x) { if (!__kiln.cond(x, __kiln_sites[0])) return this.y; }');
    expect(method.method).toBe(true);
    expect(method.sites).toEqual(['<step>:1:16']);
  });

  it('reports free names and what an arrow takes from outside', () => {
    const t = transformFunction('(x) => x > w ? this.a : Math.max(arguments[0], super.b)', '<h>');
    // `super` outside a method does not parse: such text is not a function of its own.
    expect(t).toBeUndefined();
    const u = transformFunction('(x) => (x > w ? this.a : Math.max(arguments[0], y))', '<h>')!;
    expect(u.free.sort()).toEqual(['Math', 'arguments', 'w', 'y']);
    expect(u.outer.sort()).toEqual(['arguments', 'this']);
    const v = transformFunction('function (x) { return x > 0 ? this.a : arguments[0]; }', '<v>')!;
    expect(v.outer).toEqual([]);
  });

  it('leaves generators, rewritten text and non-functions alone', () => {
    const gen = transformFunction('function* g(x) { while (x) yield 1; }', '<g>')!;
    expect(gen.routed).toEqual([]);
    expect(gen.code).toBe('function* g(x) { while (x) yield 1; }');
    const done = transformFunction('(x) => __kiln.cond(x, __kiln_sites[0]) ? 1 : 2', '<d>')!;
    expect(done.rewritten).toBe(true);
    expect(done.code).toBe('(x) => __kiln.cond(x, __kiln_sites[0]) ? 1 : 2');
    expect(transformFunction('class A {}', '<a>')).toBeUndefined();
    expect(transformFunction('function () { [native code] }', '<n>')).toBeUndefined();
  });

  it('picks hook names the function does not use', () => {
    const t = transformFunction('(__kiln) => __kiln ? 1 : 2', '<s>')!;
    expect(t.hook).toBe('__kiln1');
    expect(t.code).toBe('(__kiln) => __kiln1.cond(__kiln, __kiln1_sites[0]) ? 1 : 2');
  });
});
