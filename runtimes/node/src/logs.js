'use strict';
// Per-call logs: entries, native output, the encoded headers and the log files (runtimes spec 4).

const HEADER_LIMIT = 16384;
const FILE_LIMIT = 5242880;
const HEADER_MARKER = `\n... Log truncated due to header size limit (${HEADER_LIMIT} bytes).`;
const FILE_MARKER = `\n... Log truncated due to file size limit (${FILE_LIMIT} bytes).`;
const DASHES = '-'.repeat(76);
const UNSUPPORTED = 'Unsupported logs detected. Use context.log() or context.error() for logging.';
const LOG_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Converts one logged value to text: errors by their stack, objects as compact JSON. */
function stringify(value) {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return value.stack || String(value);
  if (value !== null && typeof value === 'object') {
    try {
      const json = JSON.stringify(value);
      if (json !== undefined) return json;
    } catch (_) {
      // Circular or unserialisable: fall back to the plain conversion below.
    }
  }
  try {
    return String(value);
  } catch (_) {
    return Object.prototype.toString.call(value);
  }
}

/** What one call records: log entries, error entries and captured native output. */
class CallLog {
  constructor(enabled) {
    this.enabled = enabled;
    this.closed = false;
    this.logs = [];
    this.errors = [];
    this.native = [];
  }

  log(args) {
    if (this.enabled && !this.closed) this.logs.push(args.map(stringify).join(' '));
  }

  error(args) {
    if (this.enabled && !this.closed) this.errors.push(args.map(stringify).join(' '));
  }

  /** Records a runtime-generated error (failure, timeout), even after the call was closed. */
  fail(text) {
    if (this.enabled) this.errors.push(text);
  }

  /** Records a chunk written to stdout/stderr by the call's code. */
  write(chunk) {
    if (!this.enabled || this.closed) return;
    this.native.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
  }

  /** Ends recording: whatever the call's code logs afterwards is discarded (spec 4.7). */
  close() {
    this.closed = true;
  }

  logsText() {
    const entries = this.logs.slice();
    let native = this.native.join('');
    if (native !== '') {
      if (native.endsWith('\n')) native = native.slice(0, -1);
      entries.push('', DASHES, UNSUPPORTED, DASHES, native, DASHES);
    }
    return entries.join('\n');
  }

  errorsText() {
    return this.errors.join('\n');
  }
}

const UNRESERVED = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') {
  UNRESERVED[c.charCodeAt(0)] = 1;
}
const HEX = '0123456789ABCDEF';

/** Percent-encodes the UTF-8 bytes of `text`, keeping only A-Z a-z 0-9 - . _ ~ (spec 4.3). */
function encode(text) {
  const bytes = Buffer.from(text, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i += 1) {
    const b = bytes[i];
    out += b < 128 && UNRESERVED[b] === 1 ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

/** Encoded length of one code point (lone surrogates become U+FFFD, as Buffer.from does). */
function encodedLength(code) {
  if (code < 128) return UNRESERVED[code] === 1 ? 1 : 3;
  if (code < 0x800) return 6;
  if (code < 0x10000) return 9;
  return 12;
}

/**
 * The header value for `text`: its encoding if that fits in 16 KiB, else the encoding of the
 * longest prefix (whole characters) followed by the truncation marker (spec 4.4).
 */
function headerValue(text) {
  const budget = HEADER_LIMIT - encode(HEADER_MARKER).length;
  let size = 0;
  let cut = -1;
  for (let i = 0; i < text.length;) {
    const code = text.codePointAt(i);
    size += encodedLength(code);
    if (cut < 0 && size > budget) cut = i;
    if (size > HEADER_LIMIT) return encode(text.slice(0, cut) + HEADER_MARKER);
    i += code > 0xffff ? 2 : 1;
  }
  return encode(text);
}

/** The UTF-8 bytes of `text`, cut on a character boundary to fit the 5 MiB file cap (spec 4.5). */
function fileBytes(text) {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= FILE_LIMIT) return bytes;
  const marker = Buffer.from(FILE_MARKER, 'utf8');
  let cut = FILE_LIMIT - marker.length;
  while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut -= 1;
  return Buffer.concat([bytes.subarray(0, cut), marker]);
}

/** Returns the log id of a request if it is valid, else null (invalid ids are ignored). */
function validLogId(value) {
  return typeof value === 'string' && LOG_ID.test(value) ? value : null;
}

// Below this size a log file is written synchronously: a few microseconds of blocking beat the
// ~9 libuv thread-pool round trips (stat, open, write, close, rename, twice) of the async API,
// which cost a warm call 2-3 ms. Larger texts keep the event loop free while they are written.
const SYNC_WRITE_LIMIT = 256 * 1024;

/**
 * Writes `<dir>/<id>_logs.log` and `<dir>/<id>_errors.log` atomically.
 * Resolves true when both were written, false when the dir is missing; rejects on write failure.
 */
async function writeLogFiles(dir, id, logsText, errorsText) {
  // The callback API is already loaded by Node; fs/promises would cost a first call ~10 ms.
  const fs = require('fs');
  const path = require('path');
  const run = (fn, ...args) => new Promise((resolve, fail) => {
    fn(...args, (error, value) => (error ? fail(error) : resolve(value)));
  });
  const files = [[`${id}_logs.log`, fileBytes(logsText)], [`${id}_errors.log`, fileBytes(errorsText)]];
  const small = files.every(([, bytes]) => bytes.length <= SYNC_WRITE_LIMIT);
  try {
    const stat = small ? fs.statSync(dir) : await run(fs.stat, dir);
    if (!stat.isDirectory()) return false;
  } catch (_) {
    return false;
  }
  const write = async (name, bytes) => {
    const target = path.join(dir, name);
    const temp = path.join(dir, `.${name}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    try {
      if (small) {
        fs.writeFileSync(temp, bytes);
        fs.renameSync(temp, target);
      } else {
        await run(fs.writeFile, temp, bytes);
        await run(fs.rename, temp, target);
      }
    } catch (error) {
      fs.unlink(temp, () => {});
      throw error;
    }
  };
  await Promise.all(files.map(([name, bytes]) => write(name, bytes)));
  return true;
}

module.exports = { CallLog, stringify, encode, headerValue, fileBytes, validLogId, writeLogFiles };
