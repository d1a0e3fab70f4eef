"""Choosing executors: algorithms, rendezvous hashing, load bound, warm runtimes, addressing."""
import random
from collections import Counter

import pytest

from proxy.balancing import Balancer, addressing_method, rendezvous_rank
from proxy.config import Executor
from proxy.errors import ProxyError
from proxy.health import ExecutorState, RuntimeHealth


def states(*names):
    return [ExecutorState(Executor(name, name, 80), index) for index, name in enumerate(names)]


def picks(balancer, count, runtime_id=None, method="anycast-efficient"):
    return [balancer.plan(method, runtime_id)[0].name for _ in range(count)]


def test_round_robin_cycles_in_configured_order():
    assert picks(Balancer(states("a", "b", "c"), "round-robin"), 7) == ["a", "b", "c", "a", "b", "c", "a"]


def test_round_robin_skips_offline_executors_and_keeps_rotating():
    pool = states("a", "b", "c")
    balancer = Balancer(pool, "round-robin")
    assert picks(balancer, 1) == ["a"]
    pool[1].online = False
    assert picks(balancer, 4) == ["c", "a", "c", "a"]
    pool[1].online = True
    assert picks(balancer, 3) == ["b", "c", "a"]


def test_first_and_last_follow_configured_order():
    assert picks(Balancer(states("a", "b", "c"), "first"), 3) == ["a"] * 3
    assert picks(Balancer(states("a", "b", "c"), "last"), 3) == ["c"] * 3
    pool = states("a", "b", "c")
    pool[2].online = False
    assert picks(Balancer(pool, "last"), 2) == ["b", "b"]


def test_random_is_uniform_over_online_executors():
    pool = states("a", "b", "c", "d")
    pool[3].online = False
    counts = Counter(picks(Balancer(pool, "random", rng=random.Random(7)), 3000))
    assert set(counts) == {"a", "b", "c"}
    assert all(800 < count < 1200 for count in counts.values()), counts


def test_plan_lists_every_online_executor_once_as_fallbacks():
    pool = states("a", "b", "c")
    pool[0].online = False
    for algorithm in ("round-robin", "random", "first", "last"):
        plan = Balancer(pool, algorithm).plan("anycast-efficient")
        assert sorted(s.name for s in plan) == ["b", "c"]


def test_executors_at_the_usage_limit_come_after_the_others():
    pool = states("a", "b", "c")
    pool[0].usage = 80
    pool[1].usage = 79.9
    balancer = Balancer(pool, "first")
    assert [s.name for s in balancer.plan("anycast-efficient")] == ["b", "c", "a"]
    pool[1].usage = pool[2].usage = 95
    assert [s.name for s in balancer.plan("anycast-efficient")] == ["a", "b", "c"]


def test_no_online_executor_is_503():
    pool = states("a", "b")
    for state in pool:
        state.online = False
    for method in ("anycast-efficient", "anycast-fast"):
        with pytest.raises(ProxyError) as error:
            Balancer(pool, "round-robin").plan(method, "rt")
        assert (error.value.status, error.value.type, error.value.message) == (
            503, "proxy_no_executor", "No online executor found")


def test_rendezvous_is_the_same_in_every_replica_and_ignores_the_algorithm():
    ids = [f"runtime-{n}" for n in range(200)]
    replica1 = Balancer(states("a", "b", "c"), "round-robin")
    replica2 = Balancer(states("a", "b", "c"), "random", rng=random.Random(1))
    first_choice = [replica1.plan("anycast-efficient", rid)[0].name for rid in ids]
    assert first_choice == [replica2.plan("anycast-efficient", rid)[0].name for rid in ids]
    assert first_choice == [replica1.plan("anycast-efficient", rid)[0].name for rid in ids]  # stable
    assert set(Counter(first_choice)) == {"a", "b", "c"}  # spread over all executors
    assert min(Counter(first_choice).values()) > 35


def test_rendezvous_moves_only_the_runtimes_of_a_leaving_executor():
    ids = [f"runtime-{n}" for n in range(500)]
    pool = states("a", "b", "c", "d")
    before = {rid: rendezvous_rank(rid, pool)[0].name for rid in ids}
    remaining = [s for s in pool if s.name != "c"]
    after = {rid: rendezvous_rank(rid, remaining)[0].name for rid in ids}
    moved = [rid for rid in ids if before[rid] != after[rid]]
    assert moved and all(before[rid] == "c" for rid in moved)
    assert len(moved) == sum(1 for rid in ids if before[rid] == "c")


def test_rendezvous_skips_executors_above_the_load_bound_while_others_remain():
    pool = states("a", "b", "c")
    balancer = Balancer(pool, "round-robin", inflight_cap=10)
    rid = "my-runtime"
    ranked = [s.name for s in rendezvous_rank(rid, pool)]
    favourite = next(s for s in pool if s.name == ranked[0])
    favourite.usage = 85
    assert [s.name for s in balancer.plan("anycast-efficient", rid)] == ranked[1:] + ranked[:1]
    favourite.usage = 10
    favourite.inflight = 11
    assert balancer.plan("anycast-efficient", rid)[0].name == ranked[1]
    favourite.inflight = 10
    assert balancer.plan("anycast-efficient", rid)[0].name == ranked[0]
    for state in pool:
        state.usage = 99
    assert balancer.plan("anycast-efficient", rid)[0].name == ranked[0]  # all loaded: hashing order


def test_an_executor_reporting_the_runtime_warm_comes_first():
    pool = states("a", "b", "c")
    rid = "warm-one"
    ranked = [s.name for s in rendezvous_rank(rid, pool)]
    holder = next(s for s in pool if s.name == ranked[-1])
    holder.runtimes[rid] = RuntimeHealth(usage=20)
    balancer = Balancer(pool, "round-robin")
    assert balancer.plan("anycast-efficient", rid)[0] is holder
    holder.runtimes[rid] = RuntimeHealth(usage=80)  # busy warm runtime: hashing again
    assert balancer.plan("anycast-efficient", rid)[0].name == ranked[0]


def test_several_warm_executors_are_picked_by_the_algorithm():
    pool = states("a", "b", "c")
    for state in pool[1:]:
        state.runtimes["rt"] = RuntimeHealth(usage=1)
    balancer = Balancer(pool, "round-robin")
    assert picks(balancer, 4, "rt") == ["b", "c", "b", "c"]


def test_recorded_warm_runtime_sticks_until_replaced():
    pool = states("a", "b", "c")
    balancer = Balancer(pool, "first")
    rid = "sticky"
    ranked = [s.name for s in rendezvous_rank(rid, pool)]
    other = next(s for s in pool if s.name == ranked[1])
    balancer.record_warm(other, rid)
    assert balancer.plan("anycast-efficient", rid)[0] is other
    other.runtimes = {}  # what the next health round does
    assert balancer.plan("anycast-efficient", rid)[0].name == ranked[0]


def test_anycast_fast_is_random_without_affinity():
    pool = states("a", "b", "c")
    pool[0].runtimes["rt"] = RuntimeHealth()
    counts = Counter(picks(Balancer(pool, "first", rng=random.Random(3)), 600, "rt", "anycast-fast"))
    assert set(counts) == {"a", "b", "c"}


def test_addressing_method_header():
    assert addressing_method(None) == "anycast-efficient"
    assert addressing_method("") == "anycast-efficient"
    assert addressing_method("Broadcast") == "broadcast"
    assert addressing_method("anycast-fast") == "anycast-fast"
    with pytest.raises(ProxyError) as error:
        addressing_method("multicast")
    assert error.value.status == 400 and "multicast" in error.value.message
