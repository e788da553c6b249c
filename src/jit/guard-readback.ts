/**
 * The values a speculative WebGPU replay observed (its deferred guards), brought back
 * together. Each observed GPU value is copied, at its place in the call's command batch (so
 * writes recorded after it cannot change it), into one packed buffer; once the batch is
 * submitted that buffer is read back once: one staging buffer, one map. Observed CPU values
 * (scalars the graph computes on the host) are copied when the replay reaches them.
 */
import type { Node } from '../../compiler/ir/graph.js';
import { contiguousStrides, sizeOf } from '../../compiler/ir/shape.js';
import type { DType } from '../../runtime/dtype.js';
import { InternalError } from '../../runtime/errors.js';
import { fromGpuBytes } from '../../runtime/webgpu/submit.js';
import { keep } from '../memory.js';
import { readContiguous } from '../read.js';
import { readStorage } from '../storage.js';
import { Tensor, type Device } from '../tensor.js';
import { webGpuExecutor } from './executor-webgpu.js';

/** Where an observed GPU value sits in the packed buffer, in elements (4 bytes each on the GPU). */
interface Slot {
  offset: number;
  length: number;
  dtype: DType;
}

/** Where each deferred guard's value is read from: a slot of the packed buffer, or the host. */
export interface ReadbackLayout {
  /** Packed slots of the observe nodes whose values live on the GPU. */
  slots: Map<number, Slot>;
  /** Observe nodes whose values live on the CPU. */
  host: Set<number>;
  /** Elements of the packed buffer. */
  words: number;
}

/** The layout for observe nodes `observes` (program order) of `nodes`, by the device of each observed value. */
export function readbackLayout(nodes: readonly Node[], observes: readonly number[], devices: readonly (Device | undefined)[]): ReadbackLayout {
  const layout: ReadbackLayout = { slots: new Map(), host: new Set(), words: 0 };
  for (const o of observes) {
    const x = nodes[o]!.inputs[0]!;
    if (devices[x] !== 'webgpu') {
      layout.host.add(o);
      continue;
    }
    const length = sizeOf(nodes[x]!.shape);
    layout.slots.set(o, { offset: layout.words, length, dtype: nodes[x]!.dtype });
    layout.words += length;
  }
  return layout;
}

/** One replay's observed values. */
export class GuardReadback {
  /** The packed buffer, as a tensor of raw 32-bit words that keeps it alive until released. */
  readonly #pack: Tensor | undefined;
  readonly #values = new Map<number, ArrayLike<number>>();
  #released = false;

  constructor(readonly layout: ReadbackLayout) {
    // Kept out of the call's tidy scope: the readback outlives it, and release() disposes the pack.
    this.#pack = layout.words > 0 ? keep(webGpuExecutor.empty([layout.words], 'int32')) : undefined;
  }

  /** True when observe node `node` is one of the guards this readback brings back. */
  reads(node: number): boolean {
    return this.layout.slots.has(node) || this.layout.host.has(node);
  }

  /** Observe node `node` read `t` here: its GPU elements are copied into the pack, its CPU elements now. */
  record(node: number, t: Tensor): void {
    if (this.layout.host.has(node)) {
      if (t.device !== 'cpu') throw new InternalError(`jit webgpu replay: guard %${node} reads a ${t.device} value where a cpu one was planned`);
      this.#values.set(node, readContiguous(t));
      return;
    }
    const slot = this.layout.slots.get(node);
    if (slot === undefined || t.device !== 'webgpu') throw new InternalError(`jit webgpu replay: guard %${node} has no readback slot for its ${t.device} value`);
    // The slot seen as a contiguous tensor of t's shape and dtype: every element is one word on the GPU.
    const into = new Tensor(this.#pack!.storage, t.shape, contiguousStrides(t.shape), slot.offset, t.dtype);
    try {
      webGpuExecutor.bindCopy(t, into)();
    } finally {
      into.dispose();
    }
  }

  /** Submits the call's batch and reads every observed value back (at most one readback), by observe node. */
  async values(): Promise<Map<number, ArrayLike<number>>> {
    if (this.#pack === undefined) return this.#values;
    try {
      // Read as raw 32-bit words; each slot is then decoded as its own dtype (bool is one u32 per element).
      const words = await readStorage(this.#pack.storage, 'int32', 0, this.layout.words);
      for (const [node, slot] of this.layout.slots) {
        const start = words.byteOffset + slot.offset * 4;
        this.#values.set(node, fromGpuBytes(words.buffer.slice(start, start + slot.length * 4) as ArrayBuffer, slot.dtype, slot.length));
      }
      return this.#values;
    } finally {
      this.release();
    }
  }

  /** Gives the packed buffer back to the pool (launches recorded before still write it first). */
  release(): void {
    if (this.#released || this.#pack === undefined) return;
    this.#released = true;
    this.#pack.dispose();
  }
}
