<?php

declare(strict_types=1);

namespace OpenRuntimes\Http;

/** Parses the head (request line and header fields) of an HTTP/1.x request. */
final class HeadParser
{
    /** Largest accepted head; the spec asks for at least 16 KiB of headers. */
    public const MAX_HEAD_BYTES = 65536;

    private const TOKEN = '/^[!#$%&\'*+\-.^_`|~0-9A-Za-z]+$/D';

    /**
     * Where the head in $buffer ends (the offset after its blank line), or null if incomplete.
     * Bare LF line ends are tolerated. Leading empty lines are skipped by the parser.
     */
    public static function headLength(string $buffer): ?int
    {
        $start = strspn($buffer, "\r\n");
        $crlf = strpos($buffer, "\r\n\r\n", $start);
        $lf = strpos($buffer, "\n\n", $start);
        if ($crlf === false && $lf === false) {
            return null;
        }
        if ($lf === false || ($crlf !== false && $crlf + 2 < $lf)) {
            return $crlf + 4;
        }
        return $lf + 2;
    }

    /** Rejects a buffered request line early, before its head is complete. */
    public static function checkRequestLine(string $buffer): void
    {
        $buffer = ltrim($buffer, "\r\n");
        $end = strpos($buffer, "\n");
        if ($end !== false) {
            self::parseRequestLine(rtrim(substr($buffer, 0, $end), "\r"));
        } elseif (strlen($buffer) > self::MAX_HEAD_BYTES) {
            throw new BadRequest('Request line too long.', 414);
        }
    }

    /** @throws BadRequest */
    public static function parse(string $head): RequestHead
    {
        $lines = explode("\n", ltrim($head, "\r\n"));
        [$method, $target, $version] = self::parseRequestLine(rtrim(array_shift($lines), "\r"));
        $fields = [];
        foreach ($lines as $line) {
            $line = rtrim($line, "\r");
            if ($line === '') {
                continue;
            }
            if ($line[0] === ' ' || $line[0] === "\t") {
                throw new BadRequest('Obsolete header line folding is not supported.');
            }
            $colon = strpos($line, ':');
            if ($colon === false || !preg_match(self::TOKEN, substr($line, 0, $colon))) {
                throw new BadRequest('Malformed header field.');
            }
            $value = trim(substr($line, $colon + 1), " \t");
            if (strpbrk($value, "\0\r") !== false) {
                throw new BadRequest('Malformed header value.');
            }
            $fields[] = [strtolower(substr($line, 0, $colon)), $value];
        }
        return new RequestHead($method, $target, $version, $fields);
    }

    /** @return array{string, string, string} */
    private static function parseRequestLine(string $line): array
    {
        $parts = explode(' ', $line);
        if (count($parts) !== 3 || !preg_match(self::TOKEN, $parts[0]) || $parts[1] === ''
            || preg_match('/[\x00-\x20\x7f]/', $parts[1])) {
            throw new BadRequest('Malformed request line.');
        }
        if ($parts[2] !== 'HTTP/1.1' && $parts[2] !== 'HTTP/1.0') {
            throw new BadRequest('Unsupported HTTP version.', str_starts_with($parts[2], 'HTTP/') ? 505 : 400);
        }
        return [$parts[0], $parts[1], $parts[2]];
    }
}
