<?php

declare(strict_types=1);

namespace OpenRuntimes\Logs;

/** Full logs of a call written to <dir>/<id>_logs.log and <id>_errors.log (spec 4.5). */
final class LogFiles
{
    public const LIMIT = 5242880;
    public const MARKER = '... Log truncated due to file size limit (5242880 bytes).';

    /**
     * Writes both files atomically; returns false (after a note on stderr) if either failed.
     * $id has already been checked against ^[A-Za-z0-9_-]{1,64}$.
     */
    public static function write(string $dir, string $id, string $logs, string $errors): bool
    {
        return self::writeOne("$dir/{$id}_logs.log", $logs) && self::writeOne("$dir/{$id}_errors.log", $errors);
    }

    public static function capped(string $text): string
    {
        if (strlen($text) <= self::LIMIT) {
            return $text;
        }
        $tail = "\n" . self::MARKER;
        return Truncate::prefix($text, self::LIMIT - strlen($tail)) . $tail;
    }

    private static function writeOne(string $path, string $text): bool
    {
        $temporary = dirname($path) . '/.' . basename($path) . '.' . getmypid() . '.' . bin2hex(random_bytes(4)) . '.tmp';
        $content = self::capped($text);
        if (@file_put_contents($temporary, $content) === strlen($content) && @rename($temporary, $path)) {
            return true;
        }
        @unlink($temporary);
        fwrite(STDERR, "open-runtimes: could not write the log file $path\n");
        return false;
    }
}
