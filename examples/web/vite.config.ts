/**
 * The web demo's Vite config: the kiln plugin (conditions in jit'd code rewritten, method
 * decorators lowered, pages served cross-origin isolated), and `kiln` resolved to this
 * repository's sources.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { appConfig } from './vite-setup.js';

export default defineConfig(appConfig(fileURLToPath(new URL('.', import.meta.url)), { crossOriginIsolation: true }));
