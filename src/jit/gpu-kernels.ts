/**
 * The WebGPU launches of a fused step. A merged ('multi') kernel launches its parts one
 * after another: launches of one batch run in recording order, so each part sees what the
 * parts before it stored, as in the merged CPU function. A kernel that stores in place
 * into a value it also loads reads that value through the output's binding: WebGPU
 * refuses a dispatch that binds one buffer twice when one of the bindings writes it.
 */
import type { Expr, KernelSpec, MapSpec } from '../../compiler/kernel.js';
import type { FusedStep } from '../../compiler/passes/fuse.js';
import { renderWgsl, type WgslLimits } from '../../compiler/codegen/wgsl.js';
import { InternalError } from '../../runtime/errors.js';
import type { GpuRenderer } from '../../runtime/webgpu/backend.js';

/** One launch: the spec, its pipeline cache key, and for each of its args the step operand it binds (outputs, then inputs). */
export interface GpuLaunch {
  key: string;
  spec: Exclude<KernelSpec, { kind: 'multi' }>;
  operands: number[];
}

/** `spec` with arg `read` removed: its loads read arg `written` instead (the same elements of the same buffer). */
function loadThroughOutput(spec: MapSpec, read: number, written: number): MapSpec {
  const shift = (a: number) => (a > read ? a - 1 : a);
  const renumber = (a: number) => shift(a === read ? written : a);
  const body = spec.body.map((e): Expr => (e.op === 'load' || e.op === 'gatherLoad' ? { ...e, arg: renumber(e.arg) } : e));
  return {
    ...spec,
    dtypes: spec.dtypes.filter((_, a) => a !== read),
    strides: spec.strides.filter((_, a) => a !== read),
    body,
    stores: spec.stores.map((s) => ({ ...s, arg: renumber(s.arg) })),
  };
}

/** The launches that run `step` on the GPU, in order. */
export function gpuLaunches(step: FusedStep): GpuLaunch[] {
  const all = step.outputs.length + step.inputs.length;
  const parts = step.spec.kind === 'multi'
    ? step.spec.parts.map((p, k) => ({ key: `${step.key}|part ${k}`, spec: p.spec as GpuLaunch['spec'], operands: p.args.slice() }))
    : [{ key: step.key, spec: step.spec, operands: Array.from({ length: all }, (_, a) => a) }];
  return parts.map((launch) => {
    step.targets.forEach((t, k) => {
      const j = t === undefined ? -1 : step.inputs.indexOf(t);
      const written = launch.operands.indexOf(k);
      const read = launch.operands.indexOf(step.outputs.length + j);
      if (j < 0 || written < 0 || read < 0) return;
      if (launch.spec.kind !== 'map') throw new InternalError(`jit webgpu: a ${launch.spec.kind} kernel stores in place`);
      launch = {
        key: `${launch.key}|arg ${read} read as ${written}`,
        spec: loadThroughOutput(launch.spec, read, written),
        operands: launch.operands.filter((_, a) => a !== read),
      };
    });
    return launch;
  });
}

/**
 * The WGSL of `step`'s launches, for explain() and KILN_LOG=kernels (as rendered for offsets
 * that are multiples of 4): by the device's renderer when there is one, so the text is what
 * runs there (CPU adapters get other layouts), else for `limits`.
 */
export function wgslOf(step: FusedStep, device: GpuRenderer<KernelSpec> | WgslLimits): string {
  const render = (spec: KernelSpec) => ('render' in device ? device.render(spec, true) : renderWgsl(spec, device, { alignedOffsets: true })).code;
  const launches = gpuLaunches(step);
  return launches.map((l, k) => (launches.length > 1 ? `// launch ${k + 1} of ${launches.length}\n` : '') + render(l.spec)).join('\n');
}
