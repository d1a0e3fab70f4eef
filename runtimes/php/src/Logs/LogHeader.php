<?php

declare(strict_types=1);

namespace OpenRuntimes\Logs;

/** The value of x-open-runtimes-logs / -errors: URL-encoded and capped (spec 4.3, 4.4). */
final class LogHeader
{
    public const LIMIT = 16384;
    public const MARKER = '... Log truncated due to header size limit (16384 bytes).';

    /** rawurlencode keeps exactly A-Z a-z 0-9 - . _ ~ and writes upper-case %XX, as the spec asks. */
    public static function encode(string $text): string
    {
        // Encoding never shrinks text, so long text needs no full encoding to know it is too long.
        if (strlen($text) <= self::LIMIT) {
            $encoded = rawurlencode($text);
            if (strlen($encoded) <= self::LIMIT) {
                return $encoded;
            }
        }
        $suffix = rawurlencode("\n" . self::MARKER);
        $budget = self::LIMIT - strlen($suffix);
        // Longest prefix whose encoding fits: encoded length grows with the prefix length.
        $low = 0;
        $high = min(strlen($text), $budget);
        while ($low < $high) {
            $mid = intdiv($low + $high + 1, 2);
            if (strlen(rawurlencode(substr($text, 0, $mid))) <= $budget) {
                $low = $mid;
            } else {
                $high = $mid - 1;
            }
        }
        return rawurlencode(Truncate::prefix($text, $low)) . $suffix;
    }
}
