/// <reference types="@webgpu/types" />
/**
 * Compute pipelines, created asynchronously (createComputePipelineAsync, so shader
 * compilation never blocks the JS thread) and cached by WGSL text: the text is the whole
 * identity of a kernel, since every size it does not read from its uniform words is baked
 * into it. Concurrent requests for the same text share one compilation.
 */
import { InternalError } from '../errors.js';

/** What one binding of a kernel holds, in binding order. */
export type BindingType = 'read-only-storage' | 'storage' | 'uniform';

/** GPUShaderStage.COMPUTE. */
const COMPUTE = 0x4;

/** Pipelines by WGSL text, for one device. */
export class PipelineCache {
  private readonly pending = new Map<string, Promise<GPUComputePipeline>>();
  private readonly ready = new Map<string, GPUComputePipeline>();
  /** Pipelines compiled so far (cache misses). */
  compiled = 0;

  constructor(private readonly device: GPUDevice) {}

  /** The pipeline for `code` if it has finished compiling: the hot path of a repeated dispatch. */
  peek(code: string): GPUComputePipeline | undefined {
    return this.ready.get(code);
  }

  /**
   * The pipeline for `code` with an explicit layout of `bindings` (layout 'auto' would drop
   * declared bindings the shader never touches, and then the bind group would not fit).
   */
  get(code: string, bindings: readonly BindingType[]): Promise<GPUComputePipeline> {
    const done = this.ready.get(code);
    if (done !== undefined) return Promise.resolve(done);
    let p = this.pending.get(code);
    if (p === undefined) {
      p = this.create(code, bindings);
      this.pending.set(code, p);
      p.then(
        (pipeline) => { this.ready.set(code, pipeline); this.pending.delete(code); },
        () => this.pending.delete(code),
      );
    }
    return p;
  }

  /**
   * The pipeline for `code`, created synchronously on a miss (eager ops record their launch
   * at once, so they cannot wait for a compilation; a shader error then surfaces as a
   * device error at the next readback).
   */
  getNow(code: string, bindings: readonly BindingType[]): GPUComputePipeline {
    let p = this.ready.get(code);
    if (p === undefined) {
      this.compiled++;
      const device = this.device;
      const module = device.createShaderModule({ code });
      p = device.createComputePipeline({ layout: this.layout(bindings), compute: { module, entryPoint: 'main' } });
      this.ready.set(code, p);
    }
    return p;
  }

  private layout(bindings: readonly BindingType[]): GPUPipelineLayout {
    const device = this.device;
    return device.createPipelineLayout({
      bindGroupLayouts: [device.createBindGroupLayout({
        entries: bindings.map((type, binding) => ({ binding, visibility: COMPUTE, buffer: { type } })),
      })],
    });
  }

  /** Number of pipelines ready. */
  get size(): number {
    return this.ready.size;
  }

  private async create(code: string, bindings: readonly BindingType[]): Promise<GPUComputePipeline> {
    this.compiled++;
    const device = this.device;
    // A scope keeps a bad shader's validation error with this request instead of the device's uncaptured errors.
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code });
    const layout = this.layout(bindings);
    const pipeline = device.createComputePipelineAsync({ layout, compute: { module, entryPoint: 'main' } });
    const scoped = device.popErrorScope();
    try {
      const [p, error] = await Promise.all([pipeline, scoped]);
      if (error !== null) throw error;
      return p;
    } catch (e) {
      await scoped.catch(() => null);
      // Kernels are generated, so a shader that does not compile is kiln's bug: report the compiler's messages with their lines.
      const info = await module.getCompilationInfo();
      const lines = code.split('\n');
      const messages = info.messages.map((m) => `${m.type} at line ${m.lineNum}: ${m.message}\n  ${lines[m.lineNum - 1]?.trim() ?? ''}`);
      throw new InternalError(`webgpu: pipeline creation failed: ${(e as Error).message}${messages.length ? '\n' + messages.join('\n') : ''}`);
    }
  }
}
