/** safetensors files on disk (Node only, through `kiln/node`); the format itself is in safetensors.ts. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Tensor } from '../tensor.js';
import type { Module } from './module.js';
import { deserializeSafetensors, serializeSafetensors } from './safetensors.js';

/** Writes `tensors` (and optional string metadata) to a safetensors file at `path`. */
export function saveSafetensors(
  path: string,
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): void {
  writeFileSync(path, serializeSafetensors(tensors, metadata));
}

/** Reads a safetensors file from `path`. */
export function loadSafetensors(path: string): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  return deserializeSafetensors(readFileSync(path));
}

/** Saves a module's parameters and buffers (its state dict) as a safetensors file. */
export function saveModule(module: Module, path: string, metadata?: Record<string, string>): void {
  saveSafetensors(path, module.stateDict(), metadata);
}

/**
 * Loads a safetensors file into a module's parameters and buffers in place (see
 * Module.loadStateDict for `strict`); returns the file's metadata.
 */
export function loadModule(module: Module, path: string, strict = true): Record<string, string> {
  const { tensors, metadata } = loadSafetensors(path);
  module.loadStateDict(tensors, strict);
  return metadata;
}
