<?php

declare(strict_types=1);

namespace OpenRuntimes\Call;

use OpenRuntimes\Logs\LogValue;

/** `$context->res`: builds response records; it sends nothing (spec 2.2). */
final class Response
{
    /** @return array{body: mixed, statusCode: mixed, headers: mixed} */
    public function send(mixed $body, mixed $statusCode = 200, mixed $headers = []): array
    {
        return ['body' => $body, 'statusCode' => $statusCode, 'headers' => $headers];
    }

    /** @return array{body: string, statusCode: mixed, headers: array<mixed>} */
    public function json(mixed $obj, mixed $statusCode = 200, mixed $headers = []): array
    {
        $headers = self::without((array) $headers, 'content-type');
        $headers['content-type'] = 'application/json';
        $body = json_encode($obj, LogValue::JSON_FLAGS | JSON_THROW_ON_ERROR);
        return ['body' => $body, 'statusCode' => $statusCode, 'headers' => $headers];
    }

    /** @return array{body: string, statusCode: int, headers: array<never>} */
    public function empty(): array
    {
        return ['body' => '', 'statusCode' => 204, 'headers' => []];
    }

    /** @return array{body: string, statusCode: mixed, headers: array<mixed>} */
    public function redirect(mixed $url, mixed $statusCode = 301, mixed $headers = []): array
    {
        $headers = self::without((array) $headers, 'location');
        $headers['location'] = $url;
        return ['body' => '', 'statusCode' => $statusCode, 'headers' => $headers];
    }

    /** A copy of $headers without $name in any letter case. */
    private static function without(array $headers, string $name): array
    {
        foreach (array_keys($headers) as $key) {
            if (strtolower((string) $key) === $name) {
                unset($headers[$key]);
            }
        }
        return $headers;
    }
}
