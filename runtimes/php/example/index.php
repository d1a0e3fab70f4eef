<?php

// Sample function: reads an optional "id" from a JSON body and greets.

return function ($context) {
    $body = is_array($context->req->body) ? $context->req->body : [];
    $id = $body['id'] ?? 1;

    $context->log('Greeting request with id ' . $id);

    return $context->res->json([
        'message' => 'Hello Open Runtimes 👋',
        'id' => $id,
    ]);
};
