<?php

declare(strict_types=1);

namespace OpenRuntimes\Http;

/** The request line and header fields of one HTTP request, as received. */
final class RequestHead
{
    /**
     * @param list<array{string, string}> $fields lower-cased name and raw value, in order
     */
    public function __construct(
        public readonly string $method,
        public readonly string $target,
        public readonly string $version,
        public readonly array $fields,
    ) {
    }

    /** All values of one header joined as the spec joins them (spec 1.6), or null if absent. */
    public function header(string $name): ?string
    {
        $values = [];
        foreach ($this->fields as [$fieldName, $value]) {
            if ($fieldName === $name) {
                $values[] = $value;
            }
        }
        if ($values === []) {
            return null;
        }
        return implode($name === 'cookie' ? '; ' : ', ', $values);
    }

    public function wantsKeepAlive(): bool
    {
        $connection = strtolower($this->header('connection') ?? '');
        if ($this->version === 'HTTP/1.0') {
            return str_contains($connection, 'keep-alive');
        }
        return !str_contains($connection, 'close');
    }
}
