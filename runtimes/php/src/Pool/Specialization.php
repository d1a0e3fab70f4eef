<?php

declare(strict_types=1);

namespace OpenRuntimes\Pool;

/**
 * What a specialization request makes of a pool runtime (pool contract): the variables to set
 * and the entrypoint, from the request body and the function's `.open-runtimes` file.
 */
final class Specialization
{
    public const BUILD_FILE = '.open-runtimes';

    /** @param array<string, string> $variables every variable to set, OPEN_RUNTIMES_ENTRYPOINT included */
    private function __construct(
        public readonly array $variables,
        public readonly string $entrypoint,
    ) {
    }

    /**
     * Reads the request body (`{"variables": {...}, "entrypoint": "..."}`, both optional) and the
     * function dir's `.open-runtimes`, whose variables win as when start.sh sources it.
     * @throws SpecializationFailed for a body or build file that cannot be followed
     */
    public static function fromRequest(string $body, string $functionDir): self
    {
        [$variables, $entrypoint] = self::parseBody($body);
        $built = self::readBuildFile(rtrim($functionDir, '/') . '/' . self::BUILD_FILE);
        foreach ($built ?? [] as $name => $value) {
            $variables[$name] = $value;
        }
        $entrypoint = $built['OPEN_RUNTIMES_ENTRYPOINT'] ?? $entrypoint;
        if ($entrypoint === null || $entrypoint === '') {
            throw new SpecializationFailed('Specialization failed: no entrypoint.');
        }
        $variables['OPEN_RUNTIMES_ENTRYPOINT'] = $entrypoint;
        // The secret belongs to the caller, never to the function.
        unset($variables['OPEN_RUNTIMES_SECRET']);
        return new self($variables, $entrypoint);
    }

    /** @return array{array<string, string>, ?string} */
    private static function parseBody(string $body): array
    {
        if (trim($body) === '') {
            return [[], null]; // both keys are optional, so is the whole object
        }
        try {
            // Objects stay objects, so `{}` and `[]` differ.
            $request = json_decode($body, false, 64, JSON_THROW_ON_ERROR);
        } catch (\JsonException) {
            $request = null;
        }
        if (!$request instanceof \stdClass) {
            throw new SpecializationFailed('Specialization failed: invalid JSON body.');
        }

        $variables = [];
        if (property_exists($request, 'variables')) {
            if (!$request->variables instanceof \stdClass) {
                throw new SpecializationFailed('Specialization failed: variables must map strings to strings.');
            }
            foreach (get_object_vars($request->variables) as $name => $value) {
                if (!is_string($value)) {
                    throw new SpecializationFailed('Specialization failed: variables must map strings to strings.');
                }
                $name = (string) $name; // PHP turns numeric keys into integers
                self::checkVariable($name, $value);
                $variables[$name] = $value;
            }
        }

        $entrypoint = $request->entrypoint ?? null;
        if ($entrypoint !== null && !is_string($entrypoint)) {
            throw new SpecializationFailed('Specialization failed: entrypoint must be a string.');
        }
        if ($entrypoint !== null && str_contains($entrypoint, "\0")) {
            throw new SpecializationFailed('Specialization failed: entrypoint must not contain a NUL byte.');
        }
        return [$variables, $entrypoint];
    }

    /** Only what the environment can hold: putenv("A=B=c") would set A, and NUL ends a string. */
    private static function checkVariable(string $name, string $value): void
    {
        if ($name === '' || str_contains($name, '=') || str_contains($name, "\0")) {
            throw new SpecializationFailed('Specialization failed: invalid variable name ' . json_encode($name) . '.');
        }
        if (str_contains($value, "\0")) {
            throw new SpecializationFailed('Specialization failed: the value of variable ' . json_encode($name) . ' contains a NUL byte.');
        }
    }

    /**
     * The `NAME=value` lines of the build file (what start.sh would source), or null without one.
     * Blank lines, comments and lines that are not assignments are skipped.
     * @return array<string, string>|null
     */
    private static function readBuildFile(string $path): ?array
    {
        if (!is_file($path)) {
            return null;
        }
        $text = @file_get_contents($path);
        if ($text === false) {
            throw new SpecializationFailed('Specialization failed: cannot read ' . self::BUILD_FILE . '.');
        }
        $variables = [];
        foreach (preg_split('/\r?\n/', $text) as $line) {
            if (!preg_match('/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*?)\s*$/D', $line, $match)) {
                continue;
            }
            $value = $match[2];
            if (strlen($value) >= 2 && ($value[0] === '"' || $value[0] === "'") && $value[-1] === $value[0]) {
                $value = substr($value, 1, -1);
            }
            if (!str_contains($value, "\0")) {
                $variables[$match[1]] = $value;
            }
        }
        return $variables;
    }
}
