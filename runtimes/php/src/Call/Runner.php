<?php

declare(strict_types=1);

namespace OpenRuntimes\Call;

use OpenRuntimes\Config;
use OpenRuntimes\Http\RequestHead;

/**
 * Runs one call in its own process (spec 1.2, steps 5 to 7) and reports to the master through
 * a Channel. The master owns the timeout: it kills this process at the deadline.
 */
final class Runner
{
    public const LOAD_FAILED = 'Could not load code file.';
    public const NOT_CALLABLE = 'User function is not valid.';
    public const EXITED = 'The function exited (exit() or die() was called) before returning a response.';

    /** Compiles the call-side classes in the master, so forked call processes inherit them. */
    public static function preload(): void
    {
        foreach ([Channel::class, Context::class, Request::class, Response::class, RequestFactory::class,
            ReturnValue::class, FunctionLoader::class, InternalError::class, UserError::class,
            \OpenRuntimes\Logs\LogValue::class] as $class) {
            class_exists($class);
        }
    }

    public static function run(RequestHead $head, string $body, \Socket $pipe, Config $config, bool $recording): void
    {
        $channel = new Channel($pipe, $recording);
        // Runs when the function calls exit/die, or on a fatal error, before PHP shuts down.
        register_shutdown_function(static function () use ($channel): void {
            if (!$channel->isClosed()) {
                $fatal = error_get_last();
                $fatalTypes = E_ERROR | E_CORE_ERROR | E_COMPILE_ERROR | E_USER_ERROR | E_PARSE;
                $message = $fatal !== null && ($fatal['type'] & $fatalTypes)
                    ? "PHP Fatal error: {$fatal['message']} in {$fatal['file']}:{$fatal['line']}"
                    : self::EXITED;
                $channel->finish(Frames::FAILURE, $message);
            }
        });
        // Native output and displayed warnings of this call go to the call's logs (spec 4.2).
        ini_set('display_errors', '1');
        ini_set('html_errors', '0');
        ini_set('log_errors', '0'); // already in the call's logs; the server's stderr stays quiet
        // Not removable, so user code that ends its own buffers cannot end the capture.
        ob_start($channel->output(...), 1, PHP_OUTPUT_HANDLER_CLEANABLE | PHP_OUTPUT_HANDLER_FLUSHABLE);

        try {
            $request = RequestFactory::build($head, $body);
        } catch (\Throwable $e) {
            $channel->finish(Frames::INTERNAL, $e instanceof InternalError ? $e->getMessage() : (string) $e);
            return;
        }
        unset($body);
        $context = new Context($request, new Response(), $channel);

        try {
            $function = FunctionLoader::load($config->functionDir, $config->entrypoint);
        } catch (\Throwable $e) {
            $channel->finish(Frames::FAILURE, self::LOAD_FAILED . "\n" . $e);
            return;
        }
        if (!is_callable($function)) {
            $channel->finish(Frames::FAILURE, self::NOT_CALLABLE);
            return;
        }

        try {
            $result = $function($context);
        } catch (\Throwable $e) {
            $channel->finish(Frames::FAILURE, (string) $e);
            return;
        }

        try {
            $response = ReturnValue::toResponse($result);
        } catch (UserError $e) {
            $channel->finish(Frames::FAILURE, $e->getMessage());
            return;
        } catch (\Throwable $e) {
            $channel->finish(Frames::INTERNAL, (string) $e);
            return;
        }
        ob_flush();
        $channel->finish(Frames::RESPONSE, serialize($response));
    }
}
