<?php

// Test function of the shared runtime harness (runtimes spec 9.2): one action per x-action header.

return function ($context) {
    $action = $context->req->headers['x-action'] ?? '';

    switch ($action) {
        case 'plaintextResponse':
            return $context->res->send('Hello World 👋');
        case 'jsonResponse':
            return $context->res->json(['json' => true, 'message' => 'Developers are awesome.']);
        case 'customCharsetResponse':
            return $context->res->send('ÅÆ', 200, ['content-type' => 'text/plain; charset=iso-8859-1']);
        case 'multipartResponse':
            return $context->res->send(
                "--12345\r\n"
                . "Content-Disposition: form-data; name=\"partOne\"\r\n\r\n"
                . "Why just have one part?\r\n"
                . "--12345\r\n"
                . "Content-Disposition: form-data; name=\"partTwo\"\r\n\r\n"
                . "When you can have two!\r\n"
                . "--12345--",
                200,
                ['content-type' => 'multipart/form-data; boundary=12345']
            );
        case 'redirectResponse':
            return $context->res->redirect('https://github.com/');
        case 'emptyResponse':
            return $context->res->empty();
        case 'noResponse':
            $context->res->send('This should be ignored, as it is not returned.');
            return null;
        case 'doubleResponse':
            $context->res->send('This should be ignored.');
            return $context->res->send('This should be returned.');
        case 'headersResponse':
            return $context->res->send('OK', 200, [
                'first-header' => 'first-value',
                'second-header' => $context->req->headers['x-open-runtimes-custom-in-header'] ?? 'missing',
                'cookie' => $context->req->headers['cookie'] ?? 'missing',
                'x-open-runtimes-custom-out-header' => 'third-value',
            ]);
        case 'statusResponse':
            return $context->res->send('FAIL', 404);
        case 'requestMethod':
            return $context->res->send($context->req->method);
        case 'requestUrl':
            return $context->res->json([
                'url' => $context->req->url,
                'port' => $context->req->port,
                'path' => $context->req->path,
                'query' => $context->req->query,
                'queryString' => $context->req->queryString,
                'scheme' => $context->req->scheme,
                'host' => $context->req->host,
            ]);
        case 'requestHeaders':
            return $context->res->json($context->req->headers);
        case 'requestBodyPlaintext':
            return $context->res->send($context->req->body);
        case 'requestBodyJson':
            $body = $context->req->body;
            return $context->res->json([
                'key1' => is_array($body) && array_key_exists('key1', $body) ? $body['key1'] : 'Missing key',
                'key2' => is_array($body) && array_key_exists('key2', $body) ? $body['key2'] : 'Missing key',
                'raw' => $context->req->bodyRaw,
            ]);
        case 'envVars':
            $read = static fn (string $name) => getenv($name) === false ? null : getenv($name);
            return $context->res->json([
                'var' => $read('CUSTOM_ENV_VAR'),
                'emptyVar' => $read('NOT_DEFINED_VAR'),
                'secret' => $read('OPEN_RUNTIMES_SECRET'),
            ]);
        case 'logs':
            echo 'Native log';
            $context->log('Debug log');
            $context->error('Error log');
            $context->log('Log+With+Plus+Symbol');
            $context->log(42);
            $context->log(4.2);
            $context->log('true');
            $context->log(['objectKey' => 'objectValue']);
            $context->log(['arrayValue']);
            return $context->res->send('');
        case 'timeout':
            $context->log('Timeout start.');
            sleep(3);
            $context->log('Timeout end.');
            return $context->res->send('Successful response.');
        case 'sleep':
            sleep(1);
            return $context->res->send('OK');
        case 'isolatedLogs':
            $token = $context->req->bodyRaw;
            $context->log($token);
            echo 'native-' . $token;
            usleep(200000);
            $context->log($token);
            return $context->res->send($token);
        case 'largeLogs':
            $text = str_repeat('a+👋', (int) $context->req->bodyRaw);
            $context->log($text);
            $context->error($text);
            return $context->res->send('OK');
        case 'bodyLength':
            return $context->res->send((string) strlen($context->req->bodyRaw));
        default:
            throw new Exception('Unknown action');
    }
};
