/**
 * `kiln/vite`: the control-flow source transform as a Vite (and Rollup) plugin.
 *
 *   import { defineConfig } from 'vite';
 *   import kiln from 'kiln/vite';
 *   export default defineConfig({ plugins: [kiln()] });
 *
 * It runs with `enforce: 'post'`, after Vite's own TypeScript/JSX transform, because the
 * parser reads JavaScript: by then `.ts` files are plain modules (with their decorators still
 * as written, which the parser accepts). The map Vite has combined so far turns positions in
 * that JavaScript back into the original file's, so guard sites name the lines the user wrote,
 * by their path relative to the project root (a bundle never carries the builder's paths).
 *
 * It also lowers standard decorators on methods (compiler/source/decorators.ts), so a class
 * with `@jit` methods runs where the syntax does not exist yet, and, when asked, sends the
 * headers that make a page cross-origin isolated (see `crossOriginIsolation`).
 */
import { isAbsolute, relative, sep } from 'node:path';
import { lowerDecorators } from '../compiler/source/decorators.js';
import { composeMaps, readMap, type RawSourceMap } from '../compiler/source/mappings.js';
import { transformSource } from '../compiler/source/transform.js';

/** Options of the kiln plugin. */
export interface KilnPluginOptions {
  /** Which module ids to rewrite (default: .js/.mjs/.cjs/.ts/.mts/.cts/.jsx/.tsx outside node_modules). */
  include?: (id: string) => boolean;
  /** The folder guard sites are named relative to (default: Vite's `root`, else the working directory). */
  root?: string;
  /**
   * Serve pages cross-origin isolated in `vite dev` and `vite preview` (default false): the
   * COOP/COEP headers give the page SharedArrayBuffer, which worker threads sharing memory
   * need. Isolation also blocks cross-origin resources that do not opt in (CORP/CORS), so it
   * is the app's choice; kiln runs single-threaded without it.
   */
  crossOriginIsolation?: boolean;
  /** Lower standard decorators on methods (default true); false leaves them to a native runtime. */
  lowerDecorators?: boolean;
}

/** The headers that make a page cross-origin isolated. */
export const CROSS_ORIGIN_ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** The part of Rollup's and Vite's plugin context the plugin uses. */
interface TransformContext {
  warn(message: string): void;
  getCombinedSourcemap?(): RawSourceMap;
}

/** The part of Vite's configuration the plugin reads and adds to. */
interface ServerHeaders {
  server?: { headers?: Record<string, string> };
  preview?: { headers?: Record<string, string> };
}

/** A Vite/Rollup plugin object (structural, so kiln needs no Vite types). */
export interface KilnPlugin {
  name: 'kiln';
  enforce: 'post';
  config(): ServerHeaders | null;
  configResolved(config: { root: string }): void;
  transform(this: TransformContext, code: string, id: string): { code: string; map: unknown } | null;
}

const SCRIPT = /\.(m?[jt]s|c[jt]s|[jt]sx)$/;

// kiln's own modules: linked into an app (`npm i ../kiln`), a bundler sees their real paths,
// outside node_modules. They are kiln, not the app, and are never rewritten.
const OWN_ROOT = new URL('../', import.meta.url).pathname.replace(/dist\/$/, '');
const OWN = ['src/', 'compiler/', 'runtime/', 'dist/'].map((d) => OWN_ROOT + d);

function defaultInclude(file: string): boolean {
  return SCRIPT.test(file) && !file.includes('/node_modules/') && !OWN.some((d) => file.startsWith(d));
}

/** The name guard sites give `file`: its path relative to `root`, with forward slashes. */
function siteName(file: string, root: string): string {
  const rel = relative(root, file);
  return rel === '' || isAbsolute(rel) ? file : rel.split(sep).join('/');
}

/** The kiln Vite/Rollup plugin: rewrites conditions in jit'd functions (see compiler/source/transform.ts). */
export function kiln(options: KilnPluginOptions = {}): KilnPlugin {
  const include = options.include ?? defaultInclude;
  let root = options.root ?? process.cwd();
  return {
    name: 'kiln',
    enforce: 'post',
    config() {
      if (options.crossOriginIsolation !== true) return null;
      const headers = CROSS_ORIGIN_ISOLATION_HEADERS;
      return { server: { headers: { ...headers } }, preview: { headers: { ...headers } } };
    },
    configResolved(config) {
      root = options.root ?? config.root;
    },
    transform(code, id) {
      // Virtual modules (\0…) and query suffixes (?v=…, ?raw) are not files of the user's.
      if (id.startsWith('\0')) return null;
      const file = id.replace(/[?#].*$/, '');
      if (!include(file)) return null;
      let out = code.includes('jit') ? rewrite(this, code, file, siteName(file, root)) : undefined;
      if (options.lowerDecorators !== false) {
        const input = out?.code ?? code;
        const lowered = lowerDecorators(input, file);
        for (const w of lowered?.warnings ?? []) this.warn(w.message);
        if (lowered !== null && lowered.code !== input) {
          const map = readMap(lowered.map.toString());
          out = { code: lowered.code, map: out ? composeMaps(map, out.map) : map };
        }
      }
      return out ?? null;
    },
  };
}

/** A transformed module and its map. */
interface Rewritten {
  code: string;
  map: RawSourceMap;
}

/** The module with its jit'd functions' conditions rewritten, or undefined when nothing changed. */
function rewrite(ctx: TransformContext, code: string, file: string, site: string): Rewritten | undefined {
  let inputMap: RawSourceMap | undefined;
  try {
    inputMap = ctx.getCombinedSourcemap?.();
  } catch {
    inputMap = undefined;
  }
  const result = transformSource(code, { filename: file, siteName: site, inputMap: inputMap?.mappings ? inputMap : undefined });
  for (const w of result?.warnings ?? []) ctx.warn(w.message);
  if (result === null || result.code === code || result.map === null) return undefined;
  return { code: result.code, map: readMap(result.map.toString()) };
}

export default kiln;
