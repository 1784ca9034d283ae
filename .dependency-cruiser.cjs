// The import rules of docs/architecture.md, checked by `npm run deps` (part of `npm test`).
// A rule's name is what a failing check prints: keep each name the rule's sentence in that page.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- dependency-cruiser loads this file as CommonJS
const { builtinModules } = require('node:module');

/** Every folder of the project's own code: a dependency matching this is ours, not a package or a Node module. */
const PROJECT = '^(bin|lib|lambdas|stepfunctions|localstack|dashboard|dbt|test|bench|scripts|types)/';

/** A Node built-in, as dependency-cruiser names it: `node:fs`, or `fs` when imported without the scheme. */
const NODE_BUILTIN = `^(node:.*|${builtinModules.join('|')})$`;

module.exports = {
  forbidden: [
    {
      name: 'lambda-imports-only-core-and-its-own-folder',
      comment:
        'A Lambda function (lambdas/<fn>/) is bundled on its own: it imports lambdas/core and its own folder, ' +
        'never another function, the dashboard, the local stand-ins, the CDK app or the CLI.',
      severity: 'error',
      from: { path: '^lambdas/([^/]+)/', pathNot: '^lambdas/core/' },
      to: { path: PROJECT, pathNot: '^lambdas/(core|$1)/' },
    },
    {
      name: 'core-imports-only-itself',
      comment:
        'lambdas/core is the domain core every other folder builds on: it imports nothing of the project outside itself.',
      severity: 'error',
      from: { path: '^lambdas/core/' },
      to: { path: PROJECT, pathNot: '^lambdas/core/' },
    },
    {
      name: 'stepfunctions-imports-only-core-and-cdk',
      comment:
        'stepfunctions/ is the workflow definition the CDK app deploys: it imports lambdas/core and the CDK ' +
        '(aws-cdk-lib, constructs), nothing else; running it locally lives in localstack/workflow/.',
      severity: 'error',
      from: { path: '^stepfunctions/' },
      to: { pathNot: ['^(stepfunctions|lambdas/core)/', '^node_modules/(aws-cdk-lib|constructs)/'] },
    },
    {
      name: 'cdk-app-imports-no-stand-in-and-no-cli',
      comment:
        'lib/ (the CDK app) describes what is deployed: it never imports the local stand-ins, the CLI, the ' +
        'dashboard, the tests or the benchmarks.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(localstack|bin|dashboard|test|bench|scripts)/' },
    },
    {
      name: 'cdk-app-reads-only-a-functions-env-contract',
      comment:
        "lib/ wires a function by its environment contract (lambdas/<fn>/env.ts) and its handler's path; it " +
        "never imports the function's code.",
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^lambdas/([^/]+)/', pathNot: ['^lambdas/core/', '^lambdas/[^/]+/env\\.ts$'] },
    },
    {
      name: 'handler-is-an-entry-point',
      comment:
        "A function's handler.ts is thin wiring that only Lambda (and the CLI, which runs it in-process) calls; " +
        "what others need lives in the function's core module.",
      severity: 'error',
      from: { path: '^(lib|lambdas|stepfunctions|localstack|dashboard|bench|scripts)/' },
      to: { path: '^lambdas/[^/]+/handler\\.ts$' },
    },
    {
      name: 'stand-ins-import-no-cli',
      comment:
        'localstack/ may import every folder but bin/ (the CLI calls the stand-ins, never the reverse) and the tests.',
      severity: 'error',
      from: { path: '^localstack/' },
      to: { path: '^(bin|test|bench)/' },
    },
    {
      name: 'dashboard-imports-only-core',
      comment:
        'dashboard/ (the page and its server) reads Gold through lambdas/core: it imports nothing else of the project.',
      severity: 'error',
      from: { path: '^dashboard/' },
      to: { path: PROJECT, pathNot: '^(dashboard|lambdas/core)/' },
    },
    {
      name: 'browser-files-reach-no-node-module',
      comment:
        'A file the browser loads (dashboard/public/, lambdas/core/charts/) reaches, directly or through what it ' +
        'imports, no Node built-in and no package: the page gets ECharts as a script.',
      severity: 'error',
      // lambdas/core/charts/ is served to the page too (dashboard/server.ts maps /charts/ to it).
      from: { path: '^(dashboard/public|lambdas/core/charts)/.*\\.js$' },
      to: { path: [NODE_BUILTIN, '^node_modules/'], reachable: true },
    },
    {
      name: 'browser-files-import-only-javascript',
      comment: 'The browser runs JavaScript as it is served: a browser file imports only .js files.',
      severity: 'error',
      from: { path: '^(dashboard/public|lambdas/core/charts)/.*\\.js$' },
      to: { path: PROJECT, pathNot: '\\.js$' },
    },
    {
      name: 'shipped-code-imports-no-test',
      comment: 'Tests and benchmarks import the code, never the reverse.',
      severity: 'error',
      from: { path: '^(bin|lib|lambdas|stepfunctions|localstack|dashboard|scripts)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'lambda-imports-no-dev-dependency',
      comment:
        'A Lambda bundle is built from the dependencies that are installed in production, not the dev ones.',
      severity: 'error',
      from: { path: '^lambdas/' },
      // Type declarations (@types/aws-lambda) are erased before bundling.
      to: { dependencyTypes: ['npm-dev'], pathNot: '^node_modules/@types/' },
    },
    {
      name: 'no-unresolvable-import',
      comment: 'Every import resolves to a file or a package.',
      severity: 'error',
      from: { pathNot: '^dashboard/public/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'no-unresolvable-import',
      comment:
        "Every import of a browser file resolves, but its imports of ./charts/*.js: they are URLs the dashboard's " +
        'server answers from lambdas/core/charts/ (checked by the browser rules from there).',
      severity: 'error',
      from: { path: '^dashboard/public/' },
      to: { couldNotResolve: true, pathNot: '^\\./charts/[^/]+\\.js$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(cdk\\.out|\\.mds-|dbt/target/|dashboard/public/vendor/|coverage/)' },
    // `import type` counts: a type import still ties one folder to another.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
