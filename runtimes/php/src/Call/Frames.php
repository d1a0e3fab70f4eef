<?php

declare(strict_types=1);

namespace OpenRuntimes\Call;

/**
 * Framing of the messages a call process sends to the master: one type byte, a 4-byte
 * big-endian length, then the payload.
 */
final class Frames
{
    /** A context.log entry. */
    public const LOG = 'L';
    /** A context.error entry. */
    public const ERROR = 'E';
    /** A piece of native output. */
    public const OUTPUT = 'O';
    /** The response record: serialize([status, header lines, body]). Ends the call. */
    public const RESPONSE = 'R';
    /** A user error: the payload goes to the errors. Ends the call. */
    public const FAILURE = 'F';
    /** An internal error (spec 5.4): logs are dropped, the payload goes to the errors. Ends the call. */
    public const INTERNAL = 'I';

    private string $buffer = '';

    public static function encode(string $type, string $payload): string
    {
        return $type . pack('N', strlen($payload)) . $payload;
    }

    public function feed(string $bytes): void
    {
        $this->buffer .= $bytes;
    }

    /**
     * Complete frames received so far; an incomplete last frame stays buffered.
     * @return list<array{string, string}>
     */
    public function take(): array
    {
        $frames = [];
        $offset = 0;
        $size = strlen($this->buffer);
        while ($size - $offset >= 5) {
            $length = unpack('N', $this->buffer, $offset + 1)[1];
            if ($size - $offset - 5 < $length) {
                break;
            }
            $frames[] = [$this->buffer[$offset], substr($this->buffer, $offset + 5, $length)];
            $offset += 5 + $length;
        }
        $this->buffer = (string) substr($this->buffer, $offset);
        return $frames;
    }
}
