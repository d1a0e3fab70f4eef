'use strict';
// Start-up configuration: the environment is read once, here (runtimes spec 1.8).

const path = require('path');

/** Raised when the configuration cannot work; the server prints its message and exits. */
class ConfigError extends Error {}

/**
 * Reads the runtime's settings from `env` into a frozen object.
 * Throws ConfigError for a port that is not an integer from 1 to 65535.
 */
function loadConfig(env, cwd) {
  const portText = (env.OPEN_RUNTIMES_PORT || '3000').trim();
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new ConfigError(`OPEN_RUNTIMES_PORT must be an integer from 1 to 65535, got "${env.OPEN_RUNTIMES_PORT}".`);
  }
  return Object.freeze({
    host: env.OPEN_RUNTIMES_HOST || '0.0.0.0',
    port: Number(portText),
    secret: env.OPEN_RUNTIMES_SECRET || '',
    entrypoint: env.OPEN_RUNTIMES_ENTRYPOINT || 'index.js',
    functionDir: path.resolve(cwd, env.OPEN_RUNTIMES_FUNCTION_DIR || path.join('src', 'function')),
    logsDir: env.OPEN_RUNTIMES_LOGS_DIR || '/mnt/logs',
    pool: env.OPEN_RUNTIMES_POOL === '1', // no function until specialized (pool.js)
  });
}

module.exports = { loadConfig, ConfigError };
