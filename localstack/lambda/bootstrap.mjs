// One execution environment of the local Lambda runtime (see runtime.ts): plain JavaScript, as the Node.js
// runtime of Lambda is, with no TypeScript loader. It imports the function's bundle once (the init phase),
// then runs one invocation at a time with a Lambda context, and reports a thrown error as Lambda does
// (errorType = the error's name, errorMessage, trace).
import { parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const { entry, exportName, functionName, memoryMiB, logGroupName, region } = workerData;
const port = parentPort;

function lambdaError(err, fallbackType) {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    errorType: fallbackType ?? (e.name || 'Error'),
    errorMessage: fallbackType ? `${e.name}: ${e.message}` : e.message,
    trace: String(e.stack ?? '').split('\n'),
  };
}

let handler;
try {
  // As the Node.js runtime loads a handler: an .mjs file as ES module, a .js file (no "type": "module") as CommonJS.
  const mod = entry.endsWith('.mjs') ? await import(pathToFileURL(entry).href) : createRequire(entry)(entry);
  handler = mod[exportName];
  if (typeof handler !== 'function') {
    port.postMessage({
      type: 'initError',
      error: {
        errorType: 'Runtime.HandlerNotFound',
        errorMessage: `index.${exportName} is undefined or not exported`,
        trace: [],
      },
    });
  } else {
    port.postMessage({ type: 'ready' });
  }
} catch (err) {
  port.postMessage({ type: 'initError', error: lambdaError(err, 'Runtime.ImportModuleError') });
}

port.on('message', async (m) => {
  if (m.type !== 'invoke' || !handler) return;
  const context = {
    awsRequestId: m.requestId,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(memoryMiB),
    logGroupName,
    logStreamName: `local/[$LATEST]${m.environmentId}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, m.deadlineMs - Date.now()),
  };
  try {
    // The event and the result cross as JSON, as they do through the Lambda API.
    const payload = await handler(JSON.parse(m.event), context);
    port.postMessage({ type: 'result', requestId: m.requestId, payload: JSON.stringify(payload ?? null) });
  } catch (err) {
    port.postMessage({ type: 'error', requestId: m.requestId, error: lambdaError(err) });
  }
});
