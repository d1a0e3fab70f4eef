<?php

declare(strict_types=1);

namespace OpenRuntimes\Http;

use OpenRuntimes\Call\Frames;
use OpenRuntimes\Call\Runner;
use OpenRuntimes\Config;
use OpenRuntimes\ConfigError;
use OpenRuntimes\Logs\LogFiles;
use OpenRuntimes\Logs\LogHeader;
use OpenRuntimes\Pool\Environment;
use OpenRuntimes\Pool\Specialization;
use OpenRuntimes\Pool\SpecializationFailed;

/**
 * The master process: accepts connections, parses requests, runs the early checks of spec 1.2,
 * forks one process per call, enforces timeouts and writes the responses.
 */
final class Server
{
    public const BODY_LIMIT = 20971520;
    public const TIMEOUT_MESSAGE = 'Header "x-open-runtimes-timeout" must be an integer greater than 0.';
    public const SECRET_MESSAGE = 'Unauthorized. Provide correct "x-open-runtimes-secret" header.';
    public const TOO_LARGE_MESSAGE = 'Request body too large. The limit is 20971520 bytes (20 MiB).';
    public const TIMED_OUT_MESSAGE = 'Execution timed out.';
    public const SPECIALIZE_HEADER = 'x-open-runtimes-specialize';
    public const NOT_SPECIALIZED_MESSAGE = 'Runtime is not specialized yet.';
    public const ALREADY_SPECIALIZED_MESSAGE = 'Runtime is already specialized.';

    /** select() cannot watch descriptors above FD_SETSIZE (1024); stay well below it. */
    private const MAX_CONNECTIONS = 768;
    private const MAX_CALLS = 128;
    private const IDLE_SECONDS = 30.0;
    private const DRAIN_SECONDS = 5.0;
    private const READ_CHUNK = 262144;

    /** @var array<int, Connection> by spl_object_id of the socket */
    private array $connections = [];
    /** @var array<int, RunningCall> by pid */
    private array $calls = [];
    /** @var array<int, int> pid by spl_object_id of the call's pipe */
    private array $pipes = [];
    /** @var array<int, true> pids of call processes whose call is closed but that have not exited */
    private array $detached = [];
    /** @var list<Connection> requests waiting for a free call slot */
    private array $queue = [];
    private bool $stopping = false;
    private bool $callCodeLoaded = false;
    /** Started in pool mode: specialization requests are answered (they stay calls otherwise). */
    private readonly bool $pooled;

    /** @param array{\Socket, \Socket} $wake a socket pair that signal handlers write to */
    private function __construct(
        private Config $config,
        private readonly \Socket $listener,
        private readonly array $wake,
    ) {
        $this->pooled = $config->pool;
        if ($this->pooled) {
            $this->preloadForPool();
        }
    }

    /** @throws ConfigError when the address cannot be bound */
    public static function listen(Config $config): self
    {
        $host = trim($config->host, '[]');
        $domain = str_contains($host, ':') ? AF_INET6 : AF_INET;
        $socket = socket_create($domain, SOCK_STREAM, SOL_TCP);
        if ($socket === false) {
            throw new ConfigError('cannot create a socket: ' . socket_strerror(socket_last_error()));
        }
        socket_set_option($socket, SOL_SOCKET, SO_REUSEADDR, 1);
        if (!@socket_bind($socket, $host, $config->port) || !@socket_listen($socket, 511)) {
            $reason = socket_strerror(socket_last_error($socket));
            throw new ConfigError("cannot listen on {$config->host}:{$config->port}: $reason");
        }
        socket_set_nonblock($socket);
        $wake = [];
        socket_create_pair(AF_UNIX, SOCK_STREAM, 0, $wake);
        socket_set_nonblock($wake[0]);
        socket_set_nonblock($wake[1]);
        return new self($config, $socket, $wake);
    }

    /** Serves until SIGTERM or SIGINT; returns the exit status. */
    public function serve(): int
    {
        pcntl_async_signals(true);
        $stop = function (): void {
            $this->stopping = true;
            @socket_write($this->wake[1], 's');
        };
        foreach ([SIGTERM, SIGINT, SIGHUP, SIGQUIT] as $signal) {
            pcntl_signal($signal, $stop);
        }
        // A child's exit must interrupt select() so its call can be finished at once.
        pcntl_signal(SIGCHLD, function (): void {
            @socket_write($this->wake[1], 'c');
        });

        while (!$this->stopping) {
            $this->tick();
        }
        $this->shutdown();
        return 0;
    }

    private function tick(): void
    {
        $this->reapChildren();
        $now = Clock::now();
        $this->expireCalls($now);
        $this->expireConnections($now);
        $this->startQueuedCalls();

        $read = [$this->wake[0]];
        $write = [];
        if (count($this->connections) < self::MAX_CONNECTIONS) {
            $read[] = $this->listener;
        }
        foreach ($this->connections as $connection) {
            if ($connection->hasOutput()) {
                $write[] = $connection->socket;
            }
            if ($connection->state === Connection::READ_HEAD || $connection->state === Connection::READ_BODY
                || $connection->state === Connection::DRAINING) {
                $read[] = $connection->socket;
            }
        }
        foreach ($this->calls as $call) {
            $read[] = $call->pipe;
        }
        $wait = 1.0;
        foreach ($this->calls as $call) {
            if ($call->deadline !== null) {
                $wait = min($wait, max(0.0, $call->deadline - $now));
            }
        }
        $except = null;
        $seconds = (int) $wait;
        $ready = @socket_select($read, $write, $except, $seconds, (int) (($wait - $seconds) * 1e6));
        if ($ready === false || $ready === 0) {
            return; // interrupted by a signal, or a timer is due
        }

        foreach ($write as $socket) {
            $connection = $this->connections[spl_object_id($socket)] ?? null;
            if ($connection !== null) {
                $this->flush($connection);
            }
        }
        foreach ($read as $socket) {
            $id = spl_object_id($socket);
            if ($socket === $this->wake[0]) {
                @socket_recv($socket, $ignored, 4096, 0);
            } elseif ($socket === $this->listener) {
                $this->acceptAll();
            } elseif (isset($this->pipes[$id])) {
                $call = $this->calls[$this->pipes[$id]] ?? null;
                if ($call !== null) {
                    $this->readPipe($call);
                }
            } elseif (isset($this->connections[$id])) {
                $this->readConnection($this->connections[$id]);
            }
        }
    }

    private function acceptAll(): void
    {
        while (count($this->connections) < self::MAX_CONNECTIONS) {
            $socket = @socket_accept($this->listener);
            if ($socket === false) {
                return;
            }
            socket_set_nonblock($socket);
            @socket_set_option($socket, SOL_TCP, TCP_NODELAY, 1);
            $this->connections[spl_object_id($socket)] = new Connection($socket);
        }
    }

    private function readConnection(Connection $connection): void
    {
        $received = 0;
        while ($received < 4 * self::READ_CHUNK) {
            $count = @socket_recv($connection->socket, $data, self::READ_CHUNK, 0);
            if ($count === false) {
                $error = socket_last_error($connection->socket);
                socket_clear_error($connection->socket);
                if ($error === SOCKET_EAGAIN || $error === SOCKET_EWOULDBLOCK || $error === SOCKET_EINTR) {
                    break;
                }
                $this->close($connection);
                return;
            }
            if ($count === 0) {
                // The client is gone; a half-received request cannot be answered.
                $this->close($connection);
                return;
            }
            $received += $count;
            if ($connection->state !== Connection::DRAINING) {
                $connection->in .= $data;
            }
        }
        $connection->lastActivity = Clock::now();
        $this->advance($connection);
    }

    /** Moves a connection forward with the bytes it has buffered. */
    private function advance(Connection $connection): void
    {
        if ($connection->state === Connection::READ_HEAD) {
            if (!$this->readHead($connection)) {
                return;
            }
        }
        if ($connection->state === Connection::READ_BODY) {
            $this->readBody($connection);
        }
    }

    private function readHead(Connection $connection): bool
    {
        if (ltrim($connection->in, "\r\n") === '') {
            $connection->in = '';
            return false;
        }
        try {
            $length = HeadParser::headLength($connection->in);
            if ($length === null || $length > HeadParser::MAX_HEAD_BYTES) {
                if (strlen($connection->in) > HeadParser::MAX_HEAD_BYTES) {
                    throw new BadRequest('Request header fields too large.', 431);
                }
                HeadParser::checkRequestLine($connection->in);
                return false;
            }
            $head = HeadParser::parse(substr($connection->in, 0, $length));
            $connection->in = (string) substr($connection->in, $length);
            $this->beginRequest($connection, $head);
        } catch (BadRequest $e) {
            $connection->keepAlive = false;
            $this->reject($connection, $e->status, $e->getMessage(), true);
            return false;
        }
        return $connection->state === Connection::READ_BODY;
    }

    /** Decides the body framing and runs the early checks (spec 1.2, steps 2 to 4). */
    private function beginRequest(Connection $connection, RequestHead $head): void
    {
        $connection->head = $head;
        $connection->keepAlive = $head->wantsKeepAlive();

        $transferEncoding = $head->header('transfer-encoding');
        $contentLength = $head->header('content-length');
        if ($transferEncoding !== null) {
            if ($contentLength !== null || strtolower(trim($transferEncoding)) !== 'chunked') {
                throw new BadRequest('Unsupported request framing.');
            }
            $connection->chunked = new ChunkedDecoder(self::BODY_LIMIT);
        } elseif ($contentLength !== null) {
            $lengths = array_unique(array_map('trim', explode(',', $contentLength)));
            if (count($lengths) !== 1 || !preg_match('/^[0-9]+$/D', $lengths[0])) {
                throw new BadRequest('Malformed Content-Length.');
            }
            $connection->bodyLength = strlen(ltrim($lengths[0], '0')) > 15 ? PHP_INT_MAX : (int) $lengths[0];
        }
        $bodyPending = $connection->chunked !== null || $connection->bodyLength > 0;

        $timeout = trim($head->header('x-open-runtimes-timeout') ?? '');
        if ($timeout !== '' && !preg_match('/^[1-9][0-9]*$/D', $timeout)) {
            $this->reject($connection, 500, self::TIMEOUT_MESSAGE, $bodyPending);
            return;
        }
        // Timers beyond ~31 years act as no timeout rather than overflowing.
        $connection->timeout = $timeout === '' || strlen($timeout) > 9 ? null : (int) $timeout;

        $secret = $this->config->secret;
        if ($secret !== '') {
            $given = $head->header('x-open-runtimes-secret') ?? '';
            if ($given === '' || !hash_equals($secret, $given)) {
                $this->reject($connection, 500, self::SECRET_MESSAGE, $bodyPending);
                return;
            }
        }

        if ($connection->bodyLength > self::BODY_LIMIT) {
            $this->reject($connection, 413, self::TOO_LARGE_MESSAGE, true);
            return;
        }

        if ($bodyPending && $head->version === 'HTTP/1.1'
            && strtolower(trim($head->header('expect') ?? '')) === '100-continue') {
            $connection->out .= "HTTP/1.1 100 Continue\r\n\r\n";
            $this->flush($connection);
        }
        $connection->state = Connection::READ_BODY;
    }

    private function readBody(Connection $connection): void
    {
        if ($connection->chunked !== null) {
            try {
                if (!$connection->chunked->feed($connection->in)) {
                    return;
                }
            } catch (BadRequest $e) {
                $message = $e->status === 413 ? self::TOO_LARGE_MESSAGE : $e->getMessage();
                $this->reject($connection, $e->status, $message, true);
                return;
            }
            $connection->body = $connection->chunked->body();
            $connection->chunked = null;
        } else {
            if (strlen($connection->in) < $connection->bodyLength) {
                return;
            }
            $connection->body = (string) substr($connection->in, 0, $connection->bodyLength);
            $connection->in = (string) substr($connection->in, $connection->bodyLength);
        }
        if ($this->pooled && $this->answerForPool($connection)) {
            return;
        }
        $connection->state = Connection::QUEUED;
        $this->queue[] = $connection;
        $this->startQueuedCalls();
    }

    /**
     * Pool mode, once the body is read (pool contract): specializes on a specialization
     * request, refuses a second one, and refuses calls until then. False for a call to run.
     */
    private function answerForPool(Connection $connection): bool
    {
        $specializing = trim($connection->head->header(self::SPECIALIZE_HEADER) ?? '') === '1';
        $waiting = $this->config->pool;
        if (!$specializing && !$waiting) {
            return false;
        }
        $closing = !$connection->keepAlive;
        $headRequest = $connection->head->method === 'HEAD';
        $connectionHeader = $connection->connectionHeader($closing);
        if (!$specializing) {
            $bytes = ResponseWriter::plain(503, self::NOT_SPECIALIZED_MESSAGE, $headRequest, $connectionHeader);
        } elseif (!$waiting) {
            $bytes = ResponseWriter::plain(409, self::ALREADY_SPECIALIZED_MESSAGE, $headRequest, $connectionHeader);
        } else {
            try {
                $this->specialize(Specialization::fromRequest($connection->body, $this->config->functionDir));
                $bytes = ResponseWriter::render(200, [['content-type', 'application/json; charset=utf-8']],
                    '{"specialized":true}', $headRequest, $connectionHeader);
            } catch (SpecializationFailed $e) {
                $bytes = ResponseWriter::plain(400, $e->getMessage(), $headRequest, $connectionHeader);
            }
        }
        $connection->body = '';
        $this->respond($connection, $bytes, $closing);
        return true;
    }

    /** Gives the master the function's variables and entrypoint; forked calls inherit them. */
    private function specialize(Specialization $specialization): void
    {
        // A specialized runtime looks like one started normally with these variables.
        Environment::remove('OPEN_RUNTIMES_POOL');
        Environment::set($specialization->variables);
        $this->config = $this->config->specialized($specialization->entrypoint);
        // Resolved once here, the entrypoint's path sits in the realpath cache every call inherits.
        realpath(rtrim($this->config->functionDir, '/') . '/' . $specialization->entrypoint);
    }

    /**
     * A pool runtime waits for its function, so it compiles now what normal mode compiles on
     * demand: the request path, the specialization and the call-side classes.
     */
    private function preloadForPool(): void
    {
        foreach ([Connection::class, HeadParser::class, RequestHead::class, ChunkedDecoder::class,
            BadRequest::class, ResponseWriter::class, RunningCall::class, Frames::class,
            \OpenRuntimes\Logs\CallLogs::class, LogHeader::class, LogFiles::class,
            \OpenRuntimes\Logs\Truncate::class, Specialization::class, SpecializationFailed::class,
            Environment::class] as $class) {
            class_exists($class);
        }
        Runner::preload();
        $this->callCodeLoaded = true;
    }

    /**
     * Answers without calling the function. With $unreadBody the client may still be sending,
     * so the connection is closed after draining what it sends (closing at once could reset it
     * before it reads the answer).
     */
    private function reject(Connection $connection, int $status, string $message, bool $unreadBody): void
    {
        $closing = $unreadBody || !$connection->keepAlive;
        $headRequest = $connection->head?->method === 'HEAD';
        $connection->drainAfterWrite = $unreadBody;
        $this->respond($connection, ResponseWriter::plain($status, $message, $headRequest, $connection->connectionHeader($closing)), $closing);
    }

    private function respond(Connection $connection, string $bytes, bool $close): void
    {
        $connection->state = Connection::WRITING;
        $connection->closeAfterWrite = $close;
        $connection->out = $connection->hasOutput() ? substr($connection->out, $connection->outOffset) . $bytes : $bytes;
        $connection->outOffset = 0;
        $connection->lastActivity = Clock::now();
        $this->flush($connection);
    }

    private function flush(Connection $connection): void
    {
        while ($connection->hasOutput()) {
            $chunk = $connection->outOffset === 0 ? $connection->out : substr($connection->out, $connection->outOffset);
            $written = @socket_write($connection->socket, $chunk);
            if ($written === false) {
                $error = socket_last_error($connection->socket);
                socket_clear_error($connection->socket);
                if ($error === SOCKET_EAGAIN || $error === SOCKET_EWOULDBLOCK || $error === SOCKET_EINTR) {
                    return;
                }
                $this->close($connection);
                return;
            }
            $connection->outOffset += $written;
            $connection->lastActivity = Clock::now();
            if ($written === 0) {
                return;
            }
        }
        $connection->out = '';
        $connection->outOffset = 0;
        if ($connection->state === Connection::WRITING) {
            $this->afterResponse($connection);
        }
    }

    private function afterResponse(Connection $connection): void
    {
        if ($connection->drainAfterWrite) {
            @socket_shutdown($connection->socket, 1);
            $connection->state = Connection::DRAINING;
            $connection->in = '';
            $connection->lastActivity = Clock::now();
        } elseif ($connection->closeAfterWrite) {
            $this->close($connection);
        } else {
            $connection->reset();
            $this->advance($connection); // a pipelined request may be buffered already
        }
    }

    private function close(Connection $connection): void
    {
        unset($this->connections[spl_object_id($connection->socket)]);
        @socket_close($connection->socket);
        $connection->state = Connection::DRAINING;
    }

    private function expireConnections(float $now): void
    {
        foreach ($this->connections as $connection) {
            $idle = $now - $connection->lastActivity;
            $expired = match ($connection->state) {
                Connection::DRAINING => $idle > self::DRAIN_SECONDS,
                Connection::READ_HEAD, Connection::READ_BODY, Connection::WRITING => $idle > self::IDLE_SECONDS,
                default => false,
            };
            if ($expired) {
                $this->close($connection);
            }
        }
    }

    private function startQueuedCalls(): void
    {
        while ($this->queue !== [] && count($this->calls) < self::MAX_CALLS) {
            $connection = array_shift($this->queue);
            if (isset($this->connections[spl_object_id($connection->socket)])) {
                $this->startCall($connection);
            }
        }
    }

    private function startCall(Connection $connection): void
    {
        if (!$this->callCodeLoaded) {
            // Loaded at the first call, then inherited by every forked call process.
            Runner::preload();
            $this->callCodeLoaded = true;
        }
        $head = $connection->head;
        $recording = strtolower(trim($head->header('x-open-runtimes-logging') ?? '')) !== 'disabled';
        $logId = $head->header('x-open-runtimes-log-id');
        if ($logId !== null && !preg_match('/^[A-Za-z0-9_-]{1,64}$/D', $logId)) {
            $logId = null; // ignored, which also keeps it from naming a path
        }

        $pair = [];
        $pid = socket_create_pair(AF_UNIX, SOCK_STREAM, 0, $pair) ? pcntl_fork() : -1;
        if ($pid === 0) {
            $this->becomeCallProcess($connection, $pair[1], $recording);
        }
        if ($pid === -1) {
            foreach ($pair as $socket) {
                socket_close($socket);
            }
            $this->respond($connection, $this->renderFailure($connection, '', 'Could not start a process for the call.', $recording, null), !$connection->keepAlive);
            return;
        }
        socket_close($pair[1]);
        socket_set_nonblock($pair[0]);
        $deadline = $connection->timeout === null ? null : Clock::now() + $connection->timeout;
        $call = new RunningCall($pid, $pair[0], $connection, $deadline, $recording, $logId);
        $this->calls[$pid] = $call;
        $this->pipes[spl_object_id($pair[0])] = $pid;
        $connection->state = Connection::CALLING;
        $connection->body = ''; // the call process has its own copy
    }

    /** Runs in the forked process: drops the master's resources, then runs the call and exits. */
    private function becomeCallProcess(Connection $connection, \Socket $pipe, bool $recording): never
    {
        foreach ([SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD] as $signal) {
            pcntl_signal($signal, SIG_DFL);
        }
        // Close inherited descriptors so that connections close when the master closes them.
        socket_close($this->listener);
        socket_close($this->wake[0]);
        socket_close($this->wake[1]);
        foreach ($this->connections as $other) {
            socket_close($other->socket);
        }
        foreach ($this->calls as $call) {
            socket_close($call->pipe);
        }
        $this->connections = [];
        $this->calls = [];
        $this->queue = [];
        $this->config = $this->config->withoutSecret();

        Runner::run($connection->head, $connection->body, $pipe, $this->config, $recording);
        exit(0);
    }

    /** Reads what the call process sent; finishes the call when it ended or its pipe closed. */
    private function readPipe(RunningCall $call): void
    {
        $closed = $this->drainPipe($call);
        if ($call->absorb() || $closed) {
            $call->fail(Frames::INTERNAL, 'The call process ended without a response.');
            $this->finishCall($call);
        }
    }

    /** Reads everything buffered in the call's pipe; returns true when the pipe is closed. */
    private function drainPipe(RunningCall $call): bool
    {
        while (true) {
            $count = @socket_recv($call->pipe, $data, self::READ_CHUNK, 0);
            if ($count === 0) {
                return true;
            }
            if ($count === false) {
                $error = socket_last_error($call->pipe);
                socket_clear_error($call->pipe);
                return $error !== SOCKET_EAGAIN && $error !== SOCKET_EWOULDBLOCK && $error !== SOCKET_EINTR;
            }
            $call->frames->feed($data);
        }
    }

    private function reapChildren(): void
    {
        while (($pid = pcntl_waitpid(-1, $status, WNOHANG)) > 0) {
            unset($this->detached[$pid]);
            $call = $this->calls[$pid] ?? null;
            if ($call === null) {
                continue;
            }
            $call->exited = true;
            $this->drainPipe($call);
            if (!$call->absorb()) {
                $reason = pcntl_wifsignaled($status)
                    ? 'signal ' . pcntl_wtermsig($status)
                    : 'status ' . pcntl_wexitstatus($status);
                $call->fail(Frames::INTERNAL, "The call process ended without a response ($reason).");
            }
            $this->finishCall($call);
        }
    }

    private function expireCalls(float $now): void
    {
        foreach ($this->calls as $call) {
            if ($call->deadline !== null && $now >= $call->deadline) {
                posix_kill($call->pid, SIGKILL);
                $this->drainPipe($call); // keeps what was recorded before the deadline
                if (!$call->absorb()) {
                    $call->fail(Frames::FAILURE, self::TIMED_OUT_MESSAGE);
                }
                $this->finishCall($call);
            }
        }
    }

    private function finishCall(RunningCall $call): void
    {
        unset($this->calls[$call->pid], $this->pipes[spl_object_id($call->pipe)]);
        socket_close($call->pipe);
        if (!$call->exited) {
            $this->detached[$call->pid] = true;
        }
        $connection = $call->connection;
        if (!isset($this->connections[spl_object_id($connection->socket)])) {
            return;
        }
        $logs = $call->outcome === Frames::INTERNAL ? '' : $call->logs->logsText();
        $errors = $call->logs->errorsText();
        if ($call->outcome === Frames::RESPONSE) {
            [$status, $headers, $body] = $call->response;
        } else {
            [$status, $headers, $body] = [500, [['content-type', 'text/plain; charset=utf-8']], ''];
        }
        $bytes = $this->renderFunctionResponse($connection, $status, $headers, $body, $logs, $errors, $call->recording, $call->logId);
        $this->respond($connection, $bytes, !$connection->keepAlive);
    }

    private function renderFailure(Connection $connection, string $logs, string $errors, bool $recording, ?string $logId): string
    {
        return $this->renderFunctionResponse($connection, 500, [['content-type', 'text/plain; charset=utf-8']], '', $logs, $errors, $recording, $logId);
    }

    /**
     * A response once the call has begun: the function's headers, then the protocol headers
     * (spec 3.2.5), with log files written first when asked for (spec 4.5).
     * @param list<array{string, string}> $headers
     */
    private function renderFunctionResponse(Connection $connection, int $status, array $headers, string $body, string $logs, string $errors, bool $recording, ?string $logId): string
    {
        if (!$recording) {
            $logs = $errors = '';
        } elseif ($logId !== null && is_dir($this->config->logsDir)) {
            if (LogFiles::write($this->config->logsDir, $logId, $logs, $errors)) {
                $echoId = $logId;
            }
        }
        $headers[] = ['x-open-runtimes-logs', LogHeader::encode($logs)];
        $headers[] = ['x-open-runtimes-errors', LogHeader::encode($errors)];
        if (isset($echoId)) {
            $headers[] = ['x-open-runtimes-log-id', $echoId];
        }
        $connectionHeader = $connection->connectionHeader(!$connection->keepAlive);
        return ResponseWriter::render($status, $headers, $body, $connection->head->method === 'HEAD', $connectionHeader);
    }

    /** Stops at once: no new connections, every call process killed and reaped (spec 1.1.8). */
    private function shutdown(): void
    {
        socket_close($this->listener);
        $pids = array_merge(array_keys($this->calls), array_keys($this->detached));
        foreach ($pids as $pid) {
            posix_kill($pid, SIGKILL);
        }
        foreach ($pids as $pid) {
            pcntl_waitpid($pid, $status);
        }
        foreach ($this->connections as $connection) {
            @socket_close($connection->socket);
        }
    }
}
