// The workflows a duban worker runs (the worker bundles this file).
export { trackerWorkflow } from './tracker';
export { digestDayWorkflow, digestWorkflow } from './digest';
export { deploymentWorkflow } from './deployment';
