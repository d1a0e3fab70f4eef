<?php

declare(strict_types=1);

namespace OpenRuntimes\Call;

/** `$context->req`: the request as the function sees it (spec 1.6, 2.1). */
final class Request
{
    /** @param array<string, string> $headers @param array<string, string> $query */
    public function __construct(
        public string $bodyRaw = '',
        public mixed $body = '',
        public array $headers = [],
        public string $method = 'GET',
        public string $scheme = 'http',
        public string $host = '',
        public int $port = 80,
        public string $path = '/',
        public string $queryString = '',
        public array $query = [],
        public string $url = '',
    ) {
    }
}
