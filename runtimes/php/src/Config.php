<?php

declare(strict_types=1);

namespace OpenRuntimes;

/** Settings of one server process, read once from the environment (spec 1.8). */
final class Config
{
    public function __construct(
        public readonly string $host,
        public readonly int $port,
        /** Empty means the secret check is disabled (spec 1.3). */
        public readonly string $secret,
        public readonly string $functionDir,
        public readonly string $entrypoint,
        public readonly string $logsDir,
        /** Pool mode: started without a function, waiting for a specialization request. */
        public readonly bool $pool = false,
    ) {
    }

    /**
     * @param array<string, string> $env
     * @throws ConfigError when the port is not an integer from 1 to 65535
     */
    public static function fromEnvironment(array $env): self
    {
        $port = $env['OPEN_RUNTIMES_PORT'] ?? '';
        if ($port === '') {
            $port = '3000';
        }
        if (!preg_match('/^[0-9]{1,5}$/D', $port) || (int) $port < 1 || (int) $port > 65535) {
            throw new ConfigError("OPEN_RUNTIMES_PORT must be an integer from 1 to 65535, got \"$port\".");
        }
        $host = $env['OPEN_RUNTIMES_HOST'] ?? '';
        $functionDir = $env['OPEN_RUNTIMES_FUNCTION_DIR'] ?? '';
        $entrypoint = $env['OPEN_RUNTIMES_ENTRYPOINT'] ?? '';
        $logsDir = $env['OPEN_RUNTIMES_LOGS_DIR'] ?? '';

        return new self(
            host: $host !== '' ? $host : '0.0.0.0',
            port: (int) $port,
            secret: $env['OPEN_RUNTIMES_SECRET'] ?? '',
            functionDir: $functionDir !== '' ? $functionDir : getcwd() . '/src/function',
            entrypoint: $entrypoint !== '' ? $entrypoint : 'index.php',
            logsDir: $logsDir !== '' ? $logsDir : '/mnt/logs',
            pool: ($env['OPEN_RUNTIMES_POOL'] ?? '') === '1',
        );
    }

    /** A copy that no longer holds the secret, for processes that run user code. */
    public function withoutSecret(): self
    {
        return new self($this->host, $this->port, '', $this->functionDir, $this->entrypoint, $this->logsDir, $this->pool);
    }

    /** The settings of a specialized pool runtime: its function's entrypoint, pool mode over. */
    public function specialized(string $entrypoint): self
    {
        return new self($this->host, $this->port, $this->secret, $this->functionDir, $entrypoint, $this->logsDir);
    }

    /** Removes the secret from every place user code reads the environment (spec 1.3). */
    public static function hideSecretFromUserCode(): void
    {
        putenv('OPEN_RUNTIMES_SECRET');
        unset($_ENV['OPEN_RUNTIMES_SECRET'], $_SERVER['OPEN_RUNTIMES_SECRET']);
    }
}
