"""Benchmark of the proxy's hot path against nginx, on loopback, with wrk.

    .venv/bin/python -m bench.proxy [--quick] [--json PATH]

One run starts, on free ports:
  * the upstream: nginx answering a fixed body (stands in for a fast executor);
  * the baseline: nginx as a keep-alive reverse proxy to that upstream;
  * the proxy under test: gunicorn + gevent workers (deploy/gunicorn/proxy.conf.py) in front of
    the same upstream, health checks on.
and measures with wrk:
  * throughput at 32 connections, proxy / nginx (target >= 0.12);
  * added latency at 1 connection, p50(proxy) - p50(upstream direct) (target <= 0.4 ms).
Everything started is stopped at the end, the temporary directory removed.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BODY = "x" * 64  # the upstream's fixed answer

NGINX_CONF = """
daemon off;
master_process on;
worker_processes {workers};
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  keepalive_requests 1000000;
  upstream executor {{ server 127.0.0.1:{upstream}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{upstream};
    location / {{ default_type text/plain; return 200 "{body}"; }}
  }}
  server {{
    listen 127.0.0.1:{baseline};
    location / {{
      proxy_pass http://executor;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer executor-secret";
    }}
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            request = urllib.request.Request(url, headers={"Authorization": "Bearer bench-secret"})
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer")


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def gunicorn_workers(worker_per_core, cores: int) -> int:
    """The worker count deploy/gunicorn/proxy.conf.py derives (same formula)."""
    return max(1, cores)


def wrk(url: str, connections: int, seconds: float) -> dict:
    """Run wrk once; requests per second and latency percentiles (ms)."""
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", "Authorization: Bearer bench-secret", url],
        capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    latency = {}
    for percent, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M):
        latency[f"p{percent}"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return {"rps": rps, "non_2xx": int(errors.group(1)) if errors else 0, "latency_ms": latency}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke check, noisy figures)")
    parser.add_argument("--json", type=Path, help="write the results there")
    parser.add_argument("--rounds", type=int, help="interleaved measurement rounds (default 3, 1 with --quick)")
    parser.add_argument("--worker-per-core", default=os.environ.get("OPR_PROXY_WORKER_PER_CORE", "6"),
                        help="OPR_PROXY_WORKER_PER_CORE of the proxy under test (default 6)")
    parser.add_argument("--workers", type=int, help="override gunicorn's worker count (default: the config's)")
    args = parser.parse_args(argv)
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            print(f"bench.proxy: {tool} is not installed", file=sys.stderr)
            return 2
    seconds = 3 if args.quick else 10
    cores = len(os.sched_getaffinity(0))
    tmp = Path(tempfile.mkdtemp(prefix="opr-bench-proxy-"))
    upstream, baseline, proxy_port = free_port(), free_port(), free_port()
    nginx = gunicorn = None
    try:
        (tmp / "nginx.conf").write_text(NGINX_CONF.format(
            tmp=tmp, upstream=upstream, baseline=baseline, body=BODY, workers=cores,
            user="user root;" if os.geteuid() == 0 else ""))
        nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
        nginx = subprocess.Popen([nginx_bin, "-p", str(tmp), "-c", str(tmp / "nginx.conf")],
                                 start_new_session=True, stderr=subprocess.DEVNULL)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "OPR_PROXY_EXECUTORS": f"127.0.0.1:{upstream}",
            "OPR_PROXY_SECRET": "bench-secret",
            "OPR_PROXY_EXECUTOR_SECRET": "executor-secret",
            "OPR_PROXY_WORKER_PER_CORE": str(args.worker_per_core),
            # nginx's fixed answer is no health JSON: the bench measures forwarding only.
            "OPR_PROXY_HEALTHCHECK": "disabled",
            "GUNICORN_CMD_ARGS": os.environ.get("GUNICORN_CMD_ARGS", ""),
        }
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy/gunicorn/proxy.conf.py"),
             "--bind", f"127.0.0.1:{proxy_port}", *(["--workers", str(args.workers)] if args.workers else []),
             "proxy.app:create_app()"],
            cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
            stderr=open(tmp / "gunicorn.log", "wb"))
        urls = {name: f"http://127.0.0.1:{port}/bench" for name, port in
                (("upstream", upstream), ("nginx", baseline), ("proxy", proxy_port))}
        for name in ("upstream", "nginx", "proxy"):
            wait_http(urls[name], nginx if name != "proxy" else gunicorn)
        for name in ("nginx", "proxy"):  # warm-up: pools, caches
            wrk(urls[name], 32, 1)
        # Interleaved rounds: the machine is shared, so each ratio compares runs made back to
        # back, and the median of the rounds is reported.
        rounds = []
        for _ in range(args.rounds or (1 if args.quick else 3)):
            rounds.append({
                "c32": {name: wrk(urls[name], 32, seconds) for name in ("nginx", "proxy")},
                "c1": {name: wrk(urls[name], 1, seconds) for name in ("upstream", "nginx", "proxy")},
            })
    finally:
        stop(gunicorn)
        stop(nginx)
        shutil.rmtree(tmp, ignore_errors=True)
    for run in rounds:
        c32, c1 = run["c32"], run["c1"]
        run["throughput_ratio"] = round(c32["proxy"]["rps"] / c32["nginx"]["rps"], 3)
        run["added_latency_p50_ms"] = round(c1["proxy"]["latency_ms"]["p50"] - c1["upstream"]["latency_ms"]["p50"], 3)
        run["nginx_added_latency_p50_ms"] = round(
            c1["nginx"]["latency_ms"]["p50"] - c1["upstream"]["latency_ms"]["p50"], 3)
        print(f"32 connections: nginx {c32['nginx']['rps']:.0f} req/s, proxy {c32['proxy']['rps']:.0f} req/s"
              f" -> ratio {run['throughput_ratio']:.3f}; 1 connection p50: upstream "
              f"{c1['upstream']['latency_ms']['p50']:.3f} ms, nginx {c1['nginx']['latency_ms']['p50']:.3f} ms, "
              f"proxy {c1['proxy']['latency_ms']['p50']:.3f} ms -> added {run['added_latency_p50_ms']:.3f} ms")
    ratio = statistics.median(run["throughput_ratio"] for run in rounds)
    added = statistics.median(run["added_latency_p50_ms"] for run in rounds)
    results = {
        "quick": args.quick, "seconds": seconds, "cores": cores, "load_average": os.getloadavg(),
        "proxy_workers": args.workers or gunicorn_workers(args.worker_per_core, cores),
        "rounds": rounds,
        "throughput_ratio": ratio, "added_latency_p50_ms": added,
        "targets": {"throughput_ratio": ">= 0.12", "added_latency_p50_ms": "<= 0.4",
                    "met": ratio >= 0.12 and added <= 0.4},
    }
    print(f"median of {len(rounds)} round(s): throughput ratio {ratio:.3f} (target >= 0.12), "
          f"added p50 latency {added:.3f} ms (target <= 0.4); load average {os.getloadavg()[0]:.1f}")
    bad = [name for run in rounds for block in (run["c32"], run["c1"]) for name, one in block.items()
           if one["non_2xx"]]
    if bad:
        print(f"non-2xx answers from: {', '.join(sorted(set(bad)))}", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
