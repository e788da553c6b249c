/**
 * Lowering of standard decorators (compiler/source/decorators.ts): the output has no
 * decorator syntax left, parses as ES2022, and behaves as the proposal says: replacement,
 * order, context fields, initializers, metadata. Last, a class with `@jit` methods through
 * Vite's TypeScript transform and the plugin, run in this Node.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { transformWithOxc } from 'vite';
import { describe, expect, it } from 'vitest';
import { lowerDecorators } from '../../../compiler/source/decorators.js';
import { parseModule } from '../../../compiler/source/parse.js';
import { kiln } from '../../../src/vite.js';
import { ROOT } from './helpers.js';

/** Imports `code` from a temporary module next to this file (so `kiln` resolves as in the tests). */
async function run<T>(code: string, name: string): Promise<T> {
  const file = `${ROOT}test/compiler/source/${name}.lowered-${process.pid}.mjs`;
  writeFileSync(file, code);
  try {
    return (await import(/* @vite-ignore */ file)) as T;
  } finally {
    rmSync(file, { force: true });
  }
}

function lowered(code: string): string {
  const out = lowerDecorators(code, '/app/a.js');
  expect(out).not.toBeNull();
  expect(out!.warnings).toEqual([]);
  expect(out!.code).not.toMatch(/^\s*@/m);
  // No decorator left for a parser without the syntax: plain acorn, via the module parser's
  // base grammar, accepts it once `@` is gone.
  expect(() => parseModule(out!.code)).not.toThrow();
  return out!.code;
}

const SEMANTICS = `
export const log = [];
const tag = (label) => (value, context) => {
  log.push([label, context.kind, String(context.name), context.static, context.private]);
  context.metadata[label] = String(context.name);
  context.addInitializer(function () { log.push(['init ' + label, typeof this === 'function' ? 'class' : 'instance']); });
  if (context.kind === 'getter') return function () { return value.call(this) * 10; };
  if (context.kind === 'method' && !context.static) return function (...args) { return label + ':' + value.apply(this, args); };
};
export class C {
  @tag('outer') @tag('inner') twice(x) { return 'x' + x; }
  @tag('get') get ten() { return 1; }
  @tag('static') static make() { return new C(); }
  'quoted name'() { return 'plain'; }
}
log.push(['defined']);
export const instance = C.make();
export const metadata = C[Symbol.metadata ?? Symbol.for('Symbol.metadata')];
export class D extends C {
  @tag('sub') own() { return 'own'; }
}
export const sub = new D();
export const leftAlone = new (class { @tag('anon') m() { return 1; } })();
`;

describe('lowerDecorators', () => {
  it('applies method, getter and static decorators as the proposal orders them', async () => {
    const m = await run<{
      log: unknown[][]; C: any; instance: any; metadata: Record<string, string>; sub: any; leftAlone: any;
    }>(lowered(SEMANTICS), 'semantics');
    expect(m.instance.twice(1)).toBe('outer:inner:x1');
    expect(m.instance.ten).toBe(10);
    expect(m.instance['quoted name']()).toBe('plain');
    expect(m.sub.own()).toBe('sub:own');
    expect(m.sub.twice(2)).toBe('outer:inner:x2');
    expect(m.leftAlone.m()).toBe('anon:1');
    expect({ ...m.metadata }).toEqual({ static: 'make', inner: 'twice', outer: 'twice', get: 'ten' });
    // Static decorators first, innermost first; static initializers before the class is
    // used; instance initializers at each construction (D's own, then C's through the base).
    expect(m.log.slice(0, 6)).toEqual([
      ['static', 'method', 'make', true, false],
      ['inner', 'method', 'twice', false, false],
      ['outer', 'method', 'twice', false, false],
      ['get', 'getter', 'ten', false, false],
      ['init static', 'class'],
      ['defined'],
    ]);
    expect(m.log.slice(6, 9)).toEqual([['init inner', 'instance'], ['init outer', 'instance'], ['init get', 'instance']]);
  });

  it('leaves fields, private and computed members and classes as written, naming each', () => {
    const code = '@d class A {\n  @d x = 1;\n  @d #p() {}\n  @d static [k]() {}\n}\n';
    const out = lowerDecorators(code, '/app/b.js')!;
    expect(out.code).toBe(code);
    expect(out.warnings.map((w) => w.message)).toEqual([
      'decorators on a class stay as written and need native decorator support (/app/b.js:1:4)',
      'decorators on a field stay as written and need native decorator support (/app/b.js:2:6)',
      'decorators on a private member stay as written and need native decorator support (/app/b.js:3:6)',
      'decorators on a computed member stay as written and need native decorator support (/app/b.js:4:6)',
    ]);
  });

  it('returns null for modules without decorators, and rejects a decorator that returns a non-function', async () => {
    expect(lowerDecorators('export const a = "x@y";', '/app/c.js')).toBeNull();
    const code = lowered('export class E { @((v) => 42) m() {} }');
    await expect(run(code, 'bad')).rejects.toThrow(/decorator of m returned number, expected a function or undefined/);
  });
});

const MODEL = `import { jit, nn, noGrad, tensor, type Tensor } from '${ROOT}src/node.js';

export class Model {
  layer = new nn.Linear(3, 2);
  @jit step(x: Tensor): Tensor {
    if (x.sum() > 0) return this.layer.forward(x).relu();
    return this.layer.forward(x.neg());
  }
}

export function run(): { outputs: number[][]; eager: number[][]; stats: unknown } {
  const m = new Model();
  const inputs = [[[1, 2, 3]], [[4, 5, 6]], [[-1, -2, -3]], [[-4, -5, -6]], [[7, 8, 9]], [[-7, -8, -9]]].map((v) => tensor(v));
  // Under noGrad: a result that carries autograd history replays op by op.
  const outputs = noGrad(() => inputs.map((x) => Array.from(m.step(x).data())));
  const eager = noGrad(() => inputs.map((x) => Array.from((x.sum().item() > 0 ? m.layer.forward(x).relu() : m.layer.forward(x.neg())).data())));
  return { outputs, eager, stats: (m.step as unknown as { stats: unknown }).stats };
}
`;

describe('a class with @jit methods through Vite and the plugin', () => {
  it('runs in Node without decorator syntax, its if rewritten, and equals eager', async () => {
    const file = `${ROOT}test/compiler/source/model.ts`;
    const ts = await transformWithOxc(MODEL, file, { sourcemap: true });
    expect(ts.code).toContain('@jit');
    const warnings: string[] = [];
    const out = kiln().transform.call({ warn: (w) => void warnings.push(w), getCombinedSourcemap: () => ts.map as never }, ts.code, file)!;
    expect(warnings).toEqual([]);
    expect(out.code).not.toContain('@jit');
    expect(out.code).toContain('"test/compiler/source/model.ts:');
    const m = await run<{ run(): { outputs: number[][]; eager: number[][]; stats: Record<string, number> } }>(out.code, 'model');
    const r = m.run();
    expect(r.outputs).toEqual(r.eager);
    // The rewritten `if` is a guard: both paths compile, and later calls of each replay.
    expect(r.stats).toMatchObject({ calls: 6, variants: 2 });
    expect(r.stats.replays).toBeGreaterThan(0);
  }, 30_000);
});
