"""Density: the memory of idle runtimes, and of the executor as idle runtimes pile up.

* one idle runtime per language (process mode, started directly with the runtime test harness),
  next to the bare interpreter idling in the same sandbox;
* the executor (gunicorn master + worker, process adapter) with 0, 10 and 50 idle runtimes; its
  baseline is the same executor with none. The runtimes' own memory is reported beside it.
RSS is VmRSS from /proc, summed over a process tree, in MiB, half a second after the last start.
"""
from __future__ import annotations

import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from bench.cold import Baseline
from bench.executor import LANGUAGES, Executor
from bench.runtimes import first_response, rss_mib
from bench.summary import ratio
from tests.runtimes.harness import Harness
from tests.runtimes.process_mode import debian_root, descendants, process_table, sandbox_argv

SETTLE = 0.5
IDLE_INTERPRETER = {
    "python": ["python3", "-c", "import time; time.sleep(60)"],
    "node": ["node", "-e", "setTimeout(() => {}, 60000)"],
    "php": ["php", "-r", "sleep(60);"],
}
STARTERS = 4  # parallel cold starts while filling the executor


def idle_runtime_mib(baseline: Baseline) -> float:
    """RSS of one runtime started directly, idle after its first response."""
    server = baseline.harness.start(baseline.target, baseline.build, logs_dir=False, wait=False)
    try:
        first_response(server, baseline.hello)
        time.sleep(SETTLE)
        return rss_mib(server.pids()) or 0.0
    finally:
        baseline.harness.stop(server)


def bare_interpreter_mib(baseline: Baseline) -> float:
    """RSS of the bare interpreter idling in the same sandbox (bwrap itself not counted)."""
    root = debian_root(baseline.target)
    argv = sandbox_argv(root, [], IDLE_INTERPRETER[baseline.target.language], cwd="/")
    process = subprocess.Popen(argv, env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(SETTLE + 0.5)  # the interpreter's start-up is done well before this
        pids = [pid for pid, name in descendants(process.pid) if name != "bwrap"]
        return rss_mib(pids) or 0.0
    finally:
        process.kill()
        process.wait()


def runtimes_per_language(harness: Harness, languages: list[str]) -> dict:
    rows = {}
    for language in languages:
        baseline = Baseline(harness, language, "process")
        runtime, bare = idle_runtime_mib(baseline), bare_interpreter_mib(baseline)
        rows[language] = {"runtime": baseline.target.spec.name, "idle_runtime_mib": round(runtime, 1),
                          "bare_interpreter_mib": round(bare, 1), "ratio": ratio(runtime, bare)}
    return rows


def executor_tree_mib(executor: Executor) -> tuple[float, float]:
    """(executor: gunicorn master + worker, runtimes: every process below the worker) in MiB."""
    master = executor.process.pid
    workers = [pid for pid, (parent, _) in process_table().items() if parent == master]
    rest = [pid for pid, _ in descendants(master) if pid not in workers]
    return rss_mib([master, *workers]) or 0.0, rss_mib(rest) or 0.0


def start_idle(executor: Executor, language: str, artifact: str) -> str:
    runtime_id = f"idle-{uuid.uuid4().hex[:10]}"
    status, body = executor.call("POST", f"/v1/runtimes/{runtime_id}/executions",
                                 {"image": LANGUAGES[language][0], "source": artifact, "timeout": 60})
    if status != 200:
        raise RuntimeError(f"idle runtime did not start: {status} {body}")
    return runtime_id


def executor_with_idle(executor: Executor, language: str, artifact: str, levels: list[int]) -> dict:
    """Executor RSS at each level of idle runtimes (levels ascending; all removed at the end)."""
    started: list[str] = []
    rows = {}
    try:
        for level in levels:
            with ThreadPoolExecutor(STARTERS) as pool:
                started += pool.map(lambda _: start_idle(executor, language, artifact),
                                    range(level - len(started)))
            time.sleep(SETTLE)
            own, runtimes = executor_tree_mib(executor)
            rows[str(level)] = {"executor_mib": round(own, 1), "runtimes_mib": round(runtimes, 1)}
    finally:
        with ThreadPoolExecutor(STARTERS) as pool:
            list(pool.map(lambda runtime_id: executor.call("DELETE", f"/v1/runtimes/{runtime_id}"), started))
    base = rows[str(levels[0])]["executor_mib"]
    for row in rows.values():
        row["ratio_to_none"] = ratio(row["executor_mib"], base)
    return {"language": language, "levels": rows}


def run(executor: Executor, harness: Harness, artifacts: dict[str, str], levels: list[int], log=print) -> dict:
    """The density section (process adapter); call it on a fresh executor, before other load."""
    log(f"density: executor RSS with {levels} idle python runtimes")
    section = {"executor": executor_with_idle(executor, "python", artifacts["python"], levels)}
    log("density: one idle runtime per language vs the bare interpreter")
    section["runtimes"] = runtimes_per_language(harness, list(artifacts))
    return section
