"""Pool benchmark: cold starts served by a prewarmed pool (hit) vs started from the image (miss).

    .venv/bin/python -m bench.pool [--quick] [--json PATH] [--adapters process,docker]

Per adapter, one executor keeps one pool runtime ready per language (``OPR_EXECUTOR_PREWARM``).
Hits and misses alternate in the same run: a hit waits until the pool is refilled, then
cold-starts with the default limits; a miss asks for 511 MB of memory, which no pool serves, so it
starts from the image. Each sample is the whole execution request through the executor, and its
``timings.kind`` is checked. Targets (reported, not asserted): hit p50 <= 50 ms (process) and
<= 100 ms (docker).
"""
from __future__ import annotations

import sys
import time

from bench.executor import (LANGUAGES, Executor, adapter_main, languages_available, percentiles,
                            running_executor)

TARGET_MS = {"process": 50, "docker": 100}
REFILL_SECONDS = 60


def percentiles90(samples: list[float]) -> dict:
    result = percentiles(samples)
    ordered = sorted(samples)
    result["p90"] = round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], 3)
    return result


def wait_ready(executor: Executor, image: str) -> None:
    deadline = time.monotonic() + REFILL_SECONDS
    while True:
        pools = executor.call("GET", "/v1/health")[1].get("pools", {})
        if pools.get(image, {}).get("ready", 0) >= 1:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the pool of {image} never became ready (no pool mode in this runtime?)")
        time.sleep(0.05)


def bench_language(executor: Executor, language: str, artifact: str, iterations: int) -> dict:
    image = LANGUAGES[language][0]
    samples: dict[str, list[float]] = {"pool": [], "cold": []}
    specialize: list[float] = []   # timings.create of hits: copy of the artifact + specialization
    for index in range(iterations * 2):
        kind = "pool" if index % 2 == 0 else "cold"
        params = {"image": image, "source": artifact, "timeout": 60}
        if kind == "pool":
            wait_ready(executor, image)
        else:
            params["memory"] = 511
        runtime_id = f"{kind}-{language}-{index}"
        started = time.perf_counter()
        status, body = executor.call("POST", f"/v1/runtimes/{runtime_id}/executions", params)
        elapsed = (time.perf_counter() - started) * 1000
        executor.call("DELETE", f"/v1/runtimes/{runtime_id}")
        if status != 200 or body["statusCode"] != 200:
            raise RuntimeError(f"{language} {kind} cold start failed: {body}")
        if body["timings"].get("kind") != kind:
            raise RuntimeError(f"{language}: expected a {kind} start, got {body['timings']}")
        samples[kind].append(elapsed)
        if kind == "pool":
            specialize.append(body["timings"]["create"])
    return {"pool_hit_ms": percentiles90(samples["pool"]), "pool_miss_ms": percentiles90(samples["cold"]),
            "pool_hit_fill_and_specialize_ms": percentiles90(specialize)}


def run(adapter: str, quick: bool) -> dict:
    languages = languages_available()
    prewarm = ",".join(f"{LANGUAGES[language][0]}=1" for language in languages)
    results: dict = {"adapter": adapter, "target_hit_p50_ms": TARGET_MS[adapter], "languages": {}, "errors": {}}
    with running_executor(adapter, {"OPR_EXECUTOR_PREWARM": prewarm}, prefix="opr-bench-pool") as executor:
        for language in languages:
            try:
                artifact = executor.build(language)
                results["languages"][language] = bench_language(executor, language, artifact,
                                                                5 if quick else 20)
            except RuntimeError as error:
                results["errors"][language] = str(error)[:500]
    return results


def show(adapter: str, result: dict) -> None:
    for language, figures in result["languages"].items():
        hit, miss = figures["pool_hit_ms"], figures["pool_miss_ms"]
        verdict = "meets" if hit["p50"] <= TARGET_MS[adapter] else "MISSES"
        print(f"{adapter} {language}: pool hit p50 {hit['p50']} ms p90 {hit['p90']} ms | "
              f"pool miss p50 {miss['p50']} ms p90 {miss['p90']} ms; hit fill+specialize p50 "
              f"{figures['pool_hit_fill_and_specialize_ms']['p50']} ms "
              f"({verdict} the {TARGET_MS[adapter]} ms target)")


def main(argv: list[str] | None = None) -> int:
    return adapter_main(argv, __doc__.split("\n")[0], "5 hits and 5 misses per language (else 20)",
                        run, show, {})


if __name__ == "__main__":
    sys.exit(main())
