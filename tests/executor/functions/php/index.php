<?php
// The executor tests' function (php): hello, for cold-start checks.
return function ($context) {
    return $context->res->send('Hello from php');
};
