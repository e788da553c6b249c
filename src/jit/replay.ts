/**
 * Replays a variant without running the user's function: one call of the replay
 * interpreter (./interpreter.ts). On the CPU its guards are checked inline, as values are
 * computed; storage that the trace writes in place is shadowed copy-on-write, so nothing
 * outside is touched until every guard has held. Variants on WebGPU replay through
 * ./replay-webgpu.ts, which picks the host-decided or the speculative policy.
 */
import type { NamedPass } from '../../compiler/passes/pipeline.js';
import { setGradEnabled } from '../autograd/mode.js';
import { InlineGuards } from './guard-policy.js';
import { Interpretation } from './interpreter.js';
import { LoopRunner } from './loop-run.js';
import { planOf, programOf } from './plan.js';
import type { ReplayResult } from './replay-result.js';
export type { ReplayResult } from './replay-result.js';
import { replayWebGpu } from './replay-webgpu.js';
import type { Walked } from './signature.js';
import type { Variant } from './variant.js';
import { usesWebGpu } from './webgpu-check.js';

/** Runs variant `v` for the arguments `walked` (a promise for a speculative WebGPU replay, see ./speculation.ts). */
export function replay(v: Variant, walked: Walked, passes: readonly NamedPass[]): ReplayResult | Promise<ReplayResult> {
  if (usesWebGpu(v)) return replayWebGpu(v, walked, passes);
  const prog = programOf(v, passes);
  planOf(v, walked);
  const policy = new InlineGuards(prog.guards, prog.graph.nodes, prog.randomCount);
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
