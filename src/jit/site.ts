/** Finds the user's source location of a guard: the first stack frame outside kiln itself. */

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
let siteOverride: string | undefined;

/** Runs `read` with every guard it records reported at `site` ("file:line:column"). */
export function atSite<R>(site: string, read: () => R): R {
  const previous = siteOverride;
  siteOverride = site;
  try {
    return read();
  } finally {
    siteOverride = previous;
  }
}

/** "file:line:column" of the innermost caller outside kiln, or "unknown location". */
export function userSite(): string {
  if (siteOverride !== undefined) return siteOverride;
  // kiln's own frames (optimizer, autograd, ops) can outnumber V8's default limit of 10.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const line of stack.split('\n').slice(1)) {
    if (isOwnFrame(line)) continue;
    const m = /\(?((?:file:\/\/)?[^()\s]+:\d+:\d+)\)?\s*$/.exec(line.trim());
    if (m) return m[1]!.replace(/^file:\/\//, '');
  }
  return 'unknown location';
}
