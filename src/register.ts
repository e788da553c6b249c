/**
 * `kiln/register`: the control-flow source transform as a Node module hook.
 *
 *   node --import kiln/register app.js
 *   node --import tsx --import kiln/register app.ts
 *
 * With another loader (tsx for TypeScript), import kiln/register after it: hooks registered
 * later run first and ask the earlier ones for the source, so kiln rewrites the JavaScript
 * that tsx produced and composes tsx's source map with its own, so that stack traces and
 * guard sites name the lines of the original file.
 */
import { register } from 'node:module';

register(new URL('./register-hooks.js', import.meta.url));
