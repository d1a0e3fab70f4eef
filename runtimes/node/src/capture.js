'use strict';
// Native output capture: console.* and process.stdout/stderr writes made by a call's code are
// routed to that call's log through async-local storage (runtimes spec 4.2).

const { AsyncLocalStorage } = require('async_hooks');

const storage = new AsyncLocalStorage();
let original = null;

/** Writes to the server's own stderr, bypassing any call's capture. */
function serverError(line) {
  install();
  original.stderr(`${line}\n`);
}

function route(stream, name) {
  const write = stream.write.bind(stream);
  original[name] = write;
  stream.write = function routedWrite(chunk, encoding, callback) {
    const callLog = storage.getStore();
    if (callLog === undefined) return write(chunk, encoding, callback);
    const decoded = typeof chunk === 'string' && typeof encoding === 'string' && encoding !== 'utf8'
      ? Buffer.from(chunk, encoding)
      : chunk;
    callLog.write(decoded);
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
}

/** Patches process.stdout and process.stderr once; done lazily because creating them costs start time. */
function install() {
  if (original !== null) return;
  original = {};
  route(process.stdout, 'stdout');
  route(process.stderr, 'stderr');
}

/** Runs `fn` with `callLog` receiving the native output of everything it starts. */
function runCapturing(callLog, fn) {
  install();
  return storage.run(callLog, fn);
}

module.exports = { runCapturing, serverError, installCapture: install };
