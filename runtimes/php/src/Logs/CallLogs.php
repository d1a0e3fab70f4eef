<?php

declare(strict_types=1);

namespace OpenRuntimes\Logs;

/** Log entries, error entries and native output recorded by one call (spec 4.1, 4.2). */
final class CallLogs
{
    public const DIVIDER = '----------------------------------------------------------------------------';
    public const UNSUPPORTED = 'Unsupported logs detected. Use $context->log() or $context->error() for logging.';

    /** @var list<string> */
    public array $logs = [];
    /** @var list<string> */
    public array $errors = [];
    public string $output = '';

    /** The log entries, then the native-output block when anything was printed. */
    public function logsText(): string
    {
        $entries = $this->logs;
        if ($this->output !== '') {
            $output = str_ends_with($this->output, "\n") ? substr($this->output, 0, -1) : $this->output;
            array_push($entries, '', self::DIVIDER, self::UNSUPPORTED, self::DIVIDER, $output, self::DIVIDER);
        }
        return implode("\n", $entries);
    }

    public function errorsText(): string
    {
        return implode("\n", $this->errors);
    }
}
