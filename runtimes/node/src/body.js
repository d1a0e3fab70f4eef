'use strict';
// Reading a request body under the 20 MiB limit (runtimes spec 1.5).

const { BODY_LIMIT, rejectTooLarge } = require('./rejections');

/**
 * Reads the whole body into a Buffer. When it passes the limit mid-stream (chunked bodies), the
 * request is answered with 413 and the promise resolves null. Rejects if the client goes away.
 */
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
    req.on('aborted', () => fail(new Error('Request aborted by the client.')));
  });
}

module.exports = { readBody };
