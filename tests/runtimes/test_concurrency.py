"""Checklist 9.3, Concurrency: 16 calls in flight, none delaying another, logs kept apart."""
import time
from concurrent.futures import ThreadPoolExecutor

from .client import call

IN_FLIGHT = 16


def test_concurrent_sleeps(server):
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        started = time.monotonic()
        replies = list(pool.map(lambda _: call(server.port, "sleep"), range(IN_FLIGHT)))
        elapsed = time.monotonic() - started
    for reply in replies:
        assert reply.status == 200, reply.describe()
        assert reply.text == "OK"
    # Spec 9.3: 16 one-second sleeps, served one by one, would take 16 s.
    assert elapsed < 4.0, f"16 concurrent sleeps took {elapsed:.2f} s"


def test_slow_call_does_not_block_others(server):
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(call, server.port, "timeout")
        time.sleep(0.5)  # the slow call is in flight
        quick = call(server.port, "plaintextResponse")
        assert not slow.done(), "the 3 s call ended before the quick one was answered"
        assert quick.status == 200, quick.describe()
        assert quick.text == "Hello World 👋"
        reply = slow.result()
    assert reply.status == 200, reply.describe()
    assert reply.text == "Successful response."


def test_concurrent_logs_stay_isolated(server):
    tokens = [f"req-{n:02d}" for n in range(1, IN_FLIGHT + 1)]
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        replies = list(pool.map(lambda token: call(server.port, "isolatedLogs", body=token), tokens))
    for token, reply in zip(tokens, replies):
        assert reply.status == 200, reply.describe()
        assert reply.text == token
        assert token in reply.logs
        assert "native-" + token in reply.logs
        strangers = [other for other in tokens if other != token and other in reply.logs]
        assert strangers == [], f"logs of {token} hold other calls' entries: {reply.logs!r}"
