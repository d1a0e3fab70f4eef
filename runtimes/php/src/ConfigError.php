<?php

declare(strict_types=1);

namespace OpenRuntimes;

/** The server cannot start: bad settings, or the address cannot be bound. */
final class ConfigError extends \RuntimeException
{
}
