<?php

declare(strict_types=1);

namespace OpenRuntimes\Pool;

/** A specialization request the runtime cannot follow; the message is the response body. */
final class SpecializationFailed extends \RuntimeException
{
}
