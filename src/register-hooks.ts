/**
 * The module hooks behind `kiln/register` (they run on Node's hooks thread). `load` asks the
 * next loader for a module's source, then rewrites the conditions of its jit'd functions.
 * Only ES modules are rewritten: the rewrite adds an `import` of the hooks.
 */
import { fileURLToPath } from 'node:url';
import { composeMaps, inlineMapComment, splitInlineMap } from '../compiler/source/mappings.js';
import { transformSource } from '../compiler/source/transform.js';

/** What Node passes to a load hook (the fields used here). */
export interface LoadContext {
  format?: string | null;
  conditions?: string[];
  importAttributes?: Record<string, string>;
}

/** What a load hook returns. */
export interface LoadResult {
  format?: string | null;
  source?: string | ArrayBuffer | ArrayBufferView | null;
  shortCircuit?: boolean;
}

const SCRIPT = /\.(m?[jt]s|[jt]sx)$/;

/** Node's load hook: the next loader's module source, with jit'd functions rewritten. */
export async function load(url: string, context: LoadContext, nextLoad: (url: string, context?: LoadContext) => Promise<LoadResult>): Promise<LoadResult> {
  const result = await nextLoad(url, context);
  if (result.format !== 'module' || result.source == null || !url.startsWith('file:')) return result;
  const path = fileURLToPath(url.replace(/[?#].*$/, ''));
  if (!SCRIPT.test(path) || path.includes('/node_modules/')) return result;
  const text = typeof result.source === 'string' ? result.source : new TextDecoder().decode(result.source as ArrayBuffer | Uint8Array);
  if (!text.includes('jit')) return result;
  // A loader before this one (tsx) leaves its map inline: positions go through it to the original.
  const { code, map: inputMap } = splitInlineMap(text);
  const out = transformSource(code, { filename: path, sourceMap: true, inputMap });
  if (out === null) return result;
  for (const w of out.warnings) console.warn(`[kiln] ${w.message}`);
  if (out.code === code || out.map === null) return result;
  const map = inputMap ? composeMaps(out.map, inputMap) : out.map;
  return { ...result, source: `${out.code}\n${inlineMapComment(map)}\n` };
}
