/**
 * Replays a variant without running the user's function: one call of the replay
 * interpreter (./interpreter.ts). On the CPU its guards are checked inline, as values are
 * computed; storage that the trace writes in place is shadowed copy-on-write, so nothing
 * outside is touched until every guard has held. Variants on WebGPU replay through
 * ./replay-webgpu.ts, which picks the host-decided or the speculative policy.
 */
import { paramsOf } from '../../compiler/ir/node-params.js';
import type { FusionPlan } from '../../compiler/passes/fuse.js';
import type { NamedPass } from '../../compiler/passes/pipeline.js';
import { setGradEnabled } from '../autograd/mode.js';
import { HostGuards, InlineGuards, type GuardPolicy } from './guard-policy.js';
import { Interpretation } from './interpreter.js';
import { LoopRunner } from './loop-run.js';
import { planOf, programOf } from './plan.js';
import type { ReplayResult } from './replay-result.js';
export type { ReplayResult } from './replay-result.js';
import { replayWebGpu } from './replay-webgpu.js';
import type { Walked } from './signature.js';
import type { Program, Variant } from './variant.js';
import { usesWebGpu } from './webgpu-check.js';

/** Runs variant `v` for the arguments `walked` (a promise for a speculative WebGPU replay, see ./speculation.ts). */
export function replay(v: Variant, walked: Walked, passes: readonly NamedPass[]): ReplayResult | Promise<ReplayResult> {
  if (usesWebGpu(v)) return replayWebGpu(v, walked, passes);
  const prog = programOf(v, passes);
  const plan = planOf(v, walked);
  const stop = v.outputsRequireGrad ? 'after writing' : stopOf(prog, plan);
  const policy: GuardPolicy = stop === 'never'
    ? new HostGuards(prog.randomCount)
    : new InlineGuards(prog.guards, prog.graph.nodes, prog.randomCount, stop === 'after writing');
  const run = new Interpretation(v, prog, walked, policy, { loopRunner: (p) => new LoopRunner(p, passes) });
  const previousMode = setGradEnabled(false);
  try {
    const result = run.record() ?? { ok: true, value: run.finish() };
    // Give the Wasm memory back what the call made and nobody holds: dropped, the buffers would
    // be spilled (copied out) when the memory fills (an MNIST CNN step dropped ~16 MB a step).
    // With autograd on, the result's history still needs them.
    if (!v.outputsRequireGrad) run.disposeTemporaries();
    return result;
  } finally {
    setGradEnabled(previousMode);
  }
}

/** Where a replay may stop half way: nowhere, only before its first in-place write, or also after one. */
type Stop = 'never' | 'before writing' | 'after writing';

const stops = new WeakMap<Program, Stop>();

/**
 * Where a replay of `prog` run by `plan` can stop half way: at a guard (an observe node), a
 * gradient input that is missing or misshapen, or a lifted loop. A program with none of
 * these (a jit'd training step, typically) writes its parameters and optimizer state in
 * place with no shadows: copying them first cost 2.1 MB of copies (parameters and momentum
 * buffers) and 12 allocations per MLP 784-256-256-10 SGD step. Nor does one whose every such
 * node runs before its first in-place write (a step whose optimizer checks a hyper-parameter
 * before it updates anything): stopping there leaves nothing to undo. A variant whose result
 * requires grad (replayed op by op through autograd) keeps them: without, live bytes grew
 * over a tidy loop of such Adam steps (test/src/cpu-memory.test.ts).
 */
function stopOf(prog: Program, plan: FusionPlan): Stop {
  let stop = stops.get(prog);
  if (stop !== undefined) return stop;
  const nodes = prog.graph.nodes;
  const mayStop = (i: number): boolean => {
    const n = nodes[i]!;
    return n.op === 'observe' || n.op === 'loop' ||
      (n.op === 'input' && paramsOf(n, 'input', 'jit replay').source.kind === 'grad');
  };
  let written = false;
  stop = 'never';
  for (const step of plan.steps) {
    if (step.kind === 'fused') {
      written ||= step.targets.some((t) => t !== undefined);
      continue;
    }
    if (mayStop(step.node)) stop = written ? 'after writing' : 'before writing';
    if (stop === 'after writing') break;
    written ||= nodes[step.node]!.op === 'write';
  }
  stops.set(prog, stop);
  return stop;
}
