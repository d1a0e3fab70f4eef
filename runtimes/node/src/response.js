'use strict';
// context.res and the rules that turn a returned record into an HTTP response (runtimes spec 2.2, 3).

const { stringify } = require('./logs');

const RESERVED_PREFIX = 'x-open-runtimes-';
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Control characters (CR, LF, NUL, ...) or anything outside ISO-8859-1: what Node refuses to send.
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** A user mistake in the returned value; its message goes to the errors as-is. */
class ResponseError extends Error {}

/** A shallow copy of `headers` without any key equal to `name` in any case. */
function withoutHeader(headers, name) {
  const copy = {};
  for (const key of Object.keys(headers || {})) {
    if (key.toLowerCase() !== name) copy[key] = headers[key];
  }
  return copy;
}

/** The context.res helpers; they only build response records. */
function createResponse() {
  return {
    send(body, statusCode = 200, headers = {}) {
      return { body, statusCode, headers };
    },
    json(obj, statusCode = 200, headers = {}) {
      const copy = withoutHeader(headers, 'content-type');
      copy['content-type'] = 'application/json';
      return { body: JSON.stringify(obj), statusCode, headers: copy };
    },
    empty() {
      return { body: '', statusCode: 204, headers: {} };
    },
    redirect(url, statusCode = 301, headers = {}) {
      const copy = withoutHeader(headers, 'location');
      copy.location = url;
      return { body: '', statusCode, headers: copy };
    },
  };
}

function statusOf(value) {
  const ok = (typeof value === 'number' && Number.isInteger(value))
    || (typeof value === 'string' && /^[0-9]+$/.test(value));
  const status = ok ? Number(value) : NaN;
  if (!(status >= 200 && status <= 599)) throw new ResponseError(`Invalid status code: ${stringify(value)}`);
  return status;
}

function bodyOf(value) {
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return Buffer.from(stringify(value), 'utf8');
}

function headersOf(value) {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ResponseError(`Invalid response header: ${stringify(value)}`);
  }
  const headers = {};
  for (const key of Object.keys(value)) {
    const name = key.toLowerCase();
    if (name.startsWith(RESERVED_PREFIX) || FRAMING.has(name)) continue;
    const values = (Array.isArray(value[key]) ? value[key] : [value[key]]).map((v) => (typeof v === 'string' ? v : stringify(v)));
    if (!TOKEN.test(name) || values.some((v) => BAD_VALUE.test(v))) {
      throw new ResponseError(`Invalid response header: ${key}`);
    }
    headers[name] = values.length === 1 ? values[0] : values;
  }
  return headers;
}

/** Sent content-type: the user's (or text/plain) plus "; charset=utf-8" unless multipart or charset given. */
function contentTypeOf(headers) {
  const given = headers['content-type'];
  const type = given === undefined ? 'text/plain' : (Array.isArray(given) ? given[0] : given);
  const lower = type.toLowerCase();
  return lower.startsWith('multipart/') || lower.includes('charset=') ? type : `${type}; charset=utf-8`;
}

/**
 * Validates what the function returned and converts it to {status, headers, body}.
 * Throws ResponseError with the spec's message for any user mistake.
 */
function toHttp(result) {
  if (result === undefined || result === null) {
    throw new ResponseError('Return statement missing. return context.res.empty() if no response is expected.');
  }
  if (typeof result !== 'object' || Array.isArray(result)) {
    throw new ResponseError('Invalid return value. Return context.res.send(), context.res.json(), context.res.empty() or context.res.redirect().');
  }
  const status = statusOf(result.statusCode === undefined || result.statusCode === null ? 200 : result.statusCode);
  const headers = headersOf(result.headers);
  headers['content-type'] = contentTypeOf(headers);
  return { status, headers, body: bodyOf(result.body) };
}

module.exports = { createResponse, toHttp, ResponseError };
