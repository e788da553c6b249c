/**
 * Copy-on-write shadows of the storages a speculative replay writes in place (parameters,
 * optimizer state, gradients). The replay reads and writes the shadow, so nothing the
 * caller can see changes until the replay's guards have come back. A WebGPU shadow is a
 * fresh buffer filled by a copy recorded in the call's command batch before the replay's
 * first use of the storage (hence before its first write); a CPU shadow is a copy of the
 * elements. Committing swaps each shadow's buffer into its real storage (no copy back);
 * discarding releases the shadows.
 */
import { Tensor, type Storage } from '../tensor.js';
import { allocGpuStorage } from '../device.js';

interface Shadow {
  real: Storage;
  storage: Storage;
  /** webgpu: a tensor over the whole shadow buffer, so views made and disposed by the replay never release it early. */
  holder: Tensor | undefined;
}

/** The shadows of one speculative replay. */
export class Shadows {
  readonly #byReal = new Map<Storage, Shadow>();
  readonly #byShadow = new Map<Storage, Shadow>();

  /** True when `s` already has a shadow (another input of the call shares it). */
  has(s: Storage): boolean {
    return this.#byReal.has(s);
  }

  /** `t` seen through its storage's shadow, made on first use. */
  of(t: Tensor): Tensor {
    let shadow = this.#byReal.get(t.storage);
    if (shadow === undefined) {
      shadow = makeShadow(t);
      this.#byReal.set(t.storage, shadow);
      this.#byShadow.set(shadow.storage, shadow);
    }
    return new Tensor(shadow.storage, t.shape, t.strides, t.offset, t.dtype);
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
    return [...this.#byReal.values()].flatMap((s) => (s.holder === undefined ? [] : [s.holder]));
  }

  /** Every guard held: the real storages take the shadows' elements; their old buffers go back to the pool. */
  commit(): void {
    for (const { real, storage, holder } of this.#byReal.values()) {
      if (holder === undefined) {
        real.data = storage.data;
      } else if ((real.refs ?? 0) === 0) {
        // Every tensor over the real storage was disposed meanwhile (its buffer is back in the pool): nothing to update.
        holder.dispose();
      } else {
        // Swapped, not copied: the shadow keeps the old buffer and releases it with its last tensor.
        const old = real.gpu!;
        real.gpu = storage.gpu;
        storage.gpu = old;
        holder.dispose();
      }
      real.version++;
    }
  }

  /** A guard failed (or the replay threw): the shadows' buffers go back to the pool. */
  discard(): void {
    for (const s of this.#byReal.values()) s.holder?.dispose();
  }
}

function makeShadow(t: Tensor): Shadow {
  const real = t.storage;
  // A GPU storage's `data` is empty, so this copies CPU elements only.
  const data = real.data.slice();
  if (real.gpu === undefined) return { real, storage: { data, device: real.device, version: 0 }, holder: undefined };
  const owner = real.gpu.owner;
  const gpu = allocGpuStorage(owner, t.dtype, real.gpu.length);
  owner.copy(real.gpu.buffer, 0, gpu.buffer, 0, real.gpu.length);
  const storage: Storage = { data, device: real.device, version: 0, gpu };
  return { real, storage, holder: new Tensor(storage, [gpu.length], [1], 0, t.dtype) };
}
