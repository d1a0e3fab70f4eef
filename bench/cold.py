"""Cold starts: the first request of a new runtime through the executor, next to its floor.

The executor side reuses ``bench.executor`` (gunicorn executor, the executor tests' hello
functions); the baseline does the same work without the executor, with the runtime test harness
(``tests/runtimes``): the same function built the same way, the runtime started directly (process:
``helpers/start.sh`` in the bubblewrap sandbox; docker: ``docker run`` of the same image) and polled
until its first 200. Samples are interleaved (one executor start, one baseline start, ...) so that
the shared machine's load falls on both alike.
"""
from __future__ import annotations

import threading
import time
import uuid

from bench.executor import FUNCTIONS, LANGUAGES, Executor
from bench.runtimes import Hello, first_response
from bench.summary import ratio, summarize
from executor import catalog
from tests.runtimes.harness import Harness
from tests.runtimes.targets import Target

CONCURRENT_LANGUAGE = "python"


class Baseline:
    """Starts a language's runtime directly (no executor) and times its first 200 response."""

    def __init__(self, harness: Harness, language: str, adapter: str):
        image, entrypoint, _ = LANGUAGES[language]
        spec = catalog.by_image(image)
        if spec is None:
            raise RuntimeError(f"{image} is not in runtimes/runtimes.tsv")
        self.harness = harness
        self.target = Target(spec, adapter, entrypoint)
        self.hello = Hello(FUNCTIONS / language, entrypoint, {}, b"", "executor tests' hello")
        self.build = harness.build(self.target, source=self.hello.source)
        if self.build.returncode != 0:
            raise RuntimeError(f"baseline build of {spec.name} ({adapter}) failed: {self.build.describe()[-800:]}")

    def start_ms(self) -> float:
        """Milliseconds from the process / container start to the first 200 response."""
        server = self.harness.start(self.target, self.build, logs_dir=False, wait=False)
        try:
            return (first_response(server, self.hello) - server.started_at) * 1000
        finally:
            self.harness.stop(server)


def executor_start_ms(executor: Executor, language: str, artifact: str) -> float:
    """Milliseconds of one execution that has to start a new runtime; the runtime is removed."""
    runtime_id = f"cold-{language}-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    status, body = executor.call("POST", f"/v1/runtimes/{runtime_id}/executions",
                                 {"image": LANGUAGES[language][0], "source": artifact, "timeout": 60})
    elapsed = (time.perf_counter() - started) * 1000
    executor.call("DELETE", f"/v1/runtimes/{runtime_id}")
    if status != 200 or not body or body.get("statusCode") != 200:
        raise RuntimeError(f"{language} cold start through the executor failed: {status} {body}")
    return elapsed


def sequential(executor: Executor, baseline: Baseline, language: str, artifact: str, runs: int) -> dict:
    """``runs`` interleaved cold starts through the executor and directly."""
    through, direct = [], []
    for _ in range(runs):
        through.append(executor_start_ms(executor, language, artifact))
        direct.append(baseline.start_ms())
    summary = {"executor": summarize(through), "baseline": summarize(direct)}
    summary["ratio_p50"] = ratio(summary["executor"]["p50"], summary["baseline"]["p50"])
    summary["added_p50_ms"] = round(summary["executor"]["p50"] - summary["baseline"]["p50"], 1)
    return {**summary, "samples": {"executor": through, "baseline": direct}}


def in_parallel(count: int, job) -> tuple[list[float], float]:
    """Run ``job()`` in ``count`` threads at once: each one's result, and the wall time (ms)."""
    results: list = [None] * count
    errors: list[BaseException] = []
    gate = threading.Barrier(count)

    def one(index: int) -> None:
        try:
            gate.wait()
            results[index] = job()
        except BaseException as error:  # reported below, in the caller's thread
            errors.append(error)

    threads = [threading.Thread(target=one, args=(index,)) for index in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = (time.perf_counter() - started) * 1000
    if errors:
        raise errors[0]
    return results, wall


def concurrent(executor: Executor, baseline: Baseline, artifact: str, levels: list[int]) -> dict:
    """K cold starts of distinct runtimes at once, through the executor and directly."""
    rows = {}
    for count in levels:
        through, through_wall = in_parallel(
            count, lambda: executor_start_ms(executor, CONCURRENT_LANGUAGE, artifact))
        direct, direct_wall = in_parallel(count, baseline.start_ms)
        row = {"executor": summarize(through), "baseline": summarize(direct),
               "executor_wall_ms": round(through_wall, 1), "baseline_wall_ms": round(direct_wall, 1)}
        row["ratio_p50"] = ratio(row["executor"]["p50"], row["baseline"]["p50"])
        row["ratio_wall"] = ratio(through_wall, direct_wall)
        rows[str(count)] = {**row, "samples": {"executor": through, "baseline": direct}}
    return {"language": CONCURRENT_LANGUAGE, "levels": rows}


def run(executor: Executor, harness: Harness, artifacts: dict[str, str], runs: int,
        levels: list[int], log=print) -> dict:
    """The cold-start section for the executor's adapter: per language, then concurrent."""
    section: dict = {"adapter": executor.adapter, "runs": runs, "languages": {}, "errors": {}}
    baselines = {}
    for language, artifact in artifacts.items():
        log(f"cold starts, {executor.adapter} adapter, {language}: {runs} x (executor, baseline)")
        try:
            baselines[language] = Baseline(harness, language, executor.adapter)
            section["languages"][language] = sequential(executor, baselines[language], language,
                                                        artifact, runs)
        except Exception as error:  # noqa: BLE001 - one language failing must not end the suite
            section["errors"][language] = f"{type(error).__name__}: {error}"[:800]
    if CONCURRENT_LANGUAGE in baselines and levels:
        log(f"concurrent cold starts, {executor.adapter} adapter, K = {levels}")
        try:
            section["concurrent"] = concurrent(executor, baselines[CONCURRENT_LANGUAGE],
                                               artifacts[CONCURRENT_LANGUAGE], levels)
        except Exception as error:  # noqa: BLE001
            section["errors"]["concurrent"] = f"{type(error).__name__}: {error}"[:800]
    return section
