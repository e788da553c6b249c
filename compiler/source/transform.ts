/**
 * The control-flow source transform. JavaScript cannot overload `if`: every object is truthy,
 * so `if (x.gt(0))` is always taken. In the functions handed to `jit` (and methods decorated
 * `@jit`), this rewrites the tests of `if`, `while`, `do…while`, `for` and `?:`, and the
 * operands of `!` (and of `&&`/`||` inside those tests), into calls of a small runtime hook
 * (src/hooks.ts) that turns a one-element tensor into a boolean and records the guard with
 * the condition's original file:line:column. Comparisons in those tests become a hook call
 * too, which compares tensors as tensors, so the guard reads the branch taken (and loop
 * lifting sees a tensor condition) instead of the two operands' values. Loops whose shape
 * allows it (compiler/source/loops.ts) become closures the tracer may lift into one loop
 * node, and `if`s whose branches only assign computed values (compiler/source/selects.ts)
 * become closures the tracer may turn into a select.
 *
 * Shaped like a Rollup plugin transform: a cheap prefilter, a parse (a syntax error is a
 * warning and the code is left as it is), scope analysis, one walk that edits by offset with
 * magic-string, and `{ code, map }` out, or null when nothing changed. Generated code is
 * built only from the user's own source text, validated numbers, JSON string literals and
 * the fixed vocabulary of the rewriter.
 *
 * Which functions are rewritten: a function (or arrow) passed to `jit(...)`, directly or
 * through a name bound in this module to a function that is never reassigned; methods
 * decorated `@jit`/`@jit(...)`/`@k.jit` (as written, or as lowered by esbuild or tsc); and
 * everything nested in them — arrows, callbacks, nested function declarations and class
 * methods — because whatever runs during a traced call is part of the trace, and outside a
 * trace the hooks give the same answers eager code would. Generator functions, and
 * everything inside them, are left as written: a traced call only creates the generator.
 *
 * The parts: which imports are kiln (kiln-imports.ts), which functions are targets
 * (targets.ts), captured closure variables (captures.ts), the rewrite itself (rewriter.ts),
 * and one function's text rewritten at run time (function-transform.ts).
 */
import type { SourceMap } from 'magic-string';
import type { Program } from 'acorn';
import { errorPosition, parseModule } from './parse.js';
import { analyzeScopes } from './scope.js';
import { readMap, type RawSourceMap } from './mappings.js';
import { HOOKS_EXPORT, freeHookNames, kilnImports } from './kiln-imports.js';
import { Positions } from './positions.js';
import { Finder } from './targets.js';
import { addCaptures } from './captures.js';
import { Rewriter } from './rewriter.js';

/** Options of transformSource. */
export interface TransformOptions {
  /** The module's file name: guard sites name it, the map's `sources` too. */
  filename: string;
  /** The name guard sites and warnings give the module instead (kiln/vite: its path relative to the project root). */
  siteName?: string;
  /** Produce a source map (default true). */
  sourceMap?: boolean;
  /**
   * A map from `code` to the original source, when `code` is the output of an earlier
   * transform (TypeScript stripping): guard sites then name the original line and column.
   */
  inputMap?: RawSourceMap | string | null;
  /** The specifier the hooks are imported from (default: next to the kiln import, see hooksSpecifier). */
  hooks?: string;
}

/** Something the transform could not do, with the position it concerns (1-based). */
export interface SourceWarning {
  message: string;
  line?: number;
  column?: number;
}

/** The rewritten module. */
export interface TransformResult {
  code: string;
  map: SourceMap | null;
  warnings: SourceWarning[];
}

/** Rewrites the jit'd functions of a module; null when there is nothing to do. */
export function transformSource(code: string, options: TransformOptions): TransformResult | null {
  // Prefilter: a module that never says `jit` has nothing to rewrite.
  if (!code.includes('jit')) return null;
  const filename = options.filename;
  let program: Program;
  try {
    program = parseModule(code);
  } catch (error) {
    const pos = errorPosition(error);
    return {
      code,
      map: null,
      warnings: [{ message: `could not parse ${filename} (${(error as Error).message}); its jit'd functions run as written, without rewritten conditions`, ...pos }],
    };
  }
  const info = analyzeScopes(program);
  const kiln = kilnImports(program, info, filename);
  if (kiln.rewritten || (kiln.jit.size === 0 && kiln.namespaces.size === 0)) return null;
  const inputMap = options.inputMap ? readMap(options.inputMap) : undefined;
  const positions = new Positions(code, inputMap);
  const finder = new Finder(info, kiln, positions);
  finder.visit(program, info.module, undefined);
  const found = finder.finish();
  const site = options.siteName ?? filename;
  const warnings = found.warnings.map((w) => ({ ...w, message: `${w.message} (${site}:${w.line}:${w.column})` }));

  const names = freeHookNames(info.names);
  const rw = new Rewriter(code, info, found.targets, names.hook, names.sites, site, positions);
  rw.walk(program, false);
  for (const c of found.calls) addCaptures(rw.s, c, info);
  if (!rw.s.hasChanged()) return warnings.length > 0 ? { code, map: null, warnings } : null;

  if (rw.hooksUsed) {
    const spec = options.hooks ?? kiln.hooks ?? 'kiln/hooks';
    const binding = names.hook === HOOKS_EXPORT ? HOOKS_EXPORT : `${HOOKS_EXPORT} as ${names.hook}`;
    // One line, no newline: every original line keeps its number, even without a source map.
    const prelude = `import { ${binding} } from ${JSON.stringify(spec)}; const ${names.sites} = [${rw.sites.map((x) => JSON.stringify(x)).join(', ')}]; `;
    // After a hashbang line, which must stay first.
    const afterHashbang = code.startsWith('#!') ? code.indexOf('\n') + 1 : 0;
    if (afterHashbang > 0) rw.s.appendLeft(afterHashbang, prelude);
    else rw.s.prependLeft(0, prelude);
  }
  const map = options.sourceMap === false ? null : rw.s.generateMap({ hires: true, source: filename, includeContent: true });
  return { code: rw.s.toString(), map, warnings };
}
