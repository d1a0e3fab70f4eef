<?php

declare(strict_types=1);

namespace OpenRuntimes\Call;

use OpenRuntimes\Logs\LogValue;

/** Checks a function's return value and turns it into status, header lines and body (spec 3). */
final class ReturnValue
{
    public const MISSING = 'Return statement missing. return $context->res->empty() if no response is expected.';
    public const INVALID = 'Invalid return value. Return $context->res->send(), $context->res->json(), $context->res->empty() or $context->res->redirect().';

    private const TOKEN = '/^[!#$%&\'*+\-.^_`|~0-9A-Za-z]+$/D';
    /** Framing and protocol headers belong to the server (spec 3.2.3). */
    private const DROPPED = ['content-length' => true, 'transfer-encoding' => true, 'connection' => true];

    /**
     * @return array{int, list<array{string, string}>, string}
     * @throws UserError
     */
    public static function toResponse(mixed $result): array
    {
        if ($result === null) {
            throw new UserError(self::MISSING);
        }
        if (!is_array($result)) {
            throw new UserError(self::INVALID);
        }
        $status = array_key_exists('statusCode', $result) ? $result['statusCode'] : 200;
        $headers = array_key_exists('headers', $result) ? $result['headers'] : [];
        $body = array_key_exists('body', $result) ? $result['body'] : '';

        if (is_string($status) && ctype_digit($status)) {
            $status = (int) $status;
        }
        if (!is_int($status) || $status < 200 || $status > 599) {
            throw new UserError('Invalid status code: ' . LogValue::toText($status));
        }
        if ($headers === null) {
            $headers = [];
        }
        if (!is_array($headers)) {
            throw new UserError(self::INVALID);
        }
        return [$status, self::headerLines($headers), LogValue::toText($body)];
    }

    /**
     * @param array<mixed> $headers
     * @return list<array{string, string}>
     */
    private static function headerLines(array $headers): array
    {
        $lines = [];
        $contentType = 'text/plain';
        foreach ($headers as $name => $value) {
            $name = strtolower((string) $name);
            if (str_starts_with($name, 'x-open-runtimes-') || isset(self::DROPPED[$name])) {
                continue;
            }
            if (!preg_match(self::TOKEN, $name)) {
                throw new UserError('Invalid response header: ' . $name);
            }
            $values = is_array($value) ? array_values($value) : [$value];
            foreach ($values as $item) {
                $item = LogValue::toText($item);
                if (preg_match('/[^\t\x20-\x7e\x80-\xff]/', $item)) {
                    throw new UserError('Invalid response header: ' . $name);
                }
                if ($name === 'content-type') {
                    $contentType = $item;
                } else {
                    $lines[] = [$name, $item];
                }
            }
        }
        $lower = strtolower($contentType);
        if (!str_starts_with($lower, 'multipart/') && !str_contains($lower, 'charset=')) {
            $contentType .= '; charset=utf-8';
        }
        $lines[] = ['content-type', $contentType];
        return $lines;
    }
}
