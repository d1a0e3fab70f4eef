'use strict';
// One request, in the order of runtimes spec 1.2: early rejections, body, call, then the
// response with its log headers and log files.

const { allHeaders } = require('./request');
const { rejectEarly, parseTimeout } = require('./rejections');
const { readBody } = require('./body');
const { runCall, failure } = require('./call');
const { CallLog, stringify, headerValue, validLogId, writeLogFiles } = require('./logs');
const { FunctionLoader } = require('./loader');
const { serverError } = require('./capture');

/** Sends a call's outcome with the protocol headers, added last so they cannot be spoofed. */
function sendOutcome(res, outcome, logId) {
  for (const name of Object.keys(outcome.headers)) res.setHeader(name, outcome.headers[name]);
  if (outcome.status !== 204 && outcome.status !== 304) res.setHeader('content-length', outcome.body.length);
  res.setHeader('x-open-runtimes-logs', headerValue(outcome.logs));
  res.setHeader('x-open-runtimes-errors', headerValue(outcome.errors));
  if (logId !== null) res.setHeader('x-open-runtimes-log-id', logId);
  res.writeHead(outcome.status);
  res.end(outcome.body);
}

/**
 * Creates the request listener of the server for `config` (see config.js); `loader` defaults to
 * one for the configured entrypoint (pool mode passes its own, to load the function eagerly).
 */
function createHandler(config, loader = new FunctionLoader(config.functionDir, config.entrypoint)) {
  /** Writes the log files when the request asks for them; returns the id to echo, or null. */
  async function saveLogs(headers, logging, outcome) {
    const logId = logging ? validLogId(headers['x-open-runtimes-log-id']) : null;
    if (logId === null) return null;
    try {
      return (await writeLogFiles(config.logsDir, logId, outcome.logs, outcome.errors)) ? logId : null;
    } catch (error) {
      serverError(`Could not write log files for log id ${logId}: ${error.message}`);
      return null;
    }
  }

  async function handle(req, res, expectsContinue) {
    const headers = allHeaders(req.rawHeaders);
    if (rejectEarly(req, res, headers, config.secret, expectsContinue)) return;
    if (expectsContinue) res.writeContinue();

    const body = await readBody(req, res);
    if (body === null) return; // Too large (answered already), or the client went away.

    const logging = (headers['x-open-runtimes-logging'] || '').trim().toLowerCase() !== 'disabled';
    const callLog = new CallLog(logging);
    const timeoutMs = parseTimeout(headers['x-open-runtimes-timeout']);
    let outcome;
    try {
      outcome = await runCall(loader, req, headers, body, timeoutMs, callLog);
    } catch (error) {
      outcome = { ...failure(), logs: '', errors: logging ? stringify(error) : '' };
    }
    const logId = await saveLogs(headers, logging, outcome);
    if (!res.destroyed) sendOutcome(res, outcome, logId);
  }

  /** The listener; `expectsContinue` is true for requests with "Expect: 100-continue". */
  return function onRequest(req, res, expectsContinue = false) {
    handle(req, res, expectsContinue === true).catch((error) => {
      // A server bug: answer if still possible, and keep serving (spec 5.5).
      serverError(`Request failed: ${stringify(error)}`);
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      sendOutcome(res, { ...failure(), logs: '', errors: stringify(error) }, null);
    });
  };
}

module.exports = { createHandler };
