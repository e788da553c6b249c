/**
 * A fuzzing run: programs from one seed through every check that applies, failures grouped by
 * class, the first of each class shrunk and printed as a runnable program. Used by the vitest
 * file (a few hundred programs) and by `npm run fuzz` (as many as asked).
 */
import { generate } from './generate.js';
import { printProgram } from './print.js';
import type { Mode, Program } from './program.js';
import { programSeed } from './rng.js';
import {
  CALLS, callInputs, eagerVsReference, gradVsFiniteDifferences, jitBackwardVsEager, jitVsEager, type Check, type Failure,
} from './runners.js';
import { shrink, signature } from './shrink.js';

export interface CampaignOptions {
  seed: number;
  /** CPU programs; every fourth is a gradient program. */
  cpu: number;
  /** WebGPU programs (eager vs the reference on the device). */
  webgpu: number;
  maxStmts?: number;
  /** Called with each class's first failure, shrunk and printed. */
  report?: (text: string) => void;
}

/** Failures of one class: how many, and the first one's program seed and mode. */
export interface FailureClass {
  signature: string;
  count: number;
  seed: number;
  mode: Mode;
  printed: string;
}

export interface CampaignResult {
  /** Programs run, per check. */
  runs: Record<Check, number>;
  failures: Record<Check, number>;
  classes: FailureClass[];
}

type Runner = (p: Program) => Promise<Failure | undefined>;

const runners: Record<Check, Runner> = {
  'eager-vs-reference': (p) => eagerVsReference(p, 'cpu'),
  'jit-vs-eager': async (p) => jitVsEager(p),
  'grad-vs-finite-differences': async (p) => gradVsFiniteDifferences(p),
  'jit-backward-vs-eager': async (p) => jitBackwardVsEager(p),
  'webgpu-vs-reference': (p) => eagerVsReference(p, 'webgpu'),
};

function checksFor(mode: Mode): Check[] {
  switch (mode) {
    case 'values': return ['eager-vs-reference', 'jit-vs-eager'];
    case 'grad': return ['eager-vs-reference', 'jit-vs-eager', 'grad-vs-finite-differences', 'jit-backward-vs-eager'];
    case 'webgpu': return ['webgpu-vs-reference'];
    default: {
      const never: never = mode;
      throw new Error(`unknown mode ${String(never)}`);
    }
  }
}

/** The command that reruns one program alone. */
export function rerunCommand(seed: number, mode: Mode): string {
  return `npm run fuzz -- --program ${seed} --mode ${mode}`;
}

/** Runs the checks of `p`'s mode; returns each failure. */
export async function checkProgram(p: Program): Promise<Failure[]> {
  const out: Failure[] = [];
  for (const check of checksFor(p.mode)) {
    const f = await runners[check](p);
    if (f !== undefined) out.push(f);
  }
  return out;
}

/** Shrinks a failure and prints it as a script with a header naming its seed and how to rerun it. */
export async function explainFailure(p: Program, f: Failure): Promise<string> {
  const { program, failure } = await shrink(p, f, (q) => runners[f.check](q));
  const oneCall = f.check === 'eager-vs-reference' || f.check === 'webgpu-vs-reference' || f.check === 'grad-vs-finite-differences';
  const calls = oneCall
    ? [callInputs(program, 0)]
    : Array.from({ length: CALLS }, (_, i) => callInputs(program, i));
  const rerun = rerunCommand(p.seed, p.mode);
  const header = `${failure.check} (program seed ${p.seed}, ${p.mode}; rerun: ${rerun}): ${failure.detail}`;
  return printProgram(program, header, calls);
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const zero = (): Record<Check, number> => ({
    'eager-vs-reference': 0, 'jit-vs-eager': 0, 'grad-vs-finite-differences': 0, 'jit-backward-vs-eager': 0, 'webgpu-vs-reference': 0,
  });
  const result: CampaignResult = { runs: zero(), failures: zero(), classes: [] };
  const byClass = new Map<string, FailureClass>();
  const jobs: [number, Mode][] = [
    ...Array.from({ length: o.cpu }, (_, i) => [i, i % 4 === 3 ? 'grad' : 'values'] as [number, Mode]),
    ...Array.from({ length: o.webgpu }, (_, i) => [o.cpu + i, 'webgpu'] as [number, Mode]),
  ];
  for (const [index, mode] of jobs) {
    const p = generate(programSeed(o.seed, index), mode, o.maxStmts);
    for (const check of checksFor(mode)) result.runs[check]++;
    for (const f of await checkProgram(p)) {
      result.failures[f.check]++;
      const sig = signature(f);
      const known = byClass.get(sig);
      if (known !== undefined) {
        known.count++;
        continue;
      }
      const printed = await explainFailure(p, f);
      const cls: FailureClass = { signature: sig, count: 1, seed: p.seed, mode, printed };
      byClass.set(sig, cls);
      result.classes.push(cls);
      o.report?.(printed);
    }
  }
  return result;
}

/** The run's counts as a table a person reads: per check, programs and failures; then each class. */
export function summarize(o: CampaignOptions, r: CampaignResult): string {
  const lines = [`fuzz seed ${o.seed}: ${o.cpu} CPU programs, ${o.webgpu} WebGPU programs`];
  for (const check of Object.keys(r.runs) as Check[]) {
    if (r.runs[check] === 0) continue;
    lines.push(`  ${check.padEnd(28)} ${String(r.runs[check]).padStart(6)} run ${String(r.failures[check]).padStart(6)} failed`);
  }
  for (const c of [...r.classes].sort((a, b) => b.count - a.count)) {
    const first = `(first: program seed ${c.seed}, ${c.mode})`;
    lines.push(`  ${String(c.count).padStart(6)} × ${c.signature.slice(0, 150)}  ${first}`);
  }
  return lines.join('\n');
}
