/**
 * The loader's environment: the bucket here, and the warehouse settings of `warehouseEnvironment` /
 * `warehouseConfigFromEnv` (lambdas/core/warehouse/config.ts), the contract it shares with reconcile.
 */
import { BUCKET_NAME, envContract } from '../core/env.ts';

export const loaderEnv = envContract('the loader function', { BUCKET_NAME });
