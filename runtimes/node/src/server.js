'use strict';
// The Open Runtimes v3 server for Node.js: `node src/server.js`, run from the server dir.
// Start-up stays lean (runtimes spec 1.1.4): the user function is loaded at the first call.
// With OPEN_RUNTIMES_POOL=1 it waits for a specialization request first (pool.js).

const http = require('http');
const { loadConfig, ConfigError } = require('./config');
const { createHandler } = require('./handler');
const { serverError } = require('./capture');
const { stringify } = require('./logs');

/** Answers requests Node cannot parse with a short 400 (431 for oversized headers). */
function onClientError(error, socket) {
  if (error.code === 'ECONNRESET' || !socket.writable || socket._httpMessage) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const body = status.slice(4);
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\n`
    + `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
}

function main() {
  let config;
  try {
    config = loadConfig(process.env, process.cwd());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  // User code must not see the secret, nor pass it to child processes (spec 1.3).
  delete process.env.OPEN_RUNTIMES_SECRET;
  const pool = config.pool ? require('./pool') : null;
  // Pool mode is the runtime's state, not the function's: once specialized, nothing tells them apart.
  if (pool) delete process.env.OPEN_RUNTIMES_POOL;
  const onRequest = pool ? pool.createPoolHandler(config) : createHandler(config);
  const server = http.createServer({
    requestTimeout: 0, // calls may run as long as they like (spec 1.1.7)
    headersTimeout: 60000,
    keepAliveTimeout: 5000,
    maxHeaderSize: 32768, // at least 16 KiB of request headers (spec 1.6)
    requireHostHeader: false, // a missing Host is the handler's internal error, not Node's 400
  }, onRequest);
  server.on('checkContinue', (req, res) => onRequest(req, res, true));
  server.on('clientError', onClientError);
  server.on('error', (error) => {
    process.stderr.write(`Cannot listen on ${config.host}:${config.port}: ${error.message}\n`);
    process.exit(1);
  });

  const stop = () => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Errors outside a call (a user's stray timer or promise) must not end the server (spec 5.3).
  process.on('uncaughtException', (error) => serverError(`Uncaught exception: ${stringify(error)}`));
  process.on('unhandledRejection', (error) => serverError(`Unhandled rejection: ${stringify(error)}`));

  if (pool) {
    // A pool runtime is started ahead of need: once it listens, it prepares the first call.
    server.listen(config.port, config.host, () => pool.warmUp(server, config));
  } else {
    server.listen(config.port, config.host);
  }
}

main();
