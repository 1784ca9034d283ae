import '../lambdas/shared/polyfills.ts';
