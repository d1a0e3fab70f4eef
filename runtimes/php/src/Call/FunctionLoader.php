<?php

declare(strict_types=1);

namespace OpenRuntimes\Call;

/** Includes the entrypoint file, which returns the function (spec 2.3). */
final class FunctionLoader
{
    /**
     * The entrypoint's return value; the file is included anew for every call, as PHP does.
     * @throws \Throwable when the path is invalid or missing, or the file fails to compile or run
     */
    public static function load(string $functionDir, string $entrypoint): mixed
    {
        if ($entrypoint === '' || $entrypoint[0] === '/' || str_contains($entrypoint, "\0")
            || in_array('..', explode('/', $entrypoint), true)) {
            throw new \InvalidArgumentException("The entrypoint must be a relative path inside the function dir: $entrypoint");
        }
        $path = rtrim($functionDir, '/') . '/' . $entrypoint;
        if (!is_file($path)) {
            throw new \RuntimeException("The entrypoint file does not exist: $path");
        }
        // A static closure, so the file sees no server variables and no $this.
        return (static function (string $__entrypoint) {
            return include $__entrypoint;
        })($path);
    }
}
