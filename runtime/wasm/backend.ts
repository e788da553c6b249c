/**
 * The CPU backend of the WebAssembly engine: every buffer is a range of the one
 * WebAssembly.Memory of ./memory.ts (shared when threads can use it), and a kernel is one of
 *
 * - a Wasm module the renderer emitted, called with every arg's byte address, every arg's
 *   element offset and the scalars (as float64), so it reads and writes the memory in place;
 * - a host kernel (the float32 matmul's driver), given the same addresses and offsets, that
 *   packs and calls Wasm itself;
 * - a JavaScript kernel for specs the Wasm renderer has no code for, run over typed-array
 *   views of the memory taken at launch (a view taken earlier could belong to a memory that
 *   has grown since).
 *
 * Launches run at once, in order. Reads return fresh typed arrays, never views of the memory.
 * Every address is read through `address`, which restores a buffer spilled to the JavaScript
 * heap (see ./residency.ts).
 */
import type { Backend, Launch } from '../backend.js';
import { compileCpuKernel, type CpuKernel } from '../cpu/compile.js';
import { ARRAY_OF, itemSize, type DType, type TypedArray } from '../dtype.js';
import { DeviceError, ValueError } from '../errors.js';
import { sequence } from '../fixed-call.js';
import { unreachable } from '../unreachable.js';
import { bindElementCopy, bindElementRead, bindJavascript, bindModule } from './bind.js';
import { MAX_PAGES, wasmHeap, type WasmHeap } from './memory.js';
import { moduleKey, wasmKernel } from './modules.js';
import { Residency, type SpillStats, type WasmBuffer } from './residency.js';
import { splitKernel, withSizes, type SplitPlan } from './split.js';

export type { WasmBuffer } from './residency.js';

/** What a renderer gives the Wasm backend for a spec. */
export type WasmProgram =
  /**
   * A module exporting `entry`: (size…, address…, offset…: i32, scalar…: f64) -> (), its
   * size parameters bound to `sizes`; with `split`, see ./split.ts. With `check`, the entry
   * returns a code that `check` turns into an error (an index out of range), or accepts.
   * With `twin`, a JavaScript kernel computing the same bits, which bound launches call
   * instead (a tiny kernel in a lifted loop: see compiler/codegen/wasm/render-small.ts).
   */
  | {
    kind: 'wasm'; bytes: Uint8Array; entry: string; split?: SplitPlan; sizes: readonly number[];
    check?: (code: number) => void; twin?: JavaScriptTwin;
  }
  /** A driver in JavaScript over addresses, offsets and scalars. */
  | { kind: 'host'; run: (addresses: readonly number[], offsets: readonly number[], scalars: readonly number[]) => void }
  /** Generated JavaScript (the CPU calling convention) over views of the args as `dtypes`. */
  | { kind: 'js'; source: string; helpers: object; dtypes: readonly DType[] };

/** Generated JavaScript (the CPU calling convention) over views of the args as `dtypes`. */
export interface JavaScriptTwin {
  source: string;
  helpers: object;
  dtypes: readonly DType[];
}

/** The memory a rendered module must import: shared or not, its largest size in pages. */
export interface WasmTarget {
  shared: boolean;
  maxPages: number;
}

/** A compiled program, ready to launch. */
export type WasmBackendKernel =
  | { kind: 'wasm'; fn: (...args: number[]) => void; twin: { fn: CpuKernel; dtypes: readonly DType[] } | undefined }
  | { kind: 'host'; run: (addresses: readonly number[], offsets: readonly number[], scalars: readonly number[]) => void }
  /** `views`: the views of the memory its last launch passed, per arg, kept while they hold the arg's buffer. */
  | { kind: 'js'; fn: CpuKernel; dtypes: readonly DType[]; views: TypedArray[] };

/** What the compile log shows of a program: the JavaScript source, or what the module or driver is and its key. */
function describe(program: WasmProgram, key: string): string {
  switch (program.kind) {
    case 'wasm': return `(wasm module of ${program.bytes.length} bytes) ${key}`;
    case 'host': return `(host driver over Wasm kernels) ${key}`;
    case 'js': return program.source;
    default: return unreachable(program, 'wasm backend: program');
  }
}

/** The largest buffer a 32-bit memory can hold. */
const MAX_BYTES = MAX_PAGES * 65536;

/** Buffers in one WebAssembly.Memory; `render` turns a spec into a WasmProgram for the memory it targets. */
export class WasmBackend<Spec> implements Backend<WasmBuffer, WasmBackendKernel, Spec> {
  readonly device = 'cpu';
  private readonly kernels = new Map<string, WasmBackendKernel>();
  private readonly residency = new Residency(wasmHeap);
  /** A JavaScript kernel's element offsets, filled at each launch (launches never nest). */
  private readonly offsets: number[] = [];
  /** Scratch blocks of compiled kernels, given back by destroy. */
  private readonly scratch: number[] = [];
  /** Kernels compiled so far, by what runs them (Wasm modules, host drivers, JavaScript over the memory). */
  readonly compiled: Record<WasmProgram['kind'], number> = { wasm: 0, host: 0, js: 0 };
  /** Modules compiled with a JavaScript twin so far. */
  twins = 0;
  /** Called with a description of every kernel compiled from now on (for logging): JS source, or the module's size. */
  onCompile: ((source: string) => void) | undefined;

  constructor(private readonly render: (spec: Spec, target: WasmTarget) => WasmProgram) {}

  private get heap(): WasmHeap {
    return wasmHeap();
  }

  alloc(dtype: DType, elements: number, uninitialised = false): WasmBuffer {
    if (!Number.isSafeInteger(elements) || elements < 0) {
      throw new ValueError(`cpu: cannot allocate ${elements} elements of ${dtype} (expected a non-negative integer)`);
    }
    const bytes = elements * itemSize(dtype);
    if (bytes > MAX_BYTES) {
      throw new DeviceError(
        `cpu: a ${dtype} buffer of ${elements} elements (${bytes} bytes) does not fit in the 4 GiB WebAssembly memory; ` +
        'use the JavaScript engine (KILN_CPU=js) or split the tensor');
    }
    return this.residency.alloc(dtype, elements, bytes, !uninitialised);
  }

  free(buffer: WasmBuffer): void {
    this.residency.free(buffer);
  }

  /**
   * The byte address of `b` in the memory, restoring it first if it was spilled; every launch
   * reads addresses here (bound, so launches can pass it on).
   */
  private readonly address = (b: WasmBuffer): number => this.residency.address(b);

  /** Keeps `buffer` in the memory from now on (a compiled program's own buffers, used on every call). */
  pin(buffer: WasmBuffer): void {
    this.residency.pin(buffer);
  }

  /** Sets the bytes in use past which an allocation spills the buffers used least recently (default 64 MiB). */
  setSpillThreshold(bytes: number): void {
    this.residency.setThreshold(bytes);
  }

  /** Spill passes, buffers spilled and restored so far, and the spill threshold now. */
  spillStats(): SpillStats {
    return this.residency.stats();
  }

  /** Element index of `offset` in `buffer` as a view of `dtype`, after checking `length` elements fit. */
  private at(buffer: WasmBuffer, dtype: DType, offset: number, length: number, what: string): number {
    const size = itemSize(dtype);
    if (!Number.isSafeInteger(offset) || offset < 0 || (offset + length) * size > buffer.bytes) {
      const range = `${length} ${dtype} elements at ${offset}`;
      throw new ValueError(`cpu: ${what} of ${range} is outside a buffer of ${buffer.bytes} bytes`);
    }
    return this.address(buffer) / size + offset;
  }

  write(buffer: WasmBuffer, dtype: DType, data: TypedArray, offset = 0): void {
    const start = this.at(buffer, dtype, offset, data.length, 'write');
    this.heap.elements(dtype).set(data, start);
  }

  readonly readSync = (buffer: WasmBuffer, dtype: DType, offset: number, length: number): TypedArray => {
    const start = this.at(buffer, dtype, offset, length, 'read');
    // A fresh, unshared array: nothing the caller holds aliases the memory. Filled by set, not
    // made by slice, which measured 35× slower over a shared memory in Node 20 (800 KiB: 20 ms).
    const out = new ARRAY_OF[dtype](length);
    out.set(this.heap.elements(dtype).subarray(start, start + length));
    return out;
  };

  read(buffer: WasmBuffer, dtype: DType, offset: number, length: number): Promise<TypedArray> {
    return Promise.resolve(this.readSync(buffer, dtype, offset, length));
  }

  copy(src: WasmBuffer, srcOffset: number, dst: WasmBuffer, dstOffset: number, length: number): void {
    // Restoring the target allocates but never spills: the source stays where `from` says.
    const from = this.at(src, src.dtype, srcOffset, length, 'copy source');
    const to = this.at(dst, src.dtype, dstOffset, length, 'copy target');
    this.heap.elements(src.dtype).copyWithin(to, from, from + length);
  }

  compile(key: string, spec: () => Spec): WasmBackendKernel {
    // The hit path alone, small enough to inline: a replay asks for every step's kernel per call.
    return this.kernels.get(key) ?? this.compileNew(key, spec);
  }

  /** Renders and compiles the kernel of `key`, and keeps it. */
  private compileNew(key: string, spec: () => Spec): WasmBackendKernel {
    let k: WasmBackendKernel;
    const heap = this.heap;
    const scratch = (bytes: number) => {
      const ptr = heap.alloc(bytes);
      this.scratch.push(ptr);
      return ptr;
    };
    const program = this.render(spec(), { shared: heap.shared, maxPages: MAX_PAGES });
    switch (program.kind) {
      case 'wasm': {
        const kernel = wasmKernel(moduleKey(program.bytes), program.entry, () => program.bytes);
        const { split, sizes, check } = program;
        const entry = withSizes(kernel.exports[program.entry]!, sizes) as (...args: number[]) => number;
        const fn = check ? (...args: number[]) => check(entry(...args)) : entry;
        // Every module's kernel has the field, so launches see one object shape.
        k = { kind: 'wasm', fn: split ? splitKernel(kernel, split, scratch, sizes) : fn, twin: undefined };
        const { twin } = program;
        if (twin !== undefined) {
          k.twin = { fn: compileCpuKernel(twin.source, twin.helpers), dtypes: twin.dtypes };
          this.twins++;
        }
        break;
      }
      case 'host': k = program; break;
      case 'js': {
        const fn = compileCpuKernel(program.source, program.helpers);
        k = { kind: 'js', fn, dtypes: program.dtypes, views: [] };
        break;
      }
      default: unreachable(program, 'wasm backend: program');
    }
    this.kernels.set(key, k);
    this.compiled[program.kind]++;
    this.onCompile?.(describe(program, key));
    return k;
  }

  run(launches: readonly Launch<WasmBuffer, WasmBackendKernel>[]): void {
    for (const launch of launches) this.launch(launch);
  }

  /**
   * Modules and host drivers get their offsets and scalars once and read the buffers'
   * addresses again only when the residency's epoch changed (./bind.ts), JavaScript kernels
   * their offsets and views of the memory (taken again when the memory grew, too).
   */
  bind(launches: readonly Launch<WasmBuffer, WasmBackendKernel>[]): () => void {
    const at = this.residency;
    return sequence(launches.map((launch) => {
      const { kernel, args, scalars } = launch;
      switch (kernel.kind) {
        case 'wasm':
          return kernel.twin === undefined ? bindModule(kernel.fn, args, scalars, at)
            : bindJavascript(this.heap, kernel.twin.fn, kernel.twin.dtypes, args, scalars, at);
        case 'host': {
          const buffers = args.map((a) => a.data), offsets = args.map((a) => a.offset), kept = scalars.slice();
          const addresses = new Array<number>(buffers.length);
          let epoch = -1;
          return () => {
            if (epoch !== at.epoch) {
              for (let i = 0; i < buffers.length; i++) addresses[i] = at.address(buffers[i]!);
              epoch = at.epoch;
            }
            kernel.run(addresses, offsets, kept);
          };
        }
        case 'js': return bindJavascript(this.heap, kernel.fn, kernel.dtypes, args, scalars, at);
        default: return unreachable(kernel, 'wasm backend: kernel');
      }
    }));
  }

  bindCopy(src: WasmBuffer, srcOffset: number, dst: WasmBuffer, dstOffset: number, length: number): () => void {
    this.at(src, src.dtype, srcOffset, length, 'copy source');
    this.at(dst, src.dtype, dstOffset, length, 'copy target');
    return bindElementCopy(this.heap, src.dtype, src, srcOffset, dst, dstOffset, length, this.residency);
  }

  /**
   * Element `index` of `buffer` as `dtype` (half bits for float16), read in place: a guard on
   * one element read through readSync made two typed arrays per guard, which a guarded
   * loop's replay then had to collect.
   */
  readElement(buffer: WasmBuffer, dtype: DType, index: number): number {
    const at = this.at(buffer, dtype, index, 1, 'read');
    return this.heap.elements(dtype)[at]!;
  }

  readonly bindRead = (buffer: WasmBuffer, dtype: DType, offset: number): (() => number) => {
    this.at(buffer, dtype, offset, 1, 'read');
    return bindElementRead(this.heap, dtype, buffer, offset, this.residency);
  };

  private launch({ kernel, args, scalars }: Launch<WasmBuffer, WasmBackendKernel>): void {
    switch (kernel.kind) {
      case 'wasm': {
        // Every arg's address, then every element offset, then the scalars; most eager ops have
        // up to four buffers and no scalar, and a direct call skips building and spreading an array.
        const fn = kernel.fn, at = this.address, n = args.length;
        if (scalars.length === 0 && n <= 5) {
          const [a, b, c, d, e] = args;
          switch (n) {
            case 1: fn(at(a!.data), a!.offset); return;
            case 2: fn(at(a!.data), at(b!.data), a!.offset, b!.offset); return;
            case 3: fn(at(a!.data), at(b!.data), at(c!.data), a!.offset, b!.offset, c!.offset); return;
            case 4:
              fn(at(a!.data), at(b!.data), at(c!.data), at(d!.data), a!.offset, b!.offset, c!.offset, d!.offset);
              return;
            // Three outputs and two inputs: a guarded loop's fused iteration (both values and the condition).
            case 5:
              fn(at(a!.data), at(b!.data), at(c!.data), at(d!.data), at(e!.data),
                a!.offset, b!.offset, c!.offset, d!.offset, e!.offset);
              return;
          }
        }
        const argv = new Array<number>(2 * n + scalars.length);
        for (let i = 0; i < n; i++) {
          argv[i] = at(args[i]!.data);
          argv[n + i] = args[i]!.offset;
        }
        for (let i = 0; i < scalars.length; i++) argv[2 * n + i] = scalars[i]!;
        fn(...argv);
        break;
      }
      case 'host': kernel.run(args.map((a) => this.address(a.data)), args.map((a) => a.offset), scalars); break;
      case 'js': {
        // Views of the whole memory, each arg's offset counted from the memory's start: making
        // a view per arg cost more than a small kernel. Offsets first: restoring a spilled
        // buffer may grow the memory, and so replace its views.
        const fn = kernel.fn, n = args.length, o = this.offsets, v = kernel.views;
        for (let i = 0; i < n; i++) {
          const { data, offset } = args[i]!;
          o[i] = this.address(data) / itemSize(kernel.dtypes[i] ?? data.dtype) + offset;
        }
        // A kept view serves while it reaches past the buffer (a grown memory detaches an
        // unshared memory's views: length 0); taking the heap's view per arg per launch
        // made a launch of a one-element kernel cost more than its Wasm form.
        for (let i = 0; i < n; i++) {
          const { data } = args[i]!, view = v[i];
          if (view === undefined || view.byteLength < data.ptr + data.bytes) {
            v[i] = this.heap.elements(kernel.dtypes[i] ?? data.dtype);
          }
        }
        if (scalars.length === 0) {
          switch (n) {
            case 1: fn(v[0], o[0]); return;
            case 2: fn(v[0], v[1], o[0], o[1]); return;
            case 3: fn(v[0], v[1], v[2], o[0], o[1], o[2]); return;
            case 4: fn(v[0], v[1], v[2], v[3], o[0], o[1], o[2], o[3]); return;
          }
        }
        fn(...v.slice(0, n), ...o.slice(0, n), ...scalars);
        break;
      }
      default: unreachable(kernel, 'wasm backend: kernel');
    }
  }

  /** Launches have run by the time `run` returns. */
  flush(): void {}

  sync(): Promise<void> {
    return Promise.resolve();
  }

  /** Bytes of the buffers handed out and not freed (in the memory or spilled). */
  liveBytes(): number {
    return this.residency.liveBytes;
  }

  destroy(): void {
    this.residency.freeAll();
    for (const ptr of this.scratch) this.heap.free(ptr);
    this.scratch.length = 0;
    this.kernels.clear();
  }
}
