<?php

declare(strict_types=1);

namespace OpenRuntimes\Http;

/** Serialises HTTP/1.1 responses. */
final class ResponseWriter
{
    private const REASONS = [
        100 => 'Continue', 200 => 'OK', 201 => 'Created', 202 => 'Accepted', 204 => 'No Content',
        206 => 'Partial Content', 301 => 'Moved Permanently', 302 => 'Found', 303 => 'See Other',
        304 => 'Not Modified', 307 => 'Temporary Redirect', 308 => 'Permanent Redirect',
        400 => 'Bad Request', 401 => 'Unauthorized', 403 => 'Forbidden', 404 => 'Not Found',
        405 => 'Method Not Allowed', 409 => 'Conflict', 410 => 'Gone', 413 => 'Content Too Large',
        414 => 'URI Too Long', 415 => 'Unsupported Media Type', 422 => 'Unprocessable Content',
        429 => 'Too Many Requests', 431 => 'Request Header Fields Too Large',
        500 => 'Internal Server Error', 501 => 'Not Implemented', 502 => 'Bad Gateway',
        503 => 'Service Unavailable', 504 => 'Gateway Timeout', 505 => 'HTTP Version Not Supported',
    ];

    /**
     * @param list<array{string, string}> $headers lines in order; framing headers are added here
     * @param ?string $connection value of the Connection header, or null for none
     */
    public static function render(int $status, array $headers, string $body, bool $headRequest, ?string $connection): string
    {
        $out = 'HTTP/1.1 ' . $status . ' ' . (self::REASONS[$status] ?? 'Status ' . $status) . "\r\n";
        foreach ($headers as [$name, $value]) {
            $out .= $name . ': ' . $value . "\r\n";
        }
        $bodyless = $status === 204 || $status === 304;
        if (!$bodyless) {
            $out .= 'content-length: ' . strlen($body) . "\r\n";
        }
        if ($connection !== null) {
            $out .= 'connection: ' . $connection . "\r\n";
        }
        $out .= "\r\n";
        if (!$bodyless && !$headRequest) {
            $out .= $body;
        }
        return $out;
    }

    /** A plain-text response of the server itself (early rejections, spec 1.2). */
    public static function plain(int $status, string $message, bool $headRequest, ?string $connection): string
    {
        return self::render($status, [['content-type', 'text/plain; charset=utf-8']], $message, $headRequest, $connection);
    }
}
