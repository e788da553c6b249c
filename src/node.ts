/**
 * `kiln/node`, and what `kiln` resolves to in Node: the main entry, with the conveniences
 * that need Node: `data` gains the loaders that read files (the bundled datasets by
 * default), `nn` saves and loads safetensors files, and the run-time source transform
 * (`jit(fn, { rewrite: true })`, `jit.toCode`) is loaded.
 */
import './jit/rewrite.js';

export * from './index.js';
export * as data from './data/node.js';
export * as nn from './nn/node.js';
export { loadDigits, loadIris, loadMnist } from './data/files.js';
export { dataDir, dataPath } from './data/paths.js';
export { saveSafetensors, loadSafetensors, saveModule, loadModule } from './nn/safetensors-files.js';
