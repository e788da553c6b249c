/**
 * `npm run fuzz -- --n 10000 --seed 7 [--webgpu 1000] [--max-stmts 8]` runs a campaign and
 * prints each failure class's first program (shrunk, runnable) and a summary; exits 1 on any
 * failure. `npm run fuzz -- --program SEED --mode values|grad|webgpu` reruns one program.
 */
import { webgpu } from '../../src/index.js';
import { checkProgram, explainFailure, rerunCommand, runCampaign, summarize } from './campaign.js';
import { generate } from './generate.js';
import { printFunction } from './print.js';
import type { Mode } from './program.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function count(name: string, fallback: number): number {
  const v = option(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`fuzz: --${name} must be a non-negative integer (got ${v})`);
  return n;
}

const MODES: readonly Mode[] = ['values', 'grad', 'webgpu'];

async function main(): Promise<number> {
  const maxStmts = count('max-stmts', 8);
  const one = option('program');
  if (one !== undefined) {
    const mode = (option('mode') ?? 'values') as Mode;
    if (!MODES.includes(mode)) throw new Error(`fuzz: --mode must be one of ${MODES.join(', ')} (got ${mode})`);
    if (mode === 'webgpu') await webgpu.init();
    const p = generate(count('program', 0), mode, maxStmts);
    console.log(printFunction(p));
    const failures = await checkProgram(p);
    for (const f of failures) console.log(`\n${await explainFailure(p, f)}`);
    const failed = `\n${failures.length} check(s) failed (${rerunCommand(p.seed, mode)})`;
    console.log(failures.length === 0 ? '\nevery check passed' : failed);
    return failures.length === 0 ? 0 : 1;
  }
  const seed = count('seed', Math.floor(Math.random() * 2 ** 31));
  const options = { seed, cpu: count('n', 1000), webgpu: count('webgpu', 0), maxStmts };
  if (options.webgpu > 0) await webgpu.init();
  const started = performance.now();
  const result = await runCampaign({ ...options, report: (text) => console.log(`\n${text}\n`) });
  console.log(summarize(options, result));
  console.log(`  ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result.classes.length === 0 ? 0 : 1;
}

process.exitCode = await main();
