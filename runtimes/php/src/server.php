<?php

/**
 * Open Runtimes v3 server for PHP: `php src/server.php`.
 *
 * A single master process owns the listening socket and every connection (an event loop over
 * socket_select). Each call runs in a process forked for it, which reports logs, output and the
 * response record back over a socket pair; the master enforces timeouts and builds responses.
 */

declare(strict_types=1);

namespace OpenRuntimes;

use OpenRuntimes\Http\Server;

// Classes load on first use, so start-up compiles only what the listener needs.
spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'OpenRuntimes\\')) {
        $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, 13)) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});

function main(): int
{
    set_time_limit(0);
    try {
        $config = Config::fromEnvironment(getenv());
    } catch (ConfigError $e) {
        fwrite(STDERR, 'open-runtimes: ' . $e->getMessage() . "\n");
        return 1;
    }
    Config::hideSecretFromUserCode();

    try {
        $server = Server::listen($config);
    } catch (ConfigError $e) {
        fwrite(STDERR, 'open-runtimes: ' . $e->getMessage() . "\n");
        return 1;
    }
    return $server->serve();
}

exit(main());
