"""Benchmark of runtime cold starts and idle memory, per runtime and mode.

    .venv/bin/python -m bench.runtimes [--runtime NAME ...] [--mode process|docker]
                                       [-n N | --quick] [--json PATH]

For each runtime (default: all of runtimes/runtimes.tsv, or env RUNTIME) and mode it builds a
hello function once (``runtimes/<lang>/example/`` when it has the default entrypoint, else the
test function answering ``plaintextResponse``), then N times starts the runtime the way the test
harness does (process: ``helpers/start.sh`` in the bubblewrap sandbox; docker: a detached
container with host networking) and measures:

* **first response**: from the process / container start to the first 200 response (artifact
  extraction by ``start.sh`` included);
* **from server start**: from the ``Starting ...`` line (the server process is exec'd right
  after) to that response: the figure spec 1.1.4 targets;
* **idle RSS**: the summed VmRSS of the runtime's processes (server and any workers), half a
  second after that first response.

As a baseline measured in the same run, it times the bare interpreter inside the same sandbox or
image (``python3 -c pass``, ``node -e 0``, ``php -r ';'``), so "from server start" reads as a
ratio to it. Targets are reported, not asserted: process mode, first response from
server start within 100 ms (php, python) or 150 ms (node); idle Python runtime <= 30 MiB.
Everything started is stopped, and the temporary directories removed, even on Ctrl-C.
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests.runtimes.harness import Harness
from tests.runtimes.instances import SECRET, Build, Server
from tests.runtimes.process_mode import debian_root, sandbox_argv
from tests.runtimes.targets import FUNCTIONS_DIR, MODES, VARIANTS, Target, selected_runtimes

BARE_START = {
    "python": ["python3", "-c", "pass"],
    "node": ["node", "-e", "0"],
    "php": ["php", "-r", ";"],
}
# Targets of the issue (ms from server start to first response, process mode; MiB idle RSS).
START_TARGET_MS = {"python": 100, "php": 100, "node": 150}
RSS_TARGET_MIB = {"python": 30}
IDLE_PAUSE = 0.5
READY_DEADLINE = 60.0


@dataclass
class Hello:
    """The function a benchmark run starts and the request that exercises it."""

    source: Path
    entrypoint: str
    headers: dict[str, str]
    body: bytes
    kind: str


@dataclass
class Result:
    runtime: str
    mode: str
    function: str
    starts: int = 0
    first_response_ms: list[float] = field(default_factory=list)
    from_server_start_ms: list[float] = field(default_factory=list)
    idle_rss_mib: list[float] = field(default_factory=list)
    bare_interpreter_ms: list[float] = field(default_factory=list)
    error: str | None = None

    def summary(self) -> dict:
        figures = {
            "first_response_ms": stats(self.first_response_ms),
            "from_server_start_ms": stats(self.from_server_start_ms),
            "idle_rss_mib": stats(self.idle_rss_mib),
            "bare_interpreter_ms": stats(self.bare_interpreter_ms),
        }
        server, bare = figures["from_server_start_ms"], figures["bare_interpreter_ms"]
        figures["ratio_to_bare"] = (round(server["median"] / bare["median"], 2)
                                    if server and bare and bare["median"] else None)
        return figures


def stats(values: list[float]) -> dict | None:
    """Median and p90 (nearest rank) of ``values``."""
    if not values:
        return None
    ordered = sorted(values)
    p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]
    return {"median": round(statistics.median(ordered), 1), "p90": round(p90, 1),
            "min": round(ordered[0], 1), "max": round(ordered[-1], 1)}


def hello_for(target_spec) -> Hello:
    """The runtime's example when it has one, else the test function's plaintextResponse."""
    example = target_spec.server_dir() / "example"
    if (example / target_spec.entrypoint).is_file():
        return Hello(example, target_spec.entrypoint, {"content-type": "application/json"},
                     b'{"id":1}', "example")
    language = target_spec.language
    return Hello(FUNCTIONS_DIR / language, VARIANTS[language][0],
                 {"x-action": "plaintextResponse"}, b"", "tests:plaintextResponse")


def responds(port: int, hello: Hello) -> bool:
    """Whether one request gets a 200 (False while nothing listens yet)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("POST", "/", body=hello.body, headers={
            "content-type": "text/plain", "x-open-runtimes-secret": SECRET, **hello.headers})
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False
    finally:
        connection.close()


def first_response(server: Server, hello: Hello) -> float:
    """time.monotonic() of the first 200 response, polling every 2 ms."""
    deadline = time.monotonic() + READY_DEADLINE
    while time.monotonic() < deadline:
        if responds(server.port, hello):
            return time.monotonic()
        time.sleep(0.002)
    raise TimeoutError(f"no 200 response within {READY_DEADLINE} s\n{server.describe()}")


def rss_mib(pids: list[int]) -> float | None:
    """Summed VmRSS of ``pids``, from /proc."""
    total_kib = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total_kib += int(line.split()[1])
        except OSError:
            return None
    return total_kib / 1024 if pids else None


# Times the bare interpreter N times inside one sandbox or container, so that neither bwrap's nor
# Docker's own start-up is counted (the "from server start" figure excludes them too).
TIMING_LOOP = (
    'n=$1; shift; i=0; while [ "$i" -lt "$n" ]; do '
    's=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $((e - s)); i=$((i + 1)); done'
)


def bare_start_ms(target: Target, runs: int) -> list[float]:
    """Start times of the bare interpreter in the runtime's sandbox (process) or image (docker)."""
    command = ["sh", "-c", TIMING_LOOP, "sh", str(runs), *BARE_START[target.language]]
    if target.mode == "process":
        argv = sandbox_argv(debian_root(target), [], command, cwd="/")
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"}
    else:
        argv = ["docker", "run", "--rm", "--network", "host", target.spec.image, *command]
        env = dict(os.environ)
    done = subprocess.run(argv, env=env, check=True, capture_output=True, text=True, timeout=300)
    return [int(line) / 1e6 for line in done.stdout.split()]


def measure(harness: Harness, spec, mode: str, runs: int) -> Result:
    hello = hello_for(spec)
    target = Target(spec, mode, hello.entrypoint)
    result = Result(spec.name, mode, f"{hello.kind} ({hello.entrypoint})")
    try:
        build: Build = harness.build(target, source=hello.source)
        if build.returncode != 0:
            raise RuntimeError(build.describe())
        for _ in range(runs):
            server = harness.start(target, build, logs_dir=False, wait=False)
            try:
                answered = first_response(server, hello)
                result.first_response_ms.append((answered - server.started_at) * 1000)
                starting = server.starting_at()
                if starting is not None:
                    result.from_server_start_ms.append((answered - starting) * 1000)
                time.sleep(IDLE_PAUSE)
                rss = rss_mib(server.pids())
                if rss is not None:
                    result.idle_rss_mib.append(rss)
                result.starts += 1
            finally:
                harness.stop(server)
        result.bare_interpreter_ms = bare_start_ms(target, runs)
    except BaseException as error:  # pytest.fail (missing root) is a BaseException
        if isinstance(error, KeyboardInterrupt):
            raise
        result.error = f"{type(error).__name__}: {str(error).strip()[:1500]}"
    return result


def verdict(result: Result, figures: dict) -> str:
    """Targets of the issue, compared (process mode start; Python idle RSS)."""
    notes = []
    language = result.runtime.split("-")[0]
    server = figures["from_server_start_ms"]
    if result.mode == "process" and server:
        limit = START_TARGET_MS[language]
        notes.append(f"start {'ok' if server['median'] <= limit else 'MISS'} (<= {limit} ms)")
    rss = figures["idle_rss_mib"]
    if language in RSS_TARGET_MIB and rss:
        limit = RSS_TARGET_MIB[language]
        notes.append(f"rss {'ok' if rss['median'] <= limit else 'MISS'} (<= {limit} MiB)")
    return ", ".join(notes)


def cell(figure: dict | None) -> str:
    return f"{figure['median']:.0f} / {figure['p90']:.0f}" if figure else "-"


def print_table(results: list[Result], runs: int) -> None:
    header = (f"{'runtime':<12} {'mode':<8} {'n':>3}  {'first response':>15}  {'from server start':>17}"
              f"  {'bare interp.':>12}  {'ratio':>5}  {'idle RSS MiB':>12}  targets")
    print(f"\nRuntime cold start (ms, median / p90 over {runs} starts) and idle memory")
    print(header)
    print("-" * len(header))
    for result in results:
        if result.error:
            print(f"{result.runtime:<12} {result.mode:<8} ERROR {result.error.splitlines()[0][:150]}")
            continue
        figures = result.summary()
        rss = f"{figures['idle_rss_mib']['median']:.1f}" if figures["idle_rss_mib"] else "-"
        ratio = figures["ratio_to_bare"]
        print(f"{result.runtime:<12} {result.mode:<8} {result.starts:>3}  "
              f"{cell(figures['first_response_ms']):>15}  {cell(figures['from_server_start_ms']):>17}  "
              f"{cell(figures['bare_interpreter_ms']):>12}  {ratio if ratio else '-':>5}  "
              f"{rss:>12}  {verdict(result, figures)}")
    print("first response: from process/container start (artifact extraction included); "
          "from server start: from the `Starting ...` line; ratio = from server start / bare interpreter")


def json_result(result: Result) -> dict:
    """A result as JSON: identity, summaries, and the raw samples."""
    raw = asdict(result)
    samples = {name: raw.pop(name) for name in
               ("first_response_ms", "from_server_start_ms", "idle_rss_mib", "bare_interpreter_ms")}
    return {**raw, **result.summary(), "samples": samples}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.runtimes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runtime", action="append", help="a runtime of runtimes/runtimes.tsv (repeatable)")
    parser.add_argument("--mode", choices=MODES, action="append", help="process or docker (default: both)")
    parser.add_argument("-n", "--starts", type=int, default=10,
                        help="starts per runtime and mode (default 10)")
    parser.add_argument("--quick", action="store_true", help="3 starts each")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    args = parser.parse_args(argv)
    if args.quick:
        args.starts = 3
    if args.starts < 1:
        parser.error("--starts must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        specs = selected_runtimes()
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    if args.runtime:
        known = {spec.name: spec for spec in specs}
        unknown = [name for name in args.runtime if name not in known]
        if unknown:
            print(f"unknown runtime(s): {', '.join(unknown)} (one of: {', '.join(known)})", file=sys.stderr)
            return 2
        specs = [known[name] for name in args.runtime]
    modes = args.mode or list(MODES)
    harness = Harness()
    results = []
    try:
        for spec in specs:
            for mode in modes:
                print(f"measuring {spec.name} ({mode}) ...", file=sys.stderr, flush=True)
                results.append(measure(harness, spec, mode, args.starts))
    finally:
        harness.close()
    print_table(results, args.starts)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "benchmark": "runtimes",
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "host": {"cpus": os.cpu_count(), "machine": platform.machine(), "kernel": platform.release()},
            "starts": args.starts,
            "results": [json_result(result) for result in results],
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 1 if any(result.error for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
