/**
 * Copy-on-write shadows of the storages a replay writes in place (parameters, optimizer
 * state, gradients) while one of its guards may still fail. The replay reads and writes
 * the shadow, so nothing the caller can see changes until every guard has held. A CPU
 * shadow borrows its real storage's buffer until the replay first writes it (then it
 * copies the elements into a buffer of its own); a WebGPU shadow is a fresh buffer filled
 * by a copy recorded in the call's command batch when the replay first uses the storage (hence before its first write).
 * Committing hands each written shadow's buffer to its real storage (swapped in, not
 * copied back); discarding releases the shadows.
 */
import { borrowedStorage, freeStorage, type Storage } from '../storage.js';
import { Tensor } from '../tensor.js';
import { cpuExecutor } from './executor-cpu.js';
import type { StorageCopy } from './executor.js';
import { webGpuExecutor } from './executor-webgpu.js';

interface Shadow {
  real: Storage;
  /** The storage the replay uses; until `copy` exists (CPU only) it shares the real elements. */
  storage: Storage;
  copy: StorageCopy | undefined;
  dtype: Tensor['dtype'];
}

/** The shadows of one replay. */
export class Shadows {
  readonly #byReal = new Map<Storage, Shadow>();
  readonly #byShadow = new Map<Storage, Shadow>();

  /** `t` seen through its storage's shadow, made on first use. */
  of(t: Tensor): Tensor {
    let shadow = this.#byReal.get(t.storage);
    if (shadow === undefined) {
      const real = t.storage;
      if (real.device === 'cpu') {
        shadow = { real, storage: borrowedStorage(real), copy: undefined, dtype: t.dtype };
      } else {
        const copy = webGpuExecutor.copyStorage(real, t.dtype);
        shadow = { real, storage: copy.storage, copy, dtype: t.dtype };
      }
      this.#byReal.set(real, shadow);
      this.#byShadow.set(shadow.storage, shadow);
    }
    return new Tensor(shadow.storage, t.shape, t.strides, t.offset, t.dtype);
  }

  /** Called before the replay writes into `s`: a CPU shadow gets its own elements on its first write. */
  beforeWrite(s: Storage): void {
    const shadow = this.#byShadow.get(s);
    if (shadow === undefined || shadow.copy !== undefined || s.device !== 'cpu') return;
    const copy = cpuExecutor.copyStorage(shadow.real, shadow.dtype);
    shadow.copy = copy;
    // The shadow borrows the copy's buffer now; the copy's holder owns it until commit or discard.
    s.buffer = (copy.storage as typeof s).buffer;
  }

  /** `t` over the real storage when it is over a shadow (for results and gradients after commit); else `t`. */
  real(t: Tensor): Tensor {
    const shadow = this.#byShadow.get(t.storage);
    return shadow === undefined ? t : new Tensor(shadow.real, t.shape, t.strides, t.offset, t.dtype);
  }

  /** True when `t` is over a shadow. */
  isShadowed(t: Tensor): boolean {
    return this.#byShadow.has(t.storage);
  }

  /** Tensors that keep the shadow buffers alive while the replay waits for its guards. */
  holders(): Tensor[] {
    return [...this.#byReal.values()].flatMap((s) => (s.copy?.holder === undefined ? [] : [s.copy.holder]));
  }

  /** Every guard held: the real storages the replay wrote take their shadows' elements. */
  commit(): void {
    for (const { real, copy } of this.#byReal.values()) {
      if (copy === undefined) continue;
      if (real.device === 'cpu') cpuExecutor.adopt(real, copy);
      else webGpuExecutor.adopt(real, copy);
      real.version++;
    }
  }

  /** A guard failed (or the replay threw): the shadows' buffers go back to the pool (CPU: the allocator). */
  discard(): void {
    for (const { copy } of this.#byReal.values()) {
      if (copy === undefined) continue;
      if (copy.holder === undefined) freeStorage(copy.storage);
      else copy.holder.dispose();
    }
  }
}
