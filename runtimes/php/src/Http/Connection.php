<?php

declare(strict_types=1);

namespace OpenRuntimes\Http;

/** One client connection and where it stands in the request/response cycle. */
final class Connection
{
    public const READ_HEAD = 0;
    public const READ_BODY = 1;
    public const QUEUED = 2;
    public const CALLING = 3;
    public const WRITING = 4;
    public const DRAINING = 5;

    public int $state = self::READ_HEAD;
    /** Bytes received and not yet consumed. */
    public string $in = '';
    /** Bytes to send, from $outOffset on. */
    public string $out = '';
    public int $outOffset = 0;
    public ?RequestHead $head = null;
    public ?ChunkedDecoder $chunked = null;
    public int $bodyLength = 0;
    public string $body = '';
    /** Seconds allowed for the call, or null for no timeout. */
    public ?int $timeout = null;
    public bool $keepAlive = true;
    /** After the response: close (true) or read the next request (false). */
    public bool $closeAfterWrite = false;
    /** After the response: read and discard what the client still sends, then close. */
    public bool $drainAfterWrite = false;
    public float $lastActivity;

    public function __construct(public readonly \Socket $socket)
    {
        $this->lastActivity = Clock::now();
    }

    /** The Connection header of a response on this connection, or null when none is needed. */
    public function connectionHeader(bool $closing): ?string
    {
        if ($closing) {
            return 'close';
        }
        return $this->head?->version === 'HTTP/1.0' ? 'keep-alive' : null;
    }

    public function hasOutput(): bool
    {
        return $this->outOffset < strlen($this->out);
    }

    /** Forgets the finished request so the connection can read the next one. */
    public function reset(): void
    {
        $this->state = self::READ_HEAD;
        $this->head = null;
        $this->chunked = null;
        $this->bodyLength = 0;
        $this->body = '';
        $this->timeout = null;
        $this->out = '';
        $this->outOffset = 0;
    }
}
