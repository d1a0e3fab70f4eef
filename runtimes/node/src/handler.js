'use strict';
// One request, in the order of runtimes spec 1.2: timeout header, secret, body size, context,
// call (raced against the timeout), response with its log headers.

const { allHeaders, buildRequest, RequestError } = require('./request');
const { createResponse, toHttp, ResponseError } = require('./response');
const { CallLog, stringify, headerValue, validLogId, writeLogFiles } = require('./logs');
const { FunctionLoader, LoadError, InvalidFunctionError } = require('./loader');
const { runCapturing, serverError } = require('./capture');

const BODY_LIMIT = 20971520;
const MAX_TIMER = 2147483647; // Node timers overflow beyond this many ms (about 24.8 days).
const TEXT = 'text/plain; charset=utf-8';
const MESSAGES = {
  timeoutHeader: 'Header "x-open-runtimes-timeout" must be an integer greater than 0.',
  unauthorized: 'Unauthorized. Provide correct "x-open-runtimes-secret" header.',
  tooLarge: `Request body too large. The limit is ${BODY_LIMIT} bytes (20 MiB).`,
};

class TimeoutError extends Error {
  constructor() {
    super('Execution timed out.');
  }
}

/**
 * Compares the sent secret with the expected one in constant time: every byte of the expected
 * secret is visited whatever the input, so the duration depends on its length only. (Written
 * out because loading Node's crypto module would cost the first request about 20 ms.)
 */
function secretMatches(sent, expected) {
  if (sent === '') return false;
  const given = Buffer.from(sent, 'utf8');
  const wanted = Buffer.from(expected, 'utf8');
  let difference = given.length ^ wanted.length;
  for (let i = 0; i < wanted.length; i += 1) {
    difference |= (given[i] | 0) ^ wanted[i];
  }
  return difference === 0;
}

/** Sends an early rejection: plain text, no log headers (spec 1.2). */
function reject(res, status, message, close) {
  const headers = { 'content-type': TEXT, 'content-length': Buffer.byteLength(message) };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(message);
}

/**
 * Rejects an oversized body with 413 and closes the connection, lingering: the rest of what the
 * client sends is discarded for a moment, so its kernel does not reset the connection (and lose
 * the 413) while it is still sending.
 */
function rejectTooLarge(req, res) {
  const socket = req.socket;
  socket.destroySoon = function lingeringClose() {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.once('close', () => clearTimeout(timer));
  };
  req.on('data', () => {});
  reject(res, 413, MESSAGES.tooLarge, true);
}

/** Reads the whole body; resolves null after answering 413 when it passes the limit mid-stream. */
function readBody(req, res) {
  return new Promise((resolve, fail) => {
    const chunks = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > BODY_LIMIT) {
        tooLarge = true;
        chunks.length = 0;
        rejectTooLarge(req, res);
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!tooLarge) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', fail);
    req.on('aborted', () => fail(new Error('request aborted')));
  });
}

/** Calls `fn` once after `ms`, even beyond the Node timer maximum; returns a cancel function. */
function longTimer(ms, fn) {
  const due = Date.now() + ms;
  let timer;
  const arm = (left) => {
    timer = setTimeout(() => {
      const rest = due - Date.now();
      if (rest > 0) arm(rest);
      else fn();
    }, Math.min(left, MAX_TIMER));
  };
  arm(ms);
  return () => clearTimeout(timer);
}

/** Races `promise` against a timeout of `ms` (null: none); rejects with TimeoutError on expiry. */
function withTimeout(promise, ms) {
  if (ms === null) return promise;
  return new Promise((resolve, fail) => {
    const cancel = longTimer(ms, () => fail(new TimeoutError()));
    promise.then((value) => { cancel(); resolve(value); }, (error) => { cancel(); fail(error); });
  });
}

/** The errors text for a failed call. */
function failureText(error) {
  if (error instanceof LoadError) return `${error.message}\n${stringify(error.cause)}`;
  if (error instanceof TimeoutError || error instanceof InvalidFunctionError || error instanceof ResponseError) {
    return error.message;
  }
  return stringify(error);
}

/** Creates the request listener of the server for `config` (see config.js). */
function createHandler(config) {
  const loader = new FunctionLoader(config.functionDir, config.entrypoint);

  /** Runs the call and returns {status, headers, body, logs, errors}: spec steps 5 to 7. */
  async function execute(req, headers, body, timeoutMs, callLog) {
    let context;
    try {
      context = {
        req: buildRequest(req, headers, body),
        res: createResponse(),
        log: (...args) => callLog.log(args),
        error: (...args) => callLog.error(args),
      };
    } catch (error) {
      callLog.close();
      const text = error instanceof RequestError ? error.message : stringify(error);
      return { status: 500, headers: { 'content-type': TEXT }, body: Buffer.alloc(0), logs: '', errors: callLog.enabled ? text : '' };
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
      http = { status: 500, headers: { 'content-type': TEXT }, body: Buffer.alloc(0) };
    }
    return { ...http, logs: callLog.logsText(), errors: callLog.errorsText() };
  }

  async function respond(req, res, headers, body, timeoutMs) {
    const logging = (headers['x-open-runtimes-logging'] || '').trim().toLowerCase() !== 'disabled';
    const callLog = new CallLog(logging);
    let outcome;
    try {
      outcome = await execute(req, headers, body, timeoutMs, callLog);
    } catch (error) {
      const errors = logging ? stringify(error) : '';
      outcome = { status: 500, headers: { 'content-type': TEXT }, body: Buffer.alloc(0), logs: '', errors };
    }

    const logId = logging ? validLogId(headers['x-open-runtimes-log-id']) : null;
    let written = false;
    if (logId !== null) {
      try {
        written = await writeLogFiles(config.logsDir, logId, outcome.logs, outcome.errors);
      } catch (error) {
        serverError(`Could not write log files for log id ${logId}: ${error.message}`);
      }
    }

    if (res.destroyed) return;
    for (const name of Object.keys(outcome.headers)) res.setHeader(name, outcome.headers[name]);
    if (outcome.status !== 204 && outcome.status !== 304) res.setHeader('content-length', outcome.body.length);
    res.setHeader('x-open-runtimes-logs', headerValue(outcome.logs));
    res.setHeader('x-open-runtimes-errors', headerValue(outcome.errors));
    if (written) res.setHeader('x-open-runtimes-log-id', logId);
    res.writeHead(outcome.status);
    res.end(outcome.body);
  }

  /** Handles one request; `expectsContinue` is set for requests with "Expect: 100-continue". */
  async function handle(req, res, expectsContinue) {
    const headers = allHeaders(req.rawHeaders);
    const timeoutText = (headers['x-open-runtimes-timeout'] || '').trim();
    if (timeoutText !== '' && !/^[1-9][0-9]*$/.test(timeoutText)) {
      reject(res, 500, MESSAGES.timeoutHeader, expectsContinue);
      return;
    }
    if (config.secret !== '' && !secretMatches(headers['x-open-runtimes-secret'] || '', config.secret)) {
      reject(res, 500, MESSAGES.unauthorized, expectsContinue);
      return;
    }
    const declared = headers['content-length'];
    if (declared !== undefined && Number(declared) > BODY_LIMIT) {
      rejectTooLarge(req, res);
      return;
    }
    if (expectsContinue) res.writeContinue();

    let body;
    try {
      body = await readBody(req, res);
    } catch (_) {
      return; // The client went away while sending: nobody to answer.
    }
    if (body === null) return;
    const timeoutMs = timeoutText === '' ? null : Number(timeoutText) * 1000;
    await respond(req, res, headers, body, timeoutMs);
  }

  return function onRequest(req, res, expectsContinue = false) {
    handle(req, res, expectsContinue === true).catch((error) => {
      serverError(`Request failed: ${stringify(error)}`);
      if (!res.headersSent && !res.destroyed) reject(res, 500, '', true);
      else res.destroy();
    });
  };
}

module.exports = { createHandler };
