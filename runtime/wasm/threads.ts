/**
 * Worker threads that run Wasm kernels on the shared heap. A large kernel is split by its
 * caller into jobs over independent output ranges: job 0 runs on the calling thread, the
 * others on workers, and the call returns when all are done. No job reads what another
 * writes and no sum is split across jobs, so results are bitwise the same at any thread count.
 *
 * In Node the pool is made of worker_threads, imported dynamically on first use, so nothing
 * Node-specific loads with kiln. Workers wait for jobs with Atomics.wait on a shared control
 * block (a message round trip costs tens of microseconds; a notify a few) and are unref'd,
 * so an idle pool never keeps a process alive. Elsewhere (browsers) kernels run on the
 * calling thread: a page's main thread cannot block waiting for workers.
 */
import { InternalError, ValueError } from '../errors.js';
import { cpuEngine } from './engine.js';
import { wasmFeatures } from './features.js';
import { wasmHeap } from './memory.js';
import { wasmKernelById, type WasmKernel } from './modules.js';

/** Control block, in int32s: the count of jobs still running, a failure flag, then one slot per worker. */
const PENDING = 0, FAILED = 1, HEADER = 2;
/** A worker's slot: job sequence number, ready flag, kernel id, argument count, arguments. */
const SEQ = 0, READY = 1, KERNEL = 2, ARGC = 3, ARGS = 4, MAX_ARGS = 12, SLOT = ARGS + MAX_ARGS;
/** Workers a pool can have. */
const MAX_WORKERS = 64;

/** The worker's program (CommonJS, evaluated in the worker). */
const WORKER_SOURCE = `
const { workerData, parentPort, receiveMessageOnPort } = require('node:worker_threads');
const { memory, control, slot } = workerData;
const ctl = new Int32Array(control);
const kernels = [];
Atomics.store(ctl, slot + ${READY}, 1);
let seen = 0;
for (;;) {
  Atomics.wait(ctl, slot + ${SEQ}, seen);
  const seq = Atomics.load(ctl, slot + ${SEQ});
  if (seq === seen) continue;
  seen = seq;
  try {
    const id = ctl[slot + ${KERNEL}];
    while (kernels.length <= id) {
      const posted = receiveMessageOnPort(parentPort);
      if (posted === undefined) throw new Error('kernel ' + id + ' was never posted');
      const { module, entry } = posted.message;
      kernels.push(new WebAssembly.Instance(module, { env: { memory } }).exports[entry]);
    }
    const args = [];
    for (let i = 0; i < ctl[slot + ${ARGC}]; i++) args.push(ctl[slot + ${ARGS} + i]);
    kernels[id](...args);
  } catch (e) {
    Atomics.store(ctl, ${FAILED}, 1);
  }
  if (Atomics.sub(ctl, ${PENDING}, 1) === 1) Atomics.notify(ctl, ${PENDING});
}
`;

interface NodeWorker {
  postMessage(message: unknown): void;
  unref(): void;
  on(event: 'error', listener: (error: unknown) => void): void;
}

interface WorkerThreads {
  Worker: new (source: string, options: { eval: true; workerData: unknown }) => NodeWorker;
}

/**
 * A Node built-in, imported by a specifier bundlers do not see, so a browser bundle of kiln
 * neither resolves nor warns about it (this runs only in Node).
 */
function nodeBuiltin<T>(name: 'os' | 'worker_threads'): Promise<T> {
  const specifier = `node:${name}`;
  return import(/* @vite-ignore */ specifier) as Promise<T>;
}

interface PoolWorker {
  worker: NodeWorker;
  /** Kernels posted to it so far (ids 0 … posted - 1). */
  posted: number;
}

type NodeProcess = { env?: Record<string, string | undefined>; versions?: { node?: string } };
const env = (globalThis as { process?: NodeProcess }).process;
const isNode = typeof env?.versions?.node === 'string';

let requested: number | undefined;
const navigatorCores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
let cores = Math.max(1, navigatorCores ?? 1);
/** Node 20 has no navigator: its core count comes from node:os when the pool first starts. */
let coresKnown = !isNode;
const control = new Int32Array(controlBuffer(HEADER + MAX_WORKERS * SLOT));
const workers: PoolWorker[] = [];
let starting: Promise<number> | undefined;
let busy = false;
/**
 * The first error a worker raised (it could not start, or died). From then on kernels run
 * on the calling thread only: a dead worker would never finish its job.
 */
let broken: unknown;

/** A SharedArrayBuffer where one exists (the control block only matters then), else a plain one. */
function controlBuffer(ints: number): ArrayBufferLike {
  return typeof SharedArrayBuffer === 'undefined' ? new ArrayBuffer(4 * ints) : new SharedArrayBuffer(4 * ints);
}

function parseThreads(text: string, where: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS + 1) {
    throw new ValueError(`${where}: thread count must be an integer from 1 to ${MAX_WORKERS + 1} (got ${text})`);
  }
  return n;
}

/** Sets how many threads large CPU kernels use (the calling thread included); default KILN_THREADS, else all cores. */
export function setNumThreads(n: number): void {
  // Workers beyond the count stay, idle, blocked in Atomics.wait and unref'd: lowering the
  // count and raising it again (thread scaling in a benchmark) costs no new workers.
  requested = parseThreads(String(n), 'setNumThreads');
}

/** How many threads large CPU kernels are to use. */
export function getNumThreads(): number {
  if (requested === undefined) {
    const fromEnv = env?.env?.KILN_THREADS;
    requested = fromEnv === undefined || fromEnv === '' ? undefined : parseThreads(fromEnv, 'KILN_THREADS');
  }
  return Math.min(requested ?? cores, MAX_WORKERS + 1);
}

/** Whether workers can exist here at all, and have Wasm kernels to run. */
function poolPossible(): boolean {
  return isNode && broken === undefined && wasmFeatures().sharedMemory && cpuEngine() === 'wasm';
}

/**
 * Starts the workers the thread count asks for (in Node, with shared memory) and resolves
 * with the number of threads kernels can use once they are up. Kernels never wait for this:
 * until workers are ready, they run on fewer threads.
 */
export function threadsReady(): Promise<number> {
  if (!poolPossible()) return Promise.resolve(1);
  if (!busy && (!coresKnown || workers.length < getNumThreads() - 1)) {
    busy = true;
    starting = start().finally(() => (busy = false));
  }
  return starting ?? Promise.resolve(readyWorkers() + 1);
}

async function start(): Promise<number> {
  if (!coresKnown) {
    cores = (await nodeBuiltin<{ availableParallelism(): number }>('os')).availableParallelism();
    coresKnown = true;
  }
  const count = getNumThreads() - 1;
  if (count < 1) return 1;
  const threads = await nodeBuiltin<WorkerThreads>('worker_threads');
  const memory = wasmHeap().memory;
  while (workers.length < count) {
    const slot = HEADER + workers.length * SLOT;
    control.fill(0, slot, slot + SLOT);
    const workerData = { memory, control: control.buffer, slot };
    const worker = new threads.Worker(WORKER_SOURCE, { eval: true, workerData });
    worker.on('error', (error) => (broken ??= error));
    worker.unref();
    workers.push({ worker, posted: 0 });
  }
  const deadline = Date.now() + 10_000;
  while (readyWorkers() < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  return readyWorkers() + 1;
}

/** Workers that have started, counted from the first. */
function readyWorkers(): number {
  let n = 0;
  while (n < workers.length && Atomics.load(control, HEADER + n * SLOT + READY) === 1) n++;
  return n;
}

/** Threads a kernel can be split over right now (at most the thread count; 1 while workers start). */
export function availableThreads(): number {
  if (!poolPossible()) return 1;
  if (!coresKnown || workers.length < getNumThreads() - 1) void threadsReady();
  return Math.min(getNumThreads(), readyWorkers() + 1);
}

/**
 * Runs `kernel`'s entry once per job, with the job's int32 arguments: job 0 here, the rest
 * on workers 0, 1, …; returns when every job is done. At most availableThreads() jobs.
 */
export function runJobs(kernel: WasmKernel, jobs: readonly (readonly number[])[]): void {
  if (jobs.length - 1 > readyWorkers()) {
    throw new InternalError(`wasm threads: ${jobs.length} jobs, ${readyWorkers()} workers ready`);
  }
  Atomics.store(control, PENDING, jobs.length - 1);
  for (let j = 1; j < jobs.length; j++) {
    const pw = workers[j - 1]!;
    // Workers instantiate kernels in id order, so every kernel up to this one is posted first.
    for (; pw.posted <= kernel.id; pw.posted++) {
      const k = wasmKernelById(pw.posted)!;
      pw.worker.postMessage({ module: k.module, entry: k.entry });
    }
    const slot = HEADER + (j - 1) * SLOT;
    const args = jobs[j]!;
    if (args.length > MAX_ARGS) throw new InternalError(`wasm threads: ${args.length} arguments, at most ${MAX_ARGS}`);
    control[slot + KERNEL] = kernel.id;
    control[slot + ARGC] = args.length;
    for (let i = 0; i < args.length; i++) control[slot + ARGS + i] = args[i]!;
    Atomics.add(control, slot + SEQ, 1);
    Atomics.notify(control, slot + SEQ);
  }
  kernel.exports[kernel.entry]!(...jobs[0]!);
  for (let left = Atomics.load(control, PENDING); left !== 0; left = Atomics.load(control, PENDING)) {
    Atomics.wait(control, PENDING, left);
  }
  if (Atomics.exchange(control, FAILED, 0) !== 0) {
    throw new InternalError('wasm threads: a worker failed to run its job');
  }
}
