// The workflows a duban worker runs (bundled once by `npm run build`: worker/bundle.ts).
export { trackerWorkflow } from './tracker';
export { digestDayWorkflow, digestWorkflow } from './digest';
export { deploymentWorkflow } from './deployment';
