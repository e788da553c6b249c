/**
 * The static import graph of kiln's own modules, read from their source: each module's value
 * imports and re-exports (`import type` and `export type` are erased by the compiler, so they
 * neither load a module nor make a cycle).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const VALUE_IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
const ANY_IMPORT = /^\s*(?:import|export)\s+(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** The TypeScript modules under `folders` (relative to the root), as root-relative paths. */
export function modulesUnder(...folders: string[]): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir)).sort().flatMap((name) => {
      const path = `${dir}/${name}`;
      if (statSync(join(root, path)).isDirectory()) return walk(path);
      return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
    });
  return folders.flatMap(walk);
}

/**
 * The root-relative modules that `file` imports (packages left out): by static value imports,
 * or with `{ types: true }` by any import, type-only and dynamic ones included.
 */
export function importsOf(file: string, options: { types?: boolean } = {}): string[] {
  const out: string[] = [];
  for (const m of readFileSync(join(root, file), 'utf8').matchAll(options.types ? ANY_IMPORT : VALUE_IMPORT)) {
    const spec = (m[1] ?? m[2])!;
    if (spec.startsWith('.')) out.push(relative(root, join(root, dirname(file), spec)).replace(/\.js$/, '.ts'));
  }
  return out;
}

/** The strongly connected components of more than one module (or a module importing itself). */
export function importCycles(files: readonly string[]): string[][] {
  const edges = new Map(files.map((f) => [f, importsOf(f).filter((g) => files.includes(g))]));
  // Tarjan's algorithm.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || edges.get(v)!.includes(v)) components.push(component.sort());
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return components;
}
