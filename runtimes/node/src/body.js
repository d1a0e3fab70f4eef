'use strict';
// Reading a request body under the 20 MiB limit (runtimes spec 1.5).

const { BODY_LIMIT, rejectTooLarge } = require('./rejections');

/**
 * Reads the whole body into a Buffer. Resolves null when there is nobody to answer any more:
 * the body passed the limit mid-stream (chunked bodies; the request was answered with 413), or
 * the client went away while sending.
 */
function readBody(req, res) {
  return new Promise((resolve) => {
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
    req.on('error', () => resolve(null));
    req.on('aborted', () => resolve(null));
  });
}

module.exports = { readBody };
