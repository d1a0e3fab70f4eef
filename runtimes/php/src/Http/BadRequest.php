<?php

declare(strict_types=1);

namespace OpenRuntimes\Http;

/** A request that cannot be parsed; answered with the given status and the connection closed. */
final class BadRequest extends \RuntimeException
{
    public function __construct(string $message, public readonly int $status = 400)
    {
        parent::__construct($message);
    }
}
