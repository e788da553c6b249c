/**
 * The program of one Web Worker in kiln's worker pool (runtime/wasm/threads.ts starts it as
 * a module worker, by a URL relative to that module, so bundlers emit it and a plain ESM
 * import finds it beside threads.js). It does what the Node pool's worker does: waits for a
 * job on its slot of the shared control block with Atomics.wait, runs the job's kernel on
 * the shared memory, and counts the job done.
 *
 * A Web Worker has no synchronous way to take a message (Node's receiveMessageOnPort), and
 * no message arrives while it blocks. Kernels are posted before the first job that uses
 * them, so a job whose kernel has not arrived yet is left waiting: the worker returns to
 * its event loop, takes the kernel messages, and runs the job once its kernel is there.
 */
import { wasmApi, type WasmMemory, type WasmModule } from './api.js';
import { ARGC, argIndex, FAILED, KERNEL, PENDING, POSTED, READY, SEQ, STATE, TAKEN } from './pool-control.js';

/** The first message (in Node, the workerData): the pool's memory, its control block and this worker's slot in it. */
export interface WorkerInit {
  memory: WasmMemory;
  control: SharedArrayBuffer;
  slot: number;
}

/** Every later message, in Node too: a kernel module, in pool id order, and the export to call. */
export interface PostedKernel {
  module: WasmModule;
  entry: string;
}

/** The part of a dedicated worker's global scope used here (kiln is typed without the DOM). */
interface WorkerScope {
  onmessage: ((event: { data: WorkerInit | PostedKernel }) => void) | null;
}

type Kernel = (...args: number[]) => void;

const kernels: Kernel[] = [];
let memory: WasmMemory;
let ctl: Int32Array;
/** The control block as float64s: job arguments. */
let numbers: Float64Array;
let slot = 0;
let seen = 0;
/** A job was taken whose kernel had not arrived: it runs when the kernel does. */
let waiting = false;

/** The kernel's entry, instantiated on the shared memory; one that cannot be fails its jobs. */
function instantiate({ module, entry }: PostedKernel): Kernel {
  try {
    return new wasmApi!.Instance(module, { env: { memory } }).exports[entry] as Kernel;
  } catch (error) {
    return () => {
      throw error;
    };
  }
}

function runJob(id: number): void {
  try {
    const args: number[] = [];
    for (let i = 0, at = argIndex(slot); i < ctl[slot + ARGC]!; i++) args.push(numbers[at + i]!);
    kernels[id]!(...args);
  } catch {
    Atomics.store(ctl, FAILED, 1);
  }
  if (Atomics.sub(ctl, PENDING, 1) === 1) Atomics.notify(ctl, PENDING);
}

/** Runs jobs as they are signalled; returns when one needs a kernel that has not arrived yet. */
function serve(): void {
  for (;;) {
    if (!waiting) {
      Atomics.wait(ctl, slot + SEQ, seen);
      const seq = Atomics.load(ctl, slot + SEQ);
      if (seq === seen) continue;
      seen = seq;
      // The calling thread runs the job itself if it got there first.
      if (Atomics.compareExchange(ctl, slot + STATE, POSTED, TAKEN) !== POSTED) continue;
    }
    const id = ctl[slot + KERNEL]!;
    waiting = id >= kernels.length;
    if (waiting) return;
    runJob(id);
  }
}

(globalThis as unknown as WorkerScope).onmessage = ({ data }) => {
  if ('control' in data) {
    ({ memory, slot } = data);
    ctl = new Int32Array(data.control);
    numbers = new Float64Array(data.control);
    Atomics.store(ctl, slot + READY, 1);
    serve();
    return;
  }
  kernels.push(instantiate(data));
  if (waiting) serve();
};
