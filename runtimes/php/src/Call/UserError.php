<?php

declare(strict_types=1);

namespace OpenRuntimes\Call;

/** A user error of spec 5.1 whose message is the whole errors entry. */
final class UserError extends \RuntimeException
{
}
