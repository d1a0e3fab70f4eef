"""Choosing executors: the algorithms, rendezvous hashing and the addressing modes.

Every function returns candidates in the order to try them: the first is the choice, the
others are the fallbacks used when connecting to the choice fails.
"""
from __future__ import annotations

import hashlib
import random as _random
from typing import Callable, Sequence

from proxy import errors
from proxy.health import ExecutorState, RuntimeHealth

ANYCAST_EFFICIENT = "anycast-efficient"
ANYCAST_FAST = "anycast-fast"
BROADCAST = "broadcast"
ADDRESSING_METHODS = (ANYCAST_EFFICIENT, ANYCAST_FAST, BROADCAST)

Order = Callable[[Sequence[ExecutorState]], list[ExecutorState]]


class RoundRobin:
    """The next executor in configured order after the last one chosen (per worker process)."""

    def __init__(self, size: int):
        self._size = max(size, 1)
        self._next = 0

    def __call__(self, candidates: Sequence[ExecutorState]) -> list[ExecutorState]:
        start, size = self._next, self._size
        ordered = sorted(candidates, key=lambda state: (state.index - start) % size)
        if ordered:
            self._next = (ordered[0].index + 1) % size
        return ordered


class Random:
    """A uniform choice; the fallbacks follow in configured order."""

    def __init__(self, rng: _random.Random | None = None):
        self._rng = rng or _random.Random()

    def __call__(self, candidates: Sequence[ExecutorState]) -> list[ExecutorState]:
        if len(candidates) < 2:
            return list(candidates)
        pick = self._rng.randrange(len(candidates))
        return [candidates[pick], *candidates[:pick], *candidates[pick + 1:]]


def first(candidates: Sequence[ExecutorState]) -> list[ExecutorState]:
    return list(candidates)


def last(candidates: Sequence[ExecutorState]) -> list[ExecutorState]:
    return list(reversed(candidates))


def make_order(algorithm: str, size: int, rng: _random.Random | None = None) -> Order:
    """The ordering function of an ``OPR_PROXY_ALGORITHM`` value."""
    if algorithm == "round-robin":
        return RoundRobin(size)
    if algorithm == "random":
        return Random(rng)
    if algorithm == "first":
        return first
    if algorithm == "last":
        return last
    raise ValueError(f"unknown algorithm {algorithm!r}")


def rendezvous_weight(runtime_id: str, name: str) -> int:
    """The weight of executor ``name`` for ``runtime_id``: the same in every proxy replica."""
    digest = hashlib.blake2b(f"{name}\x00{runtime_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rendezvous_rank(runtime_id: str, candidates: Sequence[ExecutorState]) -> list[ExecutorState]:
    """Candidates by decreasing weight (highest random weight first); ties by configured order."""
    return sorted(candidates, key=lambda state: (-rendezvous_weight(runtime_id, state.name), state.index))


class Balancer:
    """Picks executors among the online ones for each addressing method."""

    def __init__(self, states: list[ExecutorState], algorithm: str, usage_limit: float = 80.0,
                 inflight_cap: int = 64, rng: _random.Random | None = None):
        self._states = states
        self._order = make_order(algorithm, len(states), rng)
        self._fast = Random(rng)
        self._usage_limit = usage_limit
        self._inflight_cap = inflight_cap

    def online(self) -> list[ExecutorState]:
        return [state for state in self._states if state.online]

    def loaded(self, state: ExecutorState) -> bool:
        """Above the load bound: host usage at the limit or too many requests in flight."""
        return (state.usage is not None and state.usage >= self._usage_limit) or state.inflight > self._inflight_cap

    def plan(self, method: str, runtime_id: str | None = None) -> list[ExecutorState]:
        """Candidates to try for an anycast request, best first; 503 when none is online."""
        online = self.online()
        if not online:
            raise errors.no_executor()
        if method == ANYCAST_FAST:
            return self._fast(online)
        if runtime_id:
            return self._by_affinity(runtime_id, online)
        light = [state for state in online if not self.loaded(state)]
        heavy = [state for state in online if self.loaded(state)]
        if not light:
            return self._order(heavy)
        return self._order(light) + heavy

    def _by_affinity(self, runtime_id: str, online: list[ExecutorState]) -> list[ExecutorState]:
        warm = [state for state in online if self._warm(state, runtime_id)]
        ranked = rendezvous_rank(runtime_id, online)
        if warm:
            return self._order(warm) + [state for state in ranked if state not in warm]
        # Skip loaded executors while any other remains; they stay last as fallbacks.
        return [s for s in ranked if not self.loaded(s)] + [s for s in ranked if self.loaded(s)]

    def _warm(self, state: ExecutorState, runtime_id: str) -> bool:
        runtime = state.runtimes.get(runtime_id)
        if runtime is None:
            return False
        usage = runtime.usage if runtime.usage is not None else state.usage
        return usage is None or usage < self._usage_limit

    @staticmethod
    def record_warm(state: ExecutorState, runtime_id: str) -> None:
        """Remember that ``runtime_id`` now runs on ``state`` until the next health round."""
        if runtime_id not in state.runtimes:
            state.runtimes[runtime_id] = RuntimeHealth()


def addressing_method(value: str | None) -> str:
    """Validate ``x-opr-addressing-method`` (default anycast-efficient); 400 when unknown."""
    if not value:
        return ANYCAST_EFFICIENT
    method = value.strip().lower()
    if method not in ADDRESSING_METHODS:
        raise errors.bad_request(
            f"Invalid x-opr-addressing-method {value[:64]!r}; accepted values: {', '.join(ADDRESSING_METHODS)}")
    return method
