/**
 * Switches read from the environment: KILN_LOG=recompiles,guards,graphs,kernels prints
 * those events as they happen; KILN_DISABLE_JIT=1 makes jit call the function directly.
 */
import { onKernelCompile } from '../../compiler/execute.js';
import { ScopedValue } from '../scoped-value.js';

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};

/** Event kinds that KILN_LOG can turn on. */
export type LogKind = 'recompiles' | 'guards' | 'graphs' | 'kernels';

const enabled = new Set((env.KILN_LOG ?? '').split(',').map((s) => s.trim()).filter(Boolean));

/** True when KILN_LOG lists `kind` (or `all`). */
export function logs(kind: LogKind): boolean {
  return enabled.has(kind) || enabled.has('all');
}

/** Prints one event line (to stderr, so it does not mix with program output). */
export function log(kind: LogKind, message: string): void {
  if (logs(kind)) console.error(`[kiln ${kind}] ${message}`);
}

/**
 * Whether jit and trace run the verifier after every pass, so that a pass that breaks the
 * graph is named at once instead of surfacing as a crash or NaNs in replay: with
 * KILN_VERIFY=1, and always under the test runner.
 */
export const verifyPasses = env.KILN_VERIFY === '1' || env.KILN_VERIFY === 'true' || env.VITEST !== undefined;

/** True when KILN_DISABLE_JIT asks for eager execution everywhere. */
export const jitDisabled = env.KILN_DISABLE_JIT === '1' || env.KILN_DISABLE_JIT === 'true';

/** The compiled graph running now and the nodes of the kernel it asks for, for KILN_LOG=kernels. */
const kernelScope = new ScopedValue<string | undefined>(undefined);
let kernelNodes: readonly number[] | undefined;

/** Runs `replay` with kernels compiled meanwhile attributed to `scope` ("jit(step) variant 1 of …"). */
export function inKernelScope<R>(scope: string, replay: () => R): R {
  return kernelScope.run(scope, replay);
}

/** Gets `kernel` for a fused step computing `nodes` (named in the log if it compiles now). */
export function forNodes<R>(nodes: readonly number[], kernel: () => R): R {
  if (!logs('kernels')) return kernel();
  kernelNodes = nodes;
  try {
    return kernel();
  } finally {
    kernelNodes = undefined;
  }
}

// Kernels are compiled below the JIT (eager ops compile them too), so their log hooks in there.
if (logs('kernels')) {
  onKernelCompile((source) => {
    const what = kernelScope.value === undefined ? 'eager op' : `${kernelScope.value}: kernel for ${kernelNodes?.map((n) => `%${n}`).join(' ') ?? 'an op'}`;
    log('kernels', `${what} compiled\n${source}`);
  });
}
