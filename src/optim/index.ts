/** Optimizers and learning-rate schedules. */
export { Optimizer, type ParamGroup, type ParamState, type OptimizerState } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { Adagrad, type AdagradOptions } from './adagrad.js';
export { LRScheduler, StepLR, CosineAnnealingLR, LinearLR } from './schedulers.js';
