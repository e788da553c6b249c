/**
 * `kiln/rewrite`: importing it makes the run-time control-flow rewrite available to
 * `jit(fn, { rewrite: true })` and `jit.toCode` (see src/jit/rewriter.ts for why it is
 * separate). Node's `kiln` entry imports it already.
 */
import './jit/rewrite.js';
