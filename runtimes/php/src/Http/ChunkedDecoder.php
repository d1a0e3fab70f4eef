<?php

declare(strict_types=1);

namespace OpenRuntimes\Http;

/** Incremental decoder of a chunked request body that stops as soon as it passes a size limit. */
final class ChunkedDecoder
{
    private const SIZE_LINE = 0;
    private const DATA = 1;
    private const DATA_END = 2;
    private const TRAILERS = 3;
    private const DONE = 4;

    private int $state = self::SIZE_LINE;
    private int $remaining = 0;
    private string $body = '';

    public function __construct(private readonly int $limit)
    {
    }

    /**
     * Consumes bytes from the front of $buffer; returns true once the body is complete.
     * @throws BadRequest for malformed framing (400) or a body over the limit (413)
     */
    public function feed(string &$buffer): bool
    {
        while ($this->state !== self::DONE) {
            if ($this->state === self::DATA) {
                $take = min($this->remaining, strlen($buffer));
                if ($take === 0) {
                    return false;
                }
                $this->body .= substr($buffer, 0, $take);
                $buffer = (string) substr($buffer, $take);
                $this->remaining -= $take;
                if ($this->remaining === 0) {
                    $this->state = self::DATA_END;
                }
                continue;
            }
            $end = strpos($buffer, "\n");
            if ($end === false) {
                if (strlen($buffer) > 4096) {
                    throw new BadRequest('Malformed chunked body.');
                }
                return false;
            }
            $line = rtrim(substr($buffer, 0, $end), "\r");
            $buffer = (string) substr($buffer, $end + 1);
            if ($this->state === self::SIZE_LINE) {
                $size = trim(explode(';', $line, 2)[0], " \t");
                if (!preg_match('/^[0-9A-Fa-f]{1,15}$/D', $size)) {
                    throw new BadRequest('Malformed chunk size.');
                }
                $this->remaining = (int) hexdec($size);
                if (strlen($this->body) + $this->remaining > $this->limit) {
                    throw new BadRequest('Request body too large.', 413);
                }
                $this->state = $this->remaining === 0 ? self::TRAILERS : self::DATA;
            } elseif ($this->state === self::DATA_END) {
                if ($line !== '') {
                    throw new BadRequest('Malformed chunk end.');
                }
                $this->state = self::SIZE_LINE;
            } elseif ($line === '') {
                $this->state = self::DONE;
            }
        }
        return true;
    }

    public function body(): string
    {
        return $this->body;
    }
}
