/**
 * What the main entry reaches: nothing that needs Node, Dawn or the source transform, so a
 * bundler builds it for a page without externalizing a module or carrying acorn along.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Static imports and re-exports, and literal dynamic imports; type-only imports are erased.
const IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** Every module reachable from `entry`, and the bare or node: specifiers they import. */
function reach(entry: string): { files: Set<string>; external: Map<string, string> } {
  const files = new Set<string>();
  const external = new Map<string, string>();
  const todo = [resolve(root, entry)];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) todo.push(join(dirname(file), spec).replace(/\.js$/, '.ts'));
      else external.set(spec, relative(root, file));
    }
  }
  return { files, external };
}

describe('the main entry', () => {
  it('imports no Node built-in, no Dawn and no acorn or magic-string', () => {
    const { files, external } = reach('src/index.ts');
    expect(files.size).toBeGreaterThan(50);
    expect(Object.fromEntries(external)).toEqual({});
  });

  it('kiln/node and kiln/rewrite bring what they are for', () => {
    expect([...reach('src/node.ts').external.keys()].sort()).toEqual(['acorn', 'magic-string', 'node:fs', 'node:path', 'node:url', 'node:zlib']);
    expect([...reach('src/rewrite.ts').external.keys()].sort()).toEqual(['acorn', 'magic-string']);
  });
});

interface Entry {
  types: string;
  default: string;
}

describe('package.json', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, string | Entry | Record<string, Entry>>;
    sideEffects: string[];
  };

  it('exports compiled entries whose sources exist, with types, Node first for the main entry', () => {
    for (const [name, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue;
      const conditions = typeof target.default === 'string' ? { default: target as Entry } : (target as Record<string, Entry>);
      for (const [condition, files] of Object.entries(conditions)) {
        const source = files.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts');
        expect(readFileSync(join(root, source), 'utf8').length, `${name} (${condition})`).toBeGreaterThan(0);
        expect(files.types, `${name} (${condition})`).toBe(files.default.replace(/\.js$/, '.d.ts'));
      }
    }
    expect(Object.keys(pkg.exports['.']!)).toEqual(['node', 'browser', 'default']);
  });

  it('lists as side effects only modules that exist', () => {
    for (const file of pkg.sideEffects) {
      const source = file.replace(/^\.\/dist\//, './').replace(/\.js$/, '.ts');
      expect(readFileSync(join(root, source), 'utf8').length, file).toBeGreaterThan(0);
    }
  });
});
