'use strict';
// One call (runtimes spec 1.2, steps 5 to 7): build the context, run the function against the
// timeout, and turn what it returned, or how it failed, into an outcome.

const { buildRequest, RequestError } = require('./request');
const { createResponse, toHttp, ResponseError } = require('./response');
const { stringify } = require('./logs');
const { LoadError, InvalidFunctionError } = require('./loader');
const { runCapturing } = require('./capture');
const { TimeoutError, withTimeout } = require('./timer');

const TEXT = 'text/plain; charset=utf-8';

/** The shape of every failure (spec 5.1): 500, empty body, plain text. */
function failure() {
  return { status: 500, headers: { 'content-type': TEXT }, body: Buffer.alloc(0) };
}

/** The errors text for a failed call. */
function failureText(error) {
  if (error instanceof LoadError) return `${error.message}\n${stringify(error.cause)}`;
  if (error instanceof TimeoutError || error instanceof InvalidFunctionError || error instanceof ResponseError) {
    return error.message;
  }
  return stringify(error);
}

/**
 * Runs the call for a request and resolves to {status, headers, body, logs, errors}.
 * `callLog` collects the call's logs (see logs.js); `timeoutMs` is null for no timeout.
 */
async function runCall(loader, req, headers, body, timeoutMs, callLog) {
  let context;
  try {
    context = {
      req: buildRequest(req, headers, body),
      res: createResponse(),
      log: (...args) => callLog.log(args),
      error: (...args) => callLog.error(args),
    };
  } catch (error) {
    // An internal error (spec 5.4): nothing ran, so the logs are empty.
    callLog.close();
    const text = error instanceof RequestError ? error.message : stringify(error);
    return { ...failure(), logs: '', errors: callLog.enabled ? text : '' };
  }

  let http;
  try {
    const call = runCapturing(callLog, async () => {
      const fn = await loader.load();
      return fn(context);
    });
    const result = await withTimeout(call, timeoutMs);
    callLog.close();
    http = toHttp(result);
  } catch (error) {
    callLog.close();
    callLog.fail(failureText(error));
    http = failure();
  }
  return { ...http, logs: callLog.logsText(), errors: callLog.errorsText() };
}

module.exports = { runCall, failure };
