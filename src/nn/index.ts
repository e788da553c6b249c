/** Layers, losses and the Module base. */
export { Module, parameter, isParameter } from './module.js';
export { Linear, Sequential, ReLU, GELU, SiLU, Tanh, Sigmoid, Flatten, Dropout, LayerNorm, Embedding, type Layer } from './layers.js';
export { linear, dropout, layerNorm, crossEntropy, nllLoss, mseLoss, binaryCrossEntropyWithLogits, type Reduction } from './functional.js';
export * as init from './init.js';
