/** Optimizers and learning-rate schedules. */
export { Optimizer, type ParamGroup, type ParamState, type OptimizerState } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { RMSprop, Adagrad, type RMSpropOptions, type AdagradOptions } from './rmsprop.js';
export { LRScheduler, StepLR, CosineAnnealingLR, LinearLR } from './schedulers.js';
