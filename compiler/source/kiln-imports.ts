/**
 * Which imports of a module are kiln: the specifiers that reach kiln's entries, the bindings
 * of `jit` and of kiln namespaces they bring, and the hooks module to import next to them.
 */
import type { ImportDeclaration, Program } from 'acorn';
import type { Binding, ScopeInfo } from './scope.js';

/** The name the hooks object is exported under by the hooks module. */
export const HOOKS_EXPORT = '__kiln';

const ownRoot = ((): string | undefined => {
  // compiler/source/kiln-imports.ts (or dist/compiler/source/kiln-imports.js): the package root is
  // two folders up, and kiln's entry points sit under src/ there.
  const url = new URL('../../', import.meta.url);
  return url.protocol === 'file:' ? decodeURIComponent(url.pathname) : undefined;
})();

const ENTRY = /^src\/(index|node|jit\/jit)\.(js|ts|mjs|mts)$/;

/** How a module specifier reaches kiln, if it does: the hooks module to import next to it. */
export function hooksSpecifier(specifier: string, filename: string): string | undefined {
  if (specifier === 'kiln') return 'kiln/hooks';
  if (ownRoot === undefined || !/^(\.{1,2}\/|\/|file:)/.test(specifier) || !filename.startsWith('/')) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(new URL(specifier, 'file://' + filename).pathname);
  } catch {
    return undefined;
  }
  if (!path.startsWith(ownRoot)) return undefined;
  const m = ENTRY.exec(path.slice(ownRoot.length));
  if (!m) return undefined;
  const hooks = `${ownRoot}src/hooks.${m[2]}`;
  if (specifier.startsWith('/') || specifier.startsWith('file:')) return specifier.startsWith('file:') ? 'file://' + hooks : hooks;
  return relativeSpecifier(filename, hooks);
}

/** A `./`- or `../`-relative specifier from the file `from` to the file `to` (absolute POSIX paths). */
function relativeSpecifier(from: string, to: string): string {
  const a = from.split('/').slice(0, -1), b = to.split('/');
  let i = 0;
  while (i < a.length && i < b.length - 1 && a[i] === b[i]) i++;
  const up = a.length - i;
  return (up === 0 ? './' : '../'.repeat(up)) + b.slice(i).join('/');
}

/** The bindings of one module that come from kiln. */
export interface KilnImports {
  /** Local bindings of `jit` imported from kiln. */
  jit: Set<Binding>;
  /** Namespace imports of kiln. */
  namespaces: Set<Binding>;
  /** Where the hooks come from: next to the first kiln import. */
  hooks: string | undefined;
  /** The module was already rewritten (it imports the hooks). */
  rewritten: boolean;
}

/** The kiln imports of `program`. */
export function kilnImports(program: Program, info: ScopeInfo, filename: string): KilnImports {
  const out: KilnImports = { jit: new Set(), namespaces: new Set(), hooks: undefined, rewritten: false };
  for (const st of program.body) {
    if (st.type !== 'ImportDeclaration') continue;
    const imp = st as ImportDeclaration;
    for (const s of imp.specifiers) {
      if (s.type === 'ImportSpecifier' && (s.imported.type === 'Identifier' ? s.imported.name : s.imported.value) === HOOKS_EXPORT) out.rewritten = true;
    }
    const hooks = hooksSpecifier(String(imp.source.value), filename);
    if (hooks === undefined) continue;
    for (const s of imp.specifiers) {
      const b = info.module.bindings.get(s.local.name);
      if (!b || b.kind !== 'import') continue;
      if (b.imported === 'jit') out.jit.add(b);
      else if (b.imported === '*') out.namespaces.add(b);
      else continue;
      out.hooks ??= hooks;
    }
  }
  return out;
}

/** A hooks name, and its sites table's, bound nowhere in the module. */
export function freeHookNames(names: ReadonlySet<string>): { hook: string; sites: string } {
  for (let i = 0; ; i++) {
    const hook = i === 0 ? HOOKS_EXPORT : `${HOOKS_EXPORT}${i}`;
    if (!names.has(hook) && !names.has(`${hook}_sites`)) return { hook, sites: `${hook}_sites` };
  }
}
