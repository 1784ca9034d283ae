import '../lambdas/core/polyfills.ts';
