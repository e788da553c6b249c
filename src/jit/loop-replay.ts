/**
 * Replays of WebGPU variants whose lifted loops run host-driven (./loop-host.ts). Such a
 * loop settles only after its condition readbacks, so the replay is a promise (the variant
 * comes from an async function, whose calls return promises anyway): the interpreter runs
 * up to the loop, waits for it, and goes on. Guards the host decides are checked before
 * anything runs, as in every WebGPU replay; variants whose other guards need the GPU's
 * values are kept eager (./webgpu-check.ts). The replay spans awaits, so no tidy scope can
 * hold its tensors: what the result does not reach is disposed when it ends.
 */
import type { EffectParams } from '../../compiler/ir/graph.js';
import type { NamedPass } from '../../compiler/passes/pipeline.js';
import { setGradEnabled } from '../autograd/mode.js';
import { HostGuards } from './guard-policy.js';
import { Interpretation, type Placement } from './interpreter.js';
import { DeviceLoop, planDeviceLoop } from './loop-device.js';
import { HostLoop } from './loop-host.js';
import type { ReplayResult } from './replay-result.js';
import type { Walked } from './signature.js';
import type { Program, Variant } from './variant.js';

/** True when a loop of `prog` runs host-driven on WebGPU (its body does not fit one kernel). */
export function hasHostLoops(prog: Program): boolean {
  return prog.graph.nodes.some((n) => n.op === 'loop' && planDeviceLoop(n.params).kind === 'none');
}

/** The runner of a lifted loop of a WebGPU variant: one kernel when it fits one, host-driven otherwise. */
export function gpuLoopRunner(passes: readonly NamedPass[]): (p: EffectParams['loop']) => DeviceLoop | HostLoop {
  return (p) => {
    const plan = planDeviceLoop(p);
    return plan.kind === 'kernel' ? new DeviceLoop(p, plan.spec) : new HostLoop(p, passes);
  };
}

/**
 * Replays `v` on WebGPU with its host-driven loops, once the host guards held. Autograd is
 * off while the replay records, and as the caller left it while it waits for a readback.
 */
export async function replayWithHostLoops(
  v: Variant, prog: Program, walked: Walked, placement: Placement, passes: readonly NamedPass[],
): Promise<ReplayResult> {
  const callerMode = setGradEnabled(false);
  const run = new Interpretation(v, prog, walked, new HostGuards(prog.randomCount), {
    placement, loopRunner: gpuLoopRunner(passes),
  });
  const wait = async <T>(pending: Promise<T>): Promise<T> => {
    setGradEnabled(callerMode);
    try {
      return await pending;
    } finally {
      setGradEnabled(false);
    }
  };
  try {
    const failed = await run.recordAsync(wait);
    const result: ReplayResult = failed ?? { ok: true, value: run.finish() };
    run.disposeTemporaries();
    return result;
  } catch (e) {
    // A device error at a readback: what the call made goes, and the error reaches the caller.
    run.disposeTemporaries();
    throw e;
  } finally {
    setGradEnabled(callerMode);
  }
}
