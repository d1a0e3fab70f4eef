<?php

declare(strict_types=1);

namespace OpenRuntimes\Http;

/** Monotonic seconds, immune to wall-clock changes. */
final class Clock
{
    public static function now(): float
    {
        return hrtime(true) / 1e9;
    }
}
