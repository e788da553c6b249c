/** Finds the user's source location of a guard: the first stack frame outside kiln itself. */
import { ScopedValue } from '../scoped-value.js';

// The folder of this module (a one-argument URL: bundlers warn about `new URL('.', import.meta.url)`).
const here = new URL(import.meta.url).pathname.replace(/[^/]*$/, '');
/** kiln's own source roots (src, compiler, runtime, and their compiled copies under dist). */
const root = here.replace(/\/(dist\/)?src\/jit\/$/, '/');
const ownDirs = ['src/', 'compiler/', 'runtime/', 'dist/src/', 'dist/compiler/', 'dist/runtime/'].map((d) => root + d);

function isOwnFrame(line: string): boolean {
  return ownDirs.some((d) => line.includes(d)) || line.includes('node:internal') || line.includes('node_modules');
}

// Set while the source transform's hooks (src/hooks.ts) read a condition whose exact
// location the transform recorded: that location beats any stack frame.
const siteOverride = new ScopedValue<string | undefined>(undefined);

/** Runs `read` with every guard it records reported at `site` ("file:line:column"). */
export function atSite<R>(site: string, read: () => R): R {
  return siteOverride.run(site, read);
}

/** The stack of the current call, with room for kiln's own frames (they can outnumber V8's default of 10). */
function stackLines(): string[] {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return stack.split('\n').slice(2);
}

/** "file:line:column" of one stack frame line. */
function frameSite(line: string): string | undefined {
  const m = /\(?((?:file:\/\/)?[^()\s]+:\d+:\d+)\)?\s*$/.exec(line.trim());
  return m ? m[1]!.replace(/^file:\/\//, '') : undefined;
}

/** Library code (layers, optimizers, autograd) as opposed to the tensor core and the tracer. */
const libraryDirs = ['src/nn/', 'src/optim/', 'src/autograd/', 'src/data/', 'dist/src/nn/', 'dist/src/optim/', 'dist/src/autograd/', 'dist/src/data/'].map((d) => root + d);

/**
 * "src/optim/adam.ts:30:5" when the read was made in kiln's layers or optimizers: the
 * innermost frame outside the tensor core and the tracer is one of theirs (not the user's).
 */
export function librarySite(): string | undefined {
  for (const line of stackLines()) {
    if (libraryDirs.some((d) => line.includes(d))) {
      const site = frameSite(line);
      if (site !== undefined) return site.replace(root, '');
    }
    if (!isOwnFrame(line)) return undefined;
  }
  return undefined;
}

/** "file:line:column" of the innermost caller outside kiln, or "unknown location". */
export function userSite(): string {
  return siteOverride.value ?? siteIn(stackLines());
}

/**
 * The call's site, to be resolved by `resolveSite` only if needed: V8 formats a captured
 * stack only when read, so capturing one per recorded node stays cheap.
 */
export function captureSite(): string | Error {
  if (siteOverride.value !== undefined) return siteOverride.value;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const e = new Error();
  Error.stackTraceLimit = limit;
  return e;
}

/** "file:line:column" of a site from `captureSite`. */
export function resolveSite(site: string | Error): string {
  return typeof site === 'string' ? site : siteIn((site.stack ?? '').split('\n').slice(2));
}

function siteIn(lines: readonly string[]): string {
  for (const line of lines) {
    if (isOwnFrame(line)) continue;
    const site = frameSite(line);
    if (site !== undefined) return site;
  }
  return 'unknown location';
}
