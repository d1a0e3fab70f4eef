"""The benchmark suite: every section, each figure next to its baseline, one JSON and one report.

    .venv/bin/python -m bench.suite [--quick] [--out DIR]

Sections (see bench/README.md): cold starts per language and adapter (+ K concurrent), warm
execution hop by hop, the proxy against nginx (``bench.proxy``), density (idle RSS). Writes
``DIR/<timestamp>.json`` (raw samples and summaries), ``DIR/latest.json`` and, through
``bench.report``, ``DIR/latest.md`` with its PNG charts. Everything it starts is stopped and its
temporary directories removed, Ctrl-C included. Exit status 1 when a section failed (the report is
still written, with the error in it).
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import cold, density, hops, machine, report
from bench import pool as pool_bench
from bench import proxy as proxy_bench
from bench.executor import docker_answers, languages_available, running_executor

RESULTS = Path(__file__).resolve().parent / "results"
README = RESULTS.parent.parent / "README.md"  # its summary table follows the latest full run


@dataclass(frozen=True)
class Plan:
    """How much of each section a run does."""

    quick: bool
    cold_runs: int
    cold_runs_docker: int
    concurrency: tuple[int, ...]
    concurrency_docker: tuple[int, ...]
    warm_iterations: int
    wrk_seconds: float
    idle_levels: tuple[int, ...]
    proxy_args: tuple[str, ...]
    pool_args: tuple[str, ...]

    @classmethod
    def for_run(cls, quick: bool) -> "Plan":
        if quick:
            return cls(True, 3, 2, (1, 3), (), 100, 2, (0, 5), ("--quick", "--rounds", "1"), ("--quick",))
        return cls(False, 30, 30, (1, 5, 10), (1, 5, 10), 1000, 5, (0, 10, 50), ("--rounds", "1"), ())


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed(results: dict, name: str, section) -> None:
    """Run one section into ``results[name]``; a failure is recorded there, not raised."""
    started = time.monotonic()
    try:
        results[name] = section()
    except Exception as error:  # noqa: BLE001 - the report shows which section failed and why
        log(f"{name}: FAILED {type(error).__name__}: {error}")
        results[name] = {"error": f"{type(error).__name__}: {error}"[:1500]}
    results[name]["section_seconds"] = round(time.monotonic() - started, 1)


def with_executor(adapter: str, body) -> dict:
    """Start an executor of ``adapter``, build the hello functions, run ``body(executor, artifacts)``."""
    with running_executor(adapter, prefix="opr-bench-suite") as executor:
        log(f"{adapter} executor on :{executor.port}: building the hello functions")
        artifacts = {language: executor.build(language) for language in languages_available()}
        return body(executor, artifacts)


def process_sections(plan: Plan, harness, results: dict) -> None:
    def body(executor, artifacts):
        timed(results, "density", lambda: density.run(executor, harness, artifacts,
                                                      list(plan.idle_levels), log))
        timed(results, "warm", lambda: hops.run(executor, artifacts["node"], plan.warm_iterations,
                                                plan.wrk_seconds, log))
        timed(results, "cold_process", lambda: cold.run(executor, harness, artifacts, plan.cold_runs,
                                                        list(plan.concurrency), log))
        return {}
    with_executor("process", body)


def docker_sections(plan: Plan, harness, results: dict) -> None:
    if not docker_answers():
        results["cold_docker"] = {"skipped": "no Docker engine answers"}
        return
    def body(executor, artifacts):
        timed(results, "cold_docker", lambda: cold.run(executor, harness, artifacts, plan.cold_runs_docker,
                                                       list(plan.concurrency_docker), log))
        return {}
    with_executor("docker", body)


def proxy_section(plan: Plan) -> dict:
    with tempfile.TemporaryDirectory(prefix="opr-bench-suite-proxy-") as tmp:
        path = Path(tmp) / "proxy.json"
        status = proxy_bench.main([*plan.proxy_args, "--json", str(path)])
        if not path.exists():
            raise RuntimeError(f"bench.proxy exited with {status} and wrote no results")
        return json.loads(path.read_text())


def pool_section(plan: Plan) -> dict:
    """Pool hit vs pool miss cold starts through the executor, per language and adapter."""
    adapters = "process,docker" if docker_answers() else "process"
    with tempfile.TemporaryDirectory(prefix="opr-bench-suite-pool-") as tmp:
        path = Path(tmp) / "pool.json"
        pool_bench.main([*plan.pool_args, "--adapters", adapters, "--json", str(path)])
        if not path.exists():
            raise RuntimeError("bench.pool wrote no results")
        data = json.loads(path.read_text())
    errors = {f"{r['adapter']} {language}": error for r in data["results"] for language, error in r["errors"].items()}
    return {"results": data["results"], **({"errors": errors} if errors else {})}


def run(plan: Plan) -> dict:
    from tests.runtimes.harness import Harness  # imports pytest: only when a run starts

    started = time.monotonic()
    results: dict = {"suite": "open-runtimes-py", "quick": plan.quick, "plan": asdict(plan),
                     "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     "commit": git_commit(), "machine": machine.describe()}
    harness = Harness()
    try:
        timed(results, "process_adapter", lambda: process_sections(plan, harness, results) or {})
        timed(results, "docker_adapter", lambda: docker_sections(plan, harness, results) or {})
        log("prewarmed pools: hit vs miss (bench.pool)")
        timed(results, "pool", lambda: pool_section(plan))
        log("proxy vs nginx (bench.proxy)")
        timed(results, "proxy", lambda: proxy_section(plan))
    finally:
        harness.close()
    for wrapper in ("process_adapter", "docker_adapter"):  # only carried timing or an error
        if set(results[wrapper]) == {"section_seconds"}:
            del results[wrapper]
    results["machine"]["load_average_end"] = machine.describe()["load_average"]
    results["seconds"] = round(time.monotonic() - started, 1)
    return results


def git_commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=RESULTS.parent.parent, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def failed(results: dict) -> list[str]:
    """The sections (or parts of sections) that recorded an error."""
    names = []
    for name, section in results.items():
        if isinstance(section, dict) and (section.get("error") or section.get("errors")):
            names.append(name)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.suite", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a reduced run (about 2 minutes)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results directory (default {RESULTS})")
    args = parser.parse_args(argv)
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            print(f"bench.suite: {tool} is not installed (run `make deps`)", file=sys.stderr)
            return 2
    results = run(Plan.for_run(args.quick))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = results["date"].replace("-", "").replace(":", "")
    text = json.dumps(results, indent=1) + "\n"
    (args.out / f"{stamp}.json").write_text(text)
    (args.out / "latest.json").write_text(text)
    written = report.write(results, args.out)
    if not args.quick and args.out.resolve() == RESULTS and report.update_readme(results, README):
        written.append(README)
    log(f"wrote {args.out / (stamp + '.json')} and {', '.join(str(path) for path in written)} "
        f"in {results['seconds']:.0f} s")
    problems = failed(results)
    if problems:
        log(f"sections with errors: {', '.join(problems)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
