<?php

declare(strict_types=1);

namespace OpenRuntimes\Logs;

/** Cuts text on a character boundary (spec 4.4, 4.5). */
final class Truncate
{
    /** The longest prefix of $text no longer than $bytes that does not split a UTF-8 sequence. */
    public static function prefix(string $text, int $bytes): string
    {
        if ($bytes >= strlen($text)) {
            return $text;
        }
        $bytes = max(0, $bytes);
        // Step back over continuation bytes (10xxxxxx) so the cut lands before a lead byte.
        $steps = 0;
        while ($bytes > 0 && $steps < 3 && (ord($text[$bytes]) & 0xC0) === 0x80) {
            $bytes--;
            $steps++;
        }
        return substr($text, 0, $bytes);
    }
}
