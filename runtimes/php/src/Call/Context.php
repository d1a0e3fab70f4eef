<?php

declare(strict_types=1);

namespace OpenRuntimes\Call;

use OpenRuntimes\Logs\LogValue;

/** The one argument of a function: `$context->req`, `$context->res`, log() and error() (spec 2). */
final class Context
{
    public function __construct(
        public Request $req,
        public Response $res,
        private readonly Channel $channel,
    ) {
    }

    public function log(mixed ...$values): void
    {
        $this->channel->log(LogValue::join($values));
    }

    public function error(mixed ...$values): void
    {
        $this->channel->error(LogValue::join($values));
    }
}
