/**
 * How the web demo and the browser tests build with Vite inside this repository: the kiln
 * plugin, and `kiln` resolved to the sources under src/ (an app that installed kiln
 * resolves the package instead, and needs only `plugins: [kiln()]`).
 */
import { fileURLToPath } from 'node:url';
import kiln, { type KilnPluginOptions } from '../../src/vite.js';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `kiln` and `kiln/<entry>` resolved to the sources under src/. */
export const kilnSourceAliases = [
  { find: /^kiln$/, replacement: `${ROOT}src/index.ts` },
  { find: /^kiln\/(.*)$/, replacement: `${ROOT}src/$1.ts` },
];

/** Vite options for an app folder inside this repository. */
export function appConfig(root: string, plugin: KilnPluginOptions = {}) {
  return {
    root,
    plugins: [kiln({ ...plugin, root: ROOT })],
    resolve: { alias: kilnSourceAliases },
    build: { target: 'es2022', emptyOutDir: true },
    server: { fs: { allow: [ROOT] } },
  };
}
