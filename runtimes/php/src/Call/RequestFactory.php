<?php

declare(strict_types=1);

namespace OpenRuntimes\Call;

use OpenRuntimes\Http\RequestHead;

/** Builds `$context->req` from the parsed request (spec 1.5, 1.6). */
final class RequestFactory
{
    /** @throws InternalError for a missing or malformed Host, or an invalid JSON body */
    public static function build(RequestHead $head, string $body): Request
    {
        $headers = [];
        foreach ($head->fields as [$name]) {
            if (!isset($headers[$name]) && !str_starts_with($name, 'x-open-runtimes-')) {
                $headers[$name] = $head->header($name);
            }
        }

        $scheme = trim($headers['x-forwarded-proto'] ?? '');
        if ($scheme === '') {
            $scheme = 'http';
        }
        [$host, $port] = self::hostAndPort($headers['host'] ?? '', $scheme);

        [$path, $queryString] = self::splitTarget($head->target);
        $defaultPort = $scheme === 'https' ? 443 : 80;
        $url = $scheme . '://' . $host . ($port !== $defaultPort ? ':' . $port : '') . $path
            . ($queryString !== '' ? '?' . $queryString : '');

        return new Request(
            bodyRaw: $body,
            body: self::parseBody($body, $headers['content-type'] ?? ''),
            headers: $headers,
            method: $head->method,
            scheme: $scheme,
            host: $host,
            port: $port,
            path: $path,
            queryString: $queryString,
            query: self::parseQuery($queryString),
            url: $url,
        );
    }

    /** @return array{string, int} */
    private static function hostAndPort(string $header, string $scheme): array
    {
        if ($header === '') {
            throw new InternalError('Missing Host header.');
        }
        if ($header[0] === '[') {
            $close = strpos($header, ']');
            if ($close === false) {
                throw new InternalError("Invalid Host header: $header");
            }
            $host = substr($header, 0, $close + 1);
            $rest = substr($header, $close + 1);
            $portPart = str_starts_with($rest, ':') ? substr($rest, 1) : '';
            if ($rest !== '' && !str_starts_with($rest, ':')) {
                throw new InternalError("Invalid Host header: $header");
            }
        } else {
            $colon = strpos($header, ':');
            $host = $colon === false ? $header : substr($header, 0, $colon);
            $portPart = $colon === false ? '' : substr($header, $colon + 1);
        }
        if ($portPart === '') {
            return [$host, $scheme === 'https' ? 443 : 80];
        }
        if (!ctype_digit($portPart)) {
            throw new InternalError("Invalid port in Host header: $header");
        }
        return [$host, (int) $portPart];
    }

    /** @return array{string, string} path exactly as received, and the raw query string */
    private static function splitTarget(string $target): array
    {
        if (preg_match('~^[A-Za-z][A-Za-z0-9+.-]*://[^/?]*~', $target, $match)) {
            $target = substr($target, strlen($match[0])); // absolute-form: keep the path part
        }
        $question = strpos($target, '?');
        $path = $question === false ? $target : substr($target, 0, $question);
        $queryString = $question === false ? '' : substr($target, $question + 1);
        return [$path === '' ? '/' : $path, $queryString];
    }

    /** @return array<string, string> raw keys and values: no decoding, later keys win */
    private static function parseQuery(string $queryString): array
    {
        $query = [];
        foreach (explode('&', $queryString) as $segment) {
            if ($segment === '') {
                continue;
            }
            $pair = explode('=', $segment, 2);
            $query[$pair[0]] = $pair[1] ?? '';
        }
        return $query;
    }

    private static function parseBody(string $body, string $contentType): mixed
    {
        if (stripos($contentType, 'application/json') === false) {
            return $body;
        }
        if ($body === '') {
            return [];
        }
        try {
            return json_decode($body, true, 512, JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new InternalError("Invalid JSON body.\n" . $e->getMessage());
        }
    }
}
