<?php

declare(strict_types=1);

namespace OpenRuntimes\Call;

/**
 * The call process's side of the pipe to the master. Entries go out as they are made, so the
 * master still has them if it must end the call at its deadline.
 */
final class Channel
{
    private bool $closed = false;

    /** @param bool $recording false when logging is disabled (spec 4.6) */
    public function __construct(private readonly \Socket $socket, private readonly bool $recording)
    {
    }

    public function log(string $entry): void
    {
        if ($this->recording) {
            $this->send(Frames::LOG, $entry);
        }
    }

    public function error(string $entry): void
    {
        if ($this->recording) {
            $this->send(Frames::ERROR, $entry);
        }
    }

    /** Output-buffer handler: native output is recorded for this call and never printed. */
    public function output(string $buffer, int $phase = 0): string
    {
        if ($this->recording && $buffer !== '') {
            $this->send(Frames::OUTPUT, $buffer);
        }
        return '';
    }

    /** Ends the call; anything sent afterwards is dropped (spec 4.7). */
    public function finish(string $type, string $payload): void
    {
        $this->send($type, $payload);
        $this->closed = true;
    }

    public function isClosed(): bool
    {
        return $this->closed;
    }

    private function send(string $type, string $payload): void
    {
        if ($this->closed) {
            return;
        }
        $bytes = Frames::encode($type, $payload);
        $length = strlen($bytes);
        for ($offset = 0; $offset < $length; $offset += $written) {
            $written = @socket_write($this->socket, $offset === 0 ? $bytes : substr($bytes, $offset));
            if ($written === false) {
                $this->closed = true; // the master has gone away or closed the call
                return;
            }
        }
    }
}
