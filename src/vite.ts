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
 * that JavaScript back into the original file's, so guard sites name the lines the user wrote.
 */
import { transformSource } from '../compiler/source/transform.js';
import type { RawSourceMap } from '../compiler/source/mappings.js';

/** Options of the kiln plugin. */
export interface KilnPluginOptions {
  /** Which module ids to rewrite (default: .js/.mjs/.cjs/.ts/.mts/.cts/.jsx/.tsx outside node_modules). */
  include?: (id: string) => boolean;
}

/** The part of Rollup's and Vite's plugin context the plugin uses. */
interface TransformContext {
  warn(message: string): void;
  getCombinedSourcemap?(): RawSourceMap;
}

/** A Vite/Rollup plugin object (structural, so kiln needs no Vite types). */
export interface KilnPlugin {
  name: 'kiln';
  enforce: 'post';
  transform(this: TransformContext, code: string, id: string): { code: string; map: unknown } | null;
}

const SCRIPT = /\.(m?[jt]s|c[jt]s|[jt]sx)$/;

function defaultInclude(file: string): boolean {
  return SCRIPT.test(file) && !file.includes('/node_modules/');
}

/** The kiln Vite/Rollup plugin: rewrites conditions in jit'd functions (see compiler/source/transform.ts). */
export function kiln(options: KilnPluginOptions = {}): KilnPlugin {
  const include = options.include ?? defaultInclude;
  return {
    name: 'kiln',
    enforce: 'post',
    transform(code, id) {
      // Virtual modules (\0…) and query suffixes (?v=…, ?raw) are not files of the user's.
      if (id.startsWith('\0')) return null;
      const file = id.replace(/[?#].*$/, '');
      if (!include(file) || !code.includes('jit')) return null;
      let inputMap: RawSourceMap | undefined;
      try {
        inputMap = this.getCombinedSourcemap?.();
      } catch {
        inputMap = undefined;
      }
      const result = transformSource(code, { filename: file, sourceMap: true, inputMap: inputMap?.mappings ? inputMap : undefined });
      if (result === null) return null;
      for (const w of result.warnings) this.warn(w.message);
      if (result.code === code) return null;
      return { code: result.code, map: result.map };
    },
  };
}

export default kiln;
