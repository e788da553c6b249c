/**
 * Worker threads that run Wasm kernels on the shared heap. A large kernel is split by its
 * caller into jobs over independent output ranges: job 0 runs on the calling thread, the
 * others on workers (or on the calling thread, once its own is done, where no worker has
 * taken them yet), and the call returns when all are done. No job reads what another writes
 * and no sum is split across jobs, so results are bitwise the same at any thread count.
 *
 * In Node the pool is made of worker_threads, imported dynamically on first use, so nothing
 * Node-specific loads with kiln. Workers wait for jobs with Atomics.wait on a shared control
 * block (a message round trip costs tens of microseconds; a notify a few) and are unref'd,
 * so an idle pool never keeps a process alive. In a browser the pool is made of module Web
 * Workers (runtime/wasm/web-worker.ts) where the page is cross-origin isolated, which shared
 * memory needs; a page's main thread may not block, so there it spins on the control block
 * while workers finish. A page that is not isolated runs kernels on the calling thread and
 * says so once.
 */
import { InternalError, ValueError } from '../errors.js';
import { wasmKernels } from './engine.js';
import { wasmFeatures } from './features.js';
import { wasmHeap } from './memory.js';
import { wasmKernelById, type WasmKernel } from './modules.js';
import {
  ARGC, ARGS, argIndex, FAILED, HEADER, KERNEL, MAX_ARGS, MAX_WORKERS, PENDING, POSTED, READY, SEQ, SLOT, STATE,
  TAKEN,
} from './pool-control.js';
import type { PostedKernel, WorkerInit } from './web-worker.js';

/** The worker's program (CommonJS, evaluated in the worker). */
const WORKER_SOURCE = `
const { workerData, parentPort, receiveMessageOnPort } = require('node:worker_threads');
const { memory, control, slot } = workerData;
const ctl = new Int32Array(control);
const numbers = new Float64Array(control);
const kernels = [];
Atomics.store(ctl, slot + ${READY}, 1);
let seen = 0;
for (;;) {
  Atomics.wait(ctl, slot + ${SEQ}, seen);
  const seq = Atomics.load(ctl, slot + ${SEQ});
  if (seq === seen) continue;
  seen = seq;
  if (Atomics.compareExchange(ctl, slot + ${STATE}, ${POSTED}, ${TAKEN}) !== ${POSTED}) continue;
  try {
    const id = ctl[slot + ${KERNEL}];
    while (kernels.length <= id) {
      const posted = receiveMessageOnPort(parentPort);
      if (posted === undefined) throw new Error('kernel ' + id + ' was never posted');
      const { module, entry } = posted.message;
      kernels.push(new WebAssembly.Instance(module, { env: { memory } }).exports[entry]);
    }
    const args = [];
    for (let i = 0; i < ctl[slot + ${ARGC}]; i++) args.push(numbers[(slot + ${ARGS}) / 2 + i]);
    kernels[id](...args);
  } catch (e) {
    Atomics.store(ctl, ${FAILED}, 1);
  }
  if (Atomics.sub(ctl, ${PENDING}, 1) === 1) Atomics.notify(ctl, ${PENDING});
}
`;

/** What the pool does with a worker once started, in Node and in a browser alike. */
interface Poster {
  postMessage(message: PostedKernel): void;
}

interface NodeWorker extends Poster {
  unref(): void;
  on(event: 'error', listener: (error: unknown) => void): void;
}

interface WorkerThreads {
  Worker: new (source: string, options: { eval: true; workerData: WorkerInit }) => NodeWorker;
}

/** A module Web Worker, as far as the pool uses it (kiln is typed without the DOM). */
interface WebWorker {
  postMessage(message: WorkerInit | PostedKernel): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

/** The browser's Worker constructor; it exists only where `hasWebWorkers` says so. */
declare const Worker: new (url: URL, options: { type: 'module' }) => WebWorker;

/**
 * A Node built-in, imported by a specifier bundlers do not see, so a browser bundle of kiln
 * neither resolves nor warns about it (this runs only in Node).
 */
function nodeBuiltin<T>(name: 'os' | 'worker_threads'): Promise<T> {
  const specifier = `node:${name}`;
  return import(/* @vite-ignore */ specifier) as Promise<T>;
}

interface PoolWorker {
  worker: Poster;
  /** Kernels posted to it so far (ids 0 … posted - 1). */
  posted: number;
}

type NodeProcess = { env?: Record<string, string | undefined>; versions?: { node?: string } };
const env = (globalThis as { process?: NodeProcess }).process;
const isNode = typeof env?.versions?.node === 'string';
/** A browser (a page or a worker) that can start module Web Workers. */
const hasWebWorkers = !isNode && typeof Worker === 'function';

let requested: number | undefined;
const navigatorCores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
let cores = Math.max(1, navigatorCores ?? 1);
/** Node 20 has no navigator: its core count comes from node:os when the pool first starts. */
let coresKnown = !isNode;
const control = new Int32Array(controlBuffer(HEADER + MAX_WORKERS * SLOT));
const controlNumbers = new Float64Array(control.buffer);
const workers: PoolWorker[] = [];
let starting: Promise<number> | undefined;
let busy = false;
/**
 * The first error a worker raised (it could not start, or died). From then on kernels run
 * on the calling thread only: a dead worker would never finish its job.
 */
let broken: unknown;
/** Whether this thread may block in Atomics.wait (a page's main thread may not), probed on the first split kernel. */
let canBlock: boolean | undefined;
/** Whether the line saying why a page runs single-threaded has been printed. */
let saidSingleThreaded = false;

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
  return (isNode || hasWebWorkers) && broken === undefined && wasmFeatures().sharedMemory && wasmKernels();
}

/**
 * In a page that is not cross-origin isolated, says once (an info line, not an error: the
 * page works, on one thread) why Wasm kernels do not use the cores the thread count asks for.
 */
function sayWhySingleThreaded(): void {
  if (saidSingleThreaded || isNode || !wasmKernels() || getNumThreads() < 2) return;
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false) return;
  saidSingleThreaded = true;
  console.info(
    '[kiln] cpu: WebAssembly kernels run on one thread: this page is not cross-origin isolated, so it cannot share '
    + 'memory with workers (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: '
    + 'require-corp; kiln/vite sends them with crossOriginIsolation: true)',
  );
}

/**
 * Starts the workers the thread count asks for (where memory can be shared) and resolves
 * with the number of threads kernels can use once they are up. Kernels never wait for this:
 * until workers are ready, they run on fewer threads.
 */
export function threadsReady(): Promise<number> {
  if (!poolPossible()) {
    sayWhySingleThreaded();
    return Promise.resolve(1);
  }
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
  const spawn = isNode ? await nodeSpawner() : webWorker;
  const memory = wasmHeap().memory;
  while (workers.length < count) {
    const slot = HEADER + workers.length * SLOT;
    control.fill(0, slot, slot + SLOT);
    workers.push({ worker: spawn({ memory, control: control.buffer as SharedArrayBuffer, slot }), posted: 0 });
  }
  const deadline = Date.now() + 10_000;
  while (readyWorkers() < count && broken === undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1));
  }
  return readyWorkers() + 1;
}

/** Starts worker_threads workers running WORKER_SOURCE. */
async function nodeSpawner(): Promise<(init: WorkerInit) => Poster> {
  const threads = await nodeBuiltin<WorkerThreads>('worker_threads');
  return (workerData) => {
    const worker = new threads.Worker(WORKER_SOURCE, { eval: true, workerData });
    worker.on('error', (error) => (broken ??= error));
    worker.unref();
    return worker;
  };
}

/** Starts a module Web Worker running web-worker.ts and sends it what it works on. */
function webWorker(init: WorkerInit): Poster {
  // Spelled out as bundlers look for it (`new Worker(new URL(…, import.meta.url), { type: 'module' })`),
  // so Vite and webpack emit the worker; without a bundler the URL finds web-worker.js beside this file.
  const worker = new Worker(new URL('./web-worker.js', import.meta.url), { type: 'module' });
  worker.addEventListener('error', (event) => {
    // A bundler that does not emit the worker leaves a URL with nothing behind it: the page
    // still works, on one thread, and the warning says what to fix.
    const why = (event as { message?: string }).message ?? 'its script, web-worker.js, did not load';
    if (broken === undefined) console.warn(`[kiln] cpu: a pool worker failed (${why}); kernels run on one thread now`);
    broken ??= event;
  });
  worker.postMessage(init);
  return worker;
}

/** Workers that have started, counted from the first. */
function readyWorkers(): number {
  let n = 0;
  while (n < workers.length && Atomics.load(control, HEADER + n * SLOT + READY) === 1) n++;
  return n;
}

/** Threads a kernel can be split over right now (at most the thread count; 1 while workers start). */
export function availableThreads(): number {
  if (!poolPossible()) {
    sayWhySingleThreaded();
    return 1;
  }
  if (!coresKnown || workers.length < getNumThreads() - 1) void threadsReady();
  return Math.min(getNumThreads(), readyWorkers() + 1);
}

/** Whether Atomics.wait may block here: it throws on a page's main thread, whatever the value compared. */
function atomicsWaitAllowed(): boolean {
  try {
    Atomics.wait(control, FAILED, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `kernel`'s entry once per job, with the job's arguments (i32 and f64 parameters alike,
 * as numbers): job 0 here, the rest on workers 0, 1, …; returns when every job is done. At
 * most availableThreads() jobs, each with at most MAX_ARGS arguments.
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
    for (let i = 0, at = argIndex(slot); i < args.length; i++) controlNumbers[at + i] = args[i]!;
    Atomics.store(control, slot + STATE, POSTED);
    Atomics.add(control, slot + SEQ, 1);
    Atomics.notify(control, slot + SEQ);
  }
  kernel.exports[kernel.entry]!(...jobs[0]!);
  // Jobs no worker has taken yet run here: a worker waiting for a core (a loaded machine)
  // would otherwise hold the call up for a time slice. Either thread computes the same bits.
  for (let j = 1; j < jobs.length; j++) {
    if (Atomics.compareExchange(control, HEADER + (j - 1) * SLOT + STATE, POSTED, TAKEN) !== POSTED) continue;
    kernel.exports[kernel.entry]!(...jobs[j]!);
    Atomics.sub(control, PENDING, 1);
  }
  canBlock ??= atomicsWaitAllowed();
  // Where this thread may not block, it spins: the jobs left are the same size as the one it just ran.
  for (let left = Atomics.load(control, PENDING); left !== 0; left = Atomics.load(control, PENDING)) {
    if (canBlock) Atomics.wait(control, PENDING, left);
  }
  if (Atomics.exchange(control, FAILED, 0) !== 0) {
    throw new InternalError('wasm threads: a worker failed to run its job');
  }
}
