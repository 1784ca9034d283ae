/** The reconcile function's environment: the bucket here, the warehouse settings as for the loader. */
import { BUCKET_NAME, envContract } from '../core/env.ts';

export const reconcileEnv = envContract('the reconcile function', { BUCKET_NAME });
