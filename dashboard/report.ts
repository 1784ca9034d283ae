/**
 * The run report lives in the core (lambdas/core/report.ts), next to the run summary it renders, so that the
 * publisher Lambda imports it without a dashboard or browser file in its bundle. This module only forwards to
 * it for the callers that still import the report from here (the local workflow, the dashboard bench); new
 * code imports lambdas/core/report.ts.
 */
export { escapeHtml, renderRunReport } from '../lambdas/core/report.ts';
