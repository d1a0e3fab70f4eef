<?php

declare(strict_types=1);

namespace OpenRuntimes\Pool;

/**
 * The master's environment, as user code reads it: the process environment (getenv(), child
 * processes), `$_SERVER`, and `$_ENV` when variables_order fills it. Forked calls inherit all three.
 */
final class Environment
{
    /** Keys the CLI sets in `$_SERVER` after importing the environment, so they win over it. */
    private const SERVER_OWN_KEYS = ['PHP_SELF', 'SCRIPT_NAME', 'SCRIPT_FILENAME', 'PATH_TRANSLATED',
        'DOCUMENT_ROOT', 'REQUEST_TIME', 'REQUEST_TIME_FLOAT', 'argv', 'argc'];

    /** Sets each variable as if the server had been started with it. @param array<string, string> $variables */
    public static function set(array $variables): void
    {
        $fillsEnv = str_contains((string) ini_get('variables_order'), 'E');
        foreach ($variables as $name => $value) {
            $name = (string) $name;
            putenv($name . '=' . $value);
            if ($fillsEnv) {
                $_ENV[$name] = $value;
            }
            if (!in_array($name, self::SERVER_OWN_KEYS, true)) {
                $_SERVER[$name] = $value;
            }
        }
    }

    /** Removes a variable from every place user code reads it. */
    public static function remove(string $name): void
    {
        putenv($name);
        unset($_ENV[$name]);
        if (!in_array($name, self::SERVER_OWN_KEYS, true)) {
            unset($_SERVER[$name]);
        }
    }
}
