<?php

declare(strict_types=1);

namespace OpenRuntimes\Call;

/** A failure outside the user function (spec 5.4): bad Host header, invalid JSON body. */
final class InternalError extends \RuntimeException
{
}
