/**
 * Rendered kernels split over the worker pool by independent output ranges. A split kernel
 * takes three i32 parameters after its scalars: the range [from, to) of its outermost loop
 * (elements of a map, rows of a reduction or row kernel) and the byte address of its job's
 * scratch block. Jobs never share an output element and every sum stays inside one job, so
 * a kernel gives the same bits at any thread count; where the split would not pay (a small
 * kernel, one thread) the whole range runs on the calling thread.
 */
import { wasmHeap } from './memory.js';
import type { WasmKernel } from './modules.js';
import { MAX_ARGS } from './pool-control.js';
import { availableThreads, runJobs } from './threads.js';

/** How a rendered kernel's outermost loop splits into jobs. */
export interface SplitPlan {
  /** Iterations of the outermost loop. */
  items: number;
  /** Job boundaries fall on multiples of this (4 where the outermost loop is also the four-lane one). */
  grain: number;
  /** The whole kernel's work: elements visited (summed over passes), each weighed by its body's cost. */
  work: number;
  /** Scratch bytes each job needs (row kernels that save values), or 0. */
  scratchBytes: number;
}

/**
 * Kernels with less work stay on the calling thread. One thread does about 2^18 units in
 * 40 µs (an add over 2^18 elements; an exp over 2^14), about three times what waking a
 * worker with Atomics.notify and waiting for it cost (bench/wasm-split.ts: add over 2^12
 * elements, 0.7 µs whole, 13.4 µs split in two). That holds where the worker has a core to
 * itself: on the 2-core machine this was measured on, loaded by other work (load 13 to 20),
 * no size paid as the worker waited for a core (add over 2^18: 40.4 µs whole, 41.2 µs split);
 * since the calling thread runs the jobs no worker has taken (threads.ts), a late worker
 * costs little (add over 2^12: 1.6 µs split, was 13.4 µs).
 */
export const MIN_SPLIT_WORK = 1 << 18;

/**
 * The byte address of the count of tiles a gemm's threads have taken (each takes a tile with
 * an atomic add, compiler/codegen/wasm/gemm.ts): an i32 in the heap's first line, which the
 * allocator never hands out (runtime/wasm/memory.ts), so no buffer shares it. One count
 * serves every gemm, since a split call returns only when all its jobs are done.
 */
export const ROW_CLAIM = 0;

/**
 * Tiles a thread takes on average from a gemm split over threads. Fewer, larger tiles keep
 * more of A's rows in L2 across panels; more let a thread that gets less of its core (a loaded
 * machine) take fewer, so the threads finish together.
 */
const RANGES_PER_THREAD = 4;

/**
 * Rows a tile keeps at least, where the rows allow. A tile's micro-kernel calls reuse each
 * panel's k block (kc · nr floats) from L1 once per mr rows: a tile of 16 rows (matmul
 * 128 × 784 × 256 split in 8 by rows) reads all of B from L2 or L3 once per 8 reuses; with
 * 64 rows, once per 32, while its A rows (64 · kc floats, 128 KiB) stay in L2 for the tile's
 * panels. Products with fewer rows than RANGES_PER_THREAD · threads such tiles split their
 * panels too. (On the loaded 2-core machine this was written on, the gemm alone over
 * 128 × 784 × 256 and 128 × 256 × 256 on two threads ran within noise of 16-row ranges:
 * 558–721 µs against 565–664, 203–319 against 212–320; bench/gemm-step.ts.)
 */
const MIN_TILE_ROWS = 64;

/** How a gemm over `rows` rows and `panels` column panels splits into tiles: rows (a multiple of mr) by panels. */
export interface GemmTiles {
  rows: number;
  panels: number;
}

/**
 * The tiles a gemm's threads take from each of its `products` (a batched matmul): a whole
 * product as one tile on one thread or where there are products enough; else ranges of
 * whole micro-kernel blocks of rows, about RANGES_PER_THREAD a thread in all, split further
 * by panels where that would leave a tile fewer than MIN_TILE_ROWS rows. Each element of C
 * stays in one tile, summed over k in order, so the tiling never changes a bit.
 */
export function gemmTiles(rows: number, panels: number, mr: number, threads: number, products = 1): GemmTiles {
  if (threads === 1 || products >= threads * RANGES_PER_THREAD) return { rows, panels };
  const target = Math.ceil((threads * RANGES_PER_THREAD) / products), units = Math.ceil(rows / mr);
  const down = Math.max(1, Math.min(target, Math.floor(rows / MIN_TILE_ROWS)));
  const across = Math.min(panels, Math.ceil(target / down));
  return { rows: Math.ceil(units / down) * mr, panels: Math.ceil(panels / across) };
}

/** ROW_CLAIM set to zero for a gemm split over `threads` threads, and its tiles. */
export function tileClaim(
  rows: number, panels: number, mr: number, threads: number, products = 1,
): { at: number } & GemmTiles {
  wasmHeap().elements('int32')[ROW_CLAIM / 4] = 0;
  return { at: ROW_CLAIM, ...gemmTiles(rows, panels, mr, threads, products) };
}

/** Split calls so far, and the jobs they ran (the calling thread's included). */
export const splitCounts = { calls: 0, jobs: 0 };

/**
 * A scratch address in a block of 4096 spare bytes at `ptr`, half a page away (mod 4096)
 * from page-aligned addresses: a row kernel stores scratch[i] while it loads row[i], and
 * with rows of 1024 float32s both would share their low 12 address bits, which the CPU
 * mistakes for a store the load must wait on (4K aliasing). Measured on softmax
 * [4096,1024] on one thread (its exp row saved): 57.3 ms with aliasing scratch, 28.5 ms skewed
 * (fastest of 21 runs each).
 */
function skew(ptr: number): number {
  return ptr + ((HALF_PAGE - (ptr % 4096) + 4096) % 4096);
}

const HALF_PAGE = 2048 + 64;

/** `entry` with its leading size parameters bound to `sizes` (a size-generic module's member). */
export function withSizes(entry: (...args: number[]) => void, sizes: readonly number[]): (...args: number[]) => void {
  return sizes.length === 0 ? entry : entry.bind(undefined, ...sizes);
}

/**
 * `entry` over its whole range on the calling thread: called with its own arguments, then the
 * range 0…items and the scratch block. Specialised by arity (a Wasm export's length is its
 * parameter count), since collecting and spreading a rest array on every call of a small
 * kernel was most of a lifted loop's iteration on this engine.
 */
function wholeRange(entry: (...args: number[]) => void, items: number, block: number): (...args: number[]) => void {
  switch (entry.length - 3) {
    case 2: return (a, b) => entry(a, b, 0, items, block);
    case 4: return (a, b, c, d) => entry(a, b, c, d, 0, items, block);
    case 6: return (a, b, c, d, e, f) => entry(a, b, c, d, e, f, 0, items, block);
    case 8: return (a, b, c, d, e, f, g, h) => entry(a, b, c, d, e, f, g, h, 0, items, block);
    case 10: return (a, b, c, d, e, f, g, h, i, j) => entry(a, b, c, d, e, f, g, h, i, j, 0, items, block);
    default: return (...args: number[]) => entry(...args, 0, items, block);
  }
}

/**
 * The kernel's entry as the backend calls it (address…, offset…, scalar…), running over its
 * whole range on the calling thread or split into jobs over the pool. `scratch` allocates a
 * job's scratch block; blocks are kept for the kernel's life, one per job it has run. The
 * module's leading size parameters are bound to `sizes`.
 */
export function splitKernel(
  kernel: WasmKernel, plan: SplitPlan, scratch: (bytes: number) => number, sizes: readonly number[] = [],
): (...args: number[]) => void {
  const entry = withSizes(kernel.exports[kernel.entry]!, sizes);
  const block = () => (plan.scratchBytes > 0 ? skew(scratch(plan.scratchBytes + 4096)) : 0);
  const blocks = [block()];
  const units = Math.ceil(plan.items / plan.grain);
  const whole = wholeRange(entry, plan.items, blocks[0]!);
  if (plan.work < MIN_SPLIT_WORK || units < 2) return whole;
  return (...args: number[]) => {
    const threads = Math.min(availableThreads(), units);
    if (threads < 2 || sizes.length + args.length + 3 > MAX_ARGS) return whole(...args);
    while (blocks.length < threads) blocks.push(block());
    const per = Math.ceil(units / threads) * plan.grain;
    const jobs: number[][] = [];
    for (let from = 0; from < plan.items; from += per) {
      jobs.push([...sizes, ...args, from, Math.min(plan.items, from + per), blocks[jobs.length]!]);
    }
    splitCounts.calls++;
    splitCounts.jobs += jobs.length;
    runJobs(kernel, jobs);
  };
}
