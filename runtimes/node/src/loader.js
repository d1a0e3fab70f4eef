'use strict';
// Loads the user function from the function dir, lazily, as CommonJS or ES module (runtimes spec 2.3).

const path = require('path');

/** The entrypoint could not be loaded; `cause` holds the underlying error. */
class LoadError extends Error {
  constructor(cause) {
    super('Could not load code file.');
    this.cause = cause;
  }
}

/** The entrypoint loaded but yields no function. */
class InvalidFunctionError extends Error {
  constructor() {
    super('User function is not valid.');
  }
}

/** The "type" of the package.json nearest to `dir`, as Node resolves it. */
function packageType(dir) {
  const fs = require('fs');
  for (let current = dir; ; current = path.dirname(current)) {
    try {
      return JSON.parse(fs.readFileSync(path.join(current, 'package.json'), 'utf8')).type || 'commonjs';
    } catch (error) {
      if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR') return 'commonjs';
    }
    if (path.dirname(current) === current) return 'commonjs';
  }
}

function isModule(file) {
  if (file.endsWith('.mjs')) return true;
  if (file.endsWith('.cjs')) return false;
  return packageType(path.dirname(file)) === 'module';
}

/** Resolves the entrypoint inside the function dir; rejects absolute paths and ".." segments. */
function resolveEntrypoint(functionDir, entrypoint) {
  if (entrypoint === '' || path.isAbsolute(entrypoint) || entrypoint.split(/[\\/]/).includes('..')) {
    throw new Error(`Entrypoint "${entrypoint}" must be a relative path inside the function directory.`);
  }
  return path.join(functionDir, entrypoint);
}

/** Loads user functions, caching successes only, so a failed load is retried by the next call. */
class FunctionLoader {
  constructor(functionDir, entrypoint) {
    this.functionDir = functionDir;
    this.entrypoint = entrypoint;
    this.loaded = null;
    this.failures = 0;
  }

  /** Resolves to the user function; rejects with LoadError or InvalidFunctionError. */
  async load() {
    if (this.loaded !== null) return this.loaded;
    let exported;
    try {
      const file = resolveEntrypoint(this.functionDir, this.entrypoint);
      if (isModule(file)) {
        const { pathToFileURL } = require('url');
        // ES module failures stay in Node's module map: a fresh URL makes the retry real.
        const url = pathToFileURL(file).href + (this.failures > 0 ? `?retry=${this.failures}` : '');
        exported = await import(url);
      } else {
        exported = require(file);
      }
    } catch (error) {
      this.failures += 1;
      throw new LoadError(error);
    }
    const fn = exported !== null && exported !== undefined && exported.default !== undefined ? exported.default : exported;
    if (typeof fn !== 'function') throw new InvalidFunctionError();
    this.loaded = fn;
    return fn;
  }
}

module.exports = { FunctionLoader, LoadError, InvalidFunctionError };
