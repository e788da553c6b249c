/** `nn` for Node: everything of the main entry's `nn`, plus safetensors files on disk. */
export * from './index.js';
export { saveSafetensors, loadSafetensors, saveModule, loadModule } from './safetensors-files.js';
