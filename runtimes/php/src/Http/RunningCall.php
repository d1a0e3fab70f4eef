<?php

declare(strict_types=1);

namespace OpenRuntimes\Http;

use OpenRuntimes\Call\Frames;
use OpenRuntimes\Logs\CallLogs;

/** The master's view of a call running in a forked process. */
final class RunningCall
{
    public readonly Frames $frames;
    public readonly CallLogs $logs;
    /** How the call ended: a Frames type (RESPONSE, FAILURE, INTERNAL), or null while it runs. */
    public ?string $outcome = null;
    /** @var array{int, list<array{string, string}>, string}|null */
    public ?array $response = null;
    public bool $exited = false;

    public function __construct(
        public readonly int $pid,
        public readonly \Socket $pipe,
        public readonly Connection $connection,
        public readonly ?float $deadline,
        public readonly bool $recording,
        public readonly ?string $logId,
    ) {
        $this->frames = new Frames();
        $this->logs = new CallLogs();
    }

    /** Applies the frames received so far; returns true once the call has ended. */
    public function absorb(): bool
    {
        foreach ($this->frames->take() as [$type, $payload]) {
            if ($this->outcome !== null) {
                break;
            }
            match ($type) {
                Frames::LOG => $this->logs->logs[] = $payload,
                Frames::ERROR => $this->logs->errors[] = $payload,
                Frames::OUTPUT => $this->logs->output .= $payload,
                default => $this->end($type, $payload),
            };
        }
        return $this->outcome !== null;
    }

    /** Ends the call with a user or internal error, unless it has already ended. */
    public function fail(string $type, string $message): void
    {
        if ($this->outcome === null) {
            $this->end($type, $message);
        }
    }

    private function end(string $type, string $payload): void
    {
        if ($type === Frames::RESPONSE) {
            $response = unserialize($payload, ['allowed_classes' => false]);
            if (is_array($response) && count($response) === 3) {
                $this->outcome = Frames::RESPONSE;
                $this->response = $response;
                return;
            }
            $type = Frames::INTERNAL;
            $payload = 'The call process sent a malformed response.';
        }
        $this->outcome = $type === Frames::INTERNAL ? Frames::INTERNAL : Frames::FAILURE;
        $this->logs->errors[] = $payload;
    }
}
