'use strict';
// Pool mode (extension, see README): a runtime started with OPEN_RUNTIMES_POOL=1 holds no function
// until one specialization request gives it its variables and entrypoint; from then on it is a
// normal runtime.

const fs = require('fs');
const path = require('path');
const { Duplex } = require('stream');
const { rejectEarly, sendRejection } = require('./rejections');
const { readBody } = require('./body');
const { createHandler } = require('./handler');
const { FunctionLoader } = require('./loader');
const { allHeaders } = require('./request');
const { installCapture, serverError } = require('./capture');
const { CallLog, headerValue, stringify } = require('./logs');
const { runCall } = require('./call');

const SPECIALIZE_HEADER = 'x-open-runtimes-specialize';
const MESSAGES = {
  notSpecialized: 'Runtime is not specialized yet.',
  alreadySpecialized: 'Runtime is already specialized.',
  invalidJson: 'Specialization failed: invalid JSON body.',
  noEntrypoint: 'Specialization failed: no entrypoint.',
  badVariables: 'Specialization failed: variables must map strings to strings.',
  badVariableName: 'Specialization failed: variable names must be non-empty, without "=" or NUL.',
  badVariableValue: 'Specialization failed: variable values must not contain NUL.',
  badEntrypoint: 'Specialization failed: entrypoint must be a string.',
};
const SPECIALIZED_BODY = '{"specialized":true}';
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/** A specialization request the runtime refuses; its message is the whole 400 body. */
class SpecializationError extends Error {}

function has(object, key) {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/**
 * The assignments of `<function dir>/.open-runtimes` as {NAME: value}, or null when the file is
 * missing. Values lose one pair of surrounding quotes, as sh would remove them.
 */
function readAssignments(functionDir) {
  let text;
  try {
    text = fs.readFileSync(path.join(functionDir, '.open-runtimes'), 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
    throw new SpecializationError(`Specialization failed: cannot read .open-runtimes: ${error.message}`);
  }
  const assignments = {};
  for (const line of text.split('\n')) {
    const match = ASSIGNMENT.exec(line.trim());
    if (match === null) continue;
    let value = match[2];
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) {
      value = value.slice(1, -1);
    }
    assignments[match[1]] = value;
  }
  return assignments;
}

/** The {variables, entrypoint} of a specialization body; throws SpecializationError. */
function parseRequest(body) {
  let request;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch (_) {
    throw new SpecializationError(MESSAGES.invalidJson);
  }
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    throw new SpecializationError(MESSAGES.invalidJson);
  }
  const variables = has(request, 'variables') && request.variables !== null ? request.variables : {};
  if (typeof variables !== 'object' || Array.isArray(variables)) throw new SpecializationError(MESSAGES.badVariables);
  for (const name of Object.keys(variables)) {
    if (typeof variables[name] !== 'string') throw new SpecializationError(MESSAGES.badVariables);
    // process.env silently drops such names and cuts values at NUL: refuse rather than half-apply.
    if (name === '' || name.includes('=') || name.includes('\0')) throw new SpecializationError(MESSAGES.badVariableName);
    if (variables[name].includes('\0')) throw new SpecializationError(MESSAGES.badVariableValue);
  }
  const entrypoint = has(request, 'entrypoint') && request.entrypoint !== null ? request.entrypoint : '';
  if (typeof entrypoint !== 'string') throw new SpecializationError(MESSAGES.badEntrypoint);
  return { variables, entrypoint };
}

/**
 * The environment a specialization sets: the body's variables, then the file's assignments (so
 * the build-time entrypoint wins, as when start.sh sources the file), never the secret.
 */
function specializedEnvironment(request, assignments) {
  const entrypoint = (assignments && assignments.OPEN_RUNTIMES_ENTRYPOINT) || request.entrypoint;
  if (entrypoint === '') throw new SpecializationError(MESSAGES.noEntrypoint);
  const environment = { ...request.variables, ...(assignments || {}), OPEN_RUNTIMES_ENTRYPOINT: entrypoint };
  delete environment.OPEN_RUNTIMES_SECRET;
  return environment;
}

/**
 * Feeds one raw HTTP request to `server` over an in-memory stream: the request runs through
 * Node's parser, the listener and the response writer, and no byte touches the network.
 */
function rehearse(server, rawRequest) {
  const socket = new Duplex({
    read() {},
    write(chunk, encoding, callback) { callback(); },
  });
  server.emit('connection', socket);
  socket.push(rawRequest);
  socket.push(null);
}

/**
 * Prepares, once `server` listens, what specialization and the first call need before any
 * function is known, so that their code is compiled and loaded now rather than then: Node's
 * HTTP server path, the specialization path up to its body check (a rehearsed request with an
 * invalid body, refused with 400, which leaves the runtime in the pool), the output capture,
 * Node's ES module loader, and one call of a stub function through the call path.
 */
function warmUp(server, config) {
  const secret = config.secret === '' ? '' : `x-open-runtimes-secret: ${config.secret}\r\n`;
  rehearse(server, `POST /warm HTTP/1.1\r\nHost: localhost\r\n${secret}${SPECIALIZE_HEADER}: 1\r\n`
    + 'Content-Type: application/json\r\nContent-Length: 1\r\nConnection: close\r\n\r\n{');
  installCapture();
  const { pathToFileURL } = require('url');
  import(pathToFileURL(path.join(__dirname, 'warm.mjs')).href).catch(() => {});
  const stub = { load: async () => (context) => context.res.json({ warm: true }) };
  const request = { url: '/?warm=1', method: 'POST' };
  const headers = { host: 'localhost', 'content-type': 'application/json' };
  runCall(stub, request, headers, Buffer.from('{}'), 1000, new CallLog(true))
    .then((outcome) => headerValue(outcome.logs + outcome.errors))
    .catch(() => {});
}

/**
 * Creates the request listener of a pool runtime for `config`: 503 until a specialization
 * request arrives, then the normal handler of config.js's settings with the given entrypoint.
 */
function createPoolHandler(config) {
  let onCall = null;

  /** Applies a valid specialization: environment, handler, eager load. */
  function specialize(environment) {
    Object.assign(process.env, environment);
    const settings = Object.freeze({ ...config, entrypoint: environment.OPEN_RUNTIMES_ENTRYPOINT, pool: false });
    const loader = new FunctionLoader(settings.functionDir, settings.entrypoint);
    onCall = createHandler(settings, loader);
    // A load failure is the calls' to report, as in normal mode: the loader retries at the next call.
    loader.load().catch(() => {});
  }

  async function handleSpecialization(req, res, expectsContinue) {
    if (onCall !== null) {
      sendRejection(res, 409, MESSAGES.alreadySpecialized, expectsContinue);
      return;
    }
    if (expectsContinue) res.writeContinue();
    const body = await readBody(req, res);
    if (body === null) return; // Too large (answered already), or the client went away.
    // Read while another specialization completed: that one won.
    if (onCall !== null) {
      sendRejection(res, 409, MESSAGES.alreadySpecialized, false);
      return;
    }
    try {
      specialize(specializedEnvironment(parseRequest(body), readAssignments(config.functionDir)));
    } catch (error) {
      if (!(error instanceof SpecializationError)) throw error;
      sendRejection(res, 400, error.message, false);
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': SPECIALIZED_BODY.length,
    });
    res.end(SPECIALIZED_BODY);
  }

  function handle(req, res, expectsContinue) {
    const isSpecialization = req.headers[SPECIALIZE_HEADER] !== undefined;
    if (onCall !== null && !isSpecialization) return onCall(req, res, expectsContinue);
    if (rejectEarly(req, res, allHeaders(req.rawHeaders), config.secret, expectsContinue)) return undefined;
    if (isSpecialization) return handleSpecialization(req, res, expectsContinue);
    return sendRejection(res, 503, MESSAGES.notSpecialized, expectsContinue);
  }

  /** The listener; `expectsContinue` is true for requests with "Expect: 100-continue". */
  return function onRequest(req, res, expectsContinue = false) {
    try {
      const done = handle(req, res, expectsContinue === true);
      if (done && typeof done.catch === 'function') done.catch((error) => failed(res, error));
    } catch (error) {
      failed(res, error);
    }
  };
}

/** A server bug outside any call: answer 500 if still possible, and keep serving. */
function failed(res, error) {
  serverError(`Request failed: ${stringify(error)}`);
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  sendRejection(res, 500, 'Specialization failed: internal error.', false);
}

module.exports = { createPoolHandler, warmUp, parseRequest, readAssignments, specializedEnvironment, SpecializationError };
