<?php

declare(strict_types=1);

namespace OpenRuntimes\Logs;

/** Turns a logged value into text (spec 4.1); also used for response bodies and header values. */
final class LogValue
{
    public const JSON_FLAGS = JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES;

    public static function toText(mixed $value): string
    {
        if (is_string($value)) {
            return $value;
        }
        if ($value instanceof \Throwable) {
            return (string) $value;
        }
        if (is_array($value) || is_object($value)) {
            try {
                $json = json_encode($value, self::JSON_FLAGS);
            } catch (\Throwable) {
                $json = false; // a failing jsonSerialize(): fall back to the plain form
            }
            if ($json !== false) {
                return $json;
            }
            if ($value instanceof \Stringable) {
                return (string) $value;
            }
            return print_r($value, true);
        }
        if ($value === null) {
            return '';
        }
        return strval($value);
    }

    /** @param array<mixed> $values */
    public static function join(array $values): string
    {
        return implode(' ', array_map(self::toText(...), $values));
    }
}
