'use strict';
// Early rejections (runtimes spec 1.2, steps 2 to 4): answered before any call starts, in plain
// text and without log headers.

const BODY_LIMIT = 20971520;
const MESSAGES = {
  timeoutHeader: 'Header "x-open-runtimes-timeout" must be an integer greater than 0.',
  unauthorized: 'Unauthorized. Provide correct "x-open-runtimes-secret" header.',
  tooLarge: `Request body too large. The limit is ${BODY_LIMIT} bytes (20 MiB).`,
};

/** The timeout in ms from `x-open-runtimes-timeout`: null when absent or blank, NaN when invalid. */
function parseTimeout(value) {
  const text = (value || '').trim();
  if (text === '') return null;
  return /^[1-9][0-9]*$/.test(text) ? Number(text) * 1000 : NaN;
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

/** Sends a plain-text rejection; `close` ends the connection after it. */
function sendRejection(res, status, message, close) {
  const headers = { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(message) };
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
  // Node calls destroySoon() once a "Connection: close" response is finished.
  socket.destroySoon = function lingeringClose() {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.once('close', () => clearTimeout(timer));
  };
  req.on('data', () => {});
  sendRejection(res, 413, MESSAGES.tooLarge, true);
}

/**
 * Runs steps 2 to 4 for a request with parsed `headers`; answers and returns true when the
 * request is rejected. `expectsContinue`: the client waits for "100 Continue" before its body.
 */
function rejectEarly(req, res, headers, secret, expectsContinue) {
  if (Number.isNaN(parseTimeout(headers['x-open-runtimes-timeout']))) {
    sendRejection(res, 500, MESSAGES.timeoutHeader, expectsContinue);
    return true;
  }
  if (secret !== '' && !secretMatches(headers['x-open-runtimes-secret'] || '', secret)) {
    sendRejection(res, 500, MESSAGES.unauthorized, expectsContinue);
    return true;
  }
  const declared = headers['content-length'];
  if (declared !== undefined && Number(declared) > BODY_LIMIT) {
    rejectTooLarge(req, res);
    return true;
  }
  return false;
}

module.exports = { BODY_LIMIT, parseTimeout, secretMatches, sendRejection, rejectTooLarge, rejectEarly };
