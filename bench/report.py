"""The suite's report: results JSON -> ``latest.md`` with a table per section and PNG charts.

    .venv/bin/python -m bench.report [bench/results/latest.json] [--out DIR]

Every figure sits next to its baseline from the same run, as absolute numbers and as a ratio.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

ADAPTERS = ("process", "docker")
CHARTS = {"cold": "cold_start.png", "warm": "hops.png", "proxy": "proxy.png", "density": "density.png"}
EXECUTOR_COLOR, BASELINE_COLOR = "#3572b0", "#b0b0b0"


def fmt(value, digits: int | None = None) -> str:
    """A number for a table: sub-millisecond figures keep their digits, large ones get separators."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if digits is None:
            digits = 3 if abs(value) < 1 else 2 if abs(value) < 10 else 1
        return f"{value:,.{digits}f}"
    return str(value)


def spread(figures: dict | None, keys=("p50", "p90", "p99")) -> str:
    return " / ".join(fmt(figures[key]) for key in keys) if figures else "-"


def table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(cell) if not isinstance(cell, str) else cell for cell in row) + " |"
              for row in rows]
    return lines + [""]


def problem(section: dict | None) -> str | None:
    """Why a section has no figures (missing, skipped or failed), or None."""
    if section is None:
        return "not run"
    if "skipped" in section:
        return f"skipped: {section['skipped']}"
    if "error" in section:
        return f"failed: `{section['error'].splitlines()[0][:300]}`"
    return None


def errors_of(section: dict) -> list[str]:
    return [f"- error ({name}): `{text.splitlines()[0][:300]}`" for name, text in section.get("errors", {}).items()]


def cold_sections(results: dict) -> list[tuple[str, dict]]:
    return [(adapter, results[f"cold_{adapter}"]) for adapter in ADAPTERS
            if results.get(f"cold_{adapter}") and not problem(results[f"cold_{adapter}"])]


# --- summary ---------------------------------------------------------------------------------

def summary_rows(results: dict) -> list[list]:
    """figure | measured | baseline | ratio: the headline of each section."""
    rows = []
    for adapter, section in cold_sections(results):
        for language, figures in section["languages"].items():
            rows.append([f"cold start p50, {language}, {adapter} (ms)", figures["executor"]["p50"],
                         f"{fmt(figures['baseline']['p50'])} ({'docker run' if adapter == 'docker' else 'direct start'})",
                         f"{fmt(figures['ratio_p50'], 2)}x"])
    pool = results.get("pool")
    if pool and not problem(pool):
        for run in pool["results"]:
            for language, figures in run["languages"].items():
                hit, miss = figures["pool_hit_ms"]["p50"], figures["pool_miss_ms"]["p50"]
                rows.append([f"pool-hit cold start p50, {language}, {run['adapter']} (ms)", hit,
                             f"{fmt(miss)} (pool miss)", f"{fmt(ratio_of(hit, miss), 2)}x"])
    warm = results.get("warm")
    if warm and not problem(warm):
        latency, rates = warm["latency_ms"], warm["throughput"]
        rows.append(["warm p50 via executor (ms)", latency["executor"]["p50"],
                     f"{fmt(latency['direct']['p50'])} (direct)", f"{fmt(warm['latency_ratio_p50']['executor'], 2)}x"])
        rows.append(["warm p50 via proxy + executor (ms)", latency["proxy"]["p50"],
                     f"{fmt(latency['direct']['p50'])} (direct)", f"{fmt(warm['latency_ratio_p50']['proxy'], 2)}x"])
        rows.append(["warm throughput via proxy + executor (req/s)", rates["proxy"]["rps"],
                     f"{fmt(rates['direct']['rps'])} (direct)", f"{fmt(warm['throughput_ratio']['proxy'], 2)}x"])
    proxy = results.get("proxy")
    if proxy and not problem(proxy):
        c32 = proxy["rounds"][0]["c32"]
        c1 = proxy["rounds"][0]["c1"]
        rows.append(["proxy throughput, 32 connections (req/s)", c32["proxy"]["rps"],
                     f"{fmt(c32['nginx']['rps'])} (nginx)", f"{fmt(proxy['throughput_ratio'], 3)}x"])
        rows.append(["proxy p50, 1 connection (ms)", c1["proxy"]["latency_ms"].get("p50"),
                     f"{fmt(c1['nginx']['latency_ms'].get('p50'), 3)} (nginx)",
                     f"{fmt(ratio_of(c1['proxy']['latency_ms'].get('p50'), c1['nginx']['latency_ms'].get('p50')), 2)}x"])
    dense = results.get("density")
    if dense and not problem(dense):
        for language, row in dense["runtimes"].items():
            rows.append([f"idle {row['runtime']} runtime RSS (MiB)", row["idle_runtime_mib"],
                         f"{fmt(row['bare_interpreter_mib'])} (bare interpreter)", f"{fmt(row['ratio'], 2)}x"])
        levels = dense["executor"]["levels"]
        top = max(levels, key=int)
        rows.append([f"executor RSS with {top} idle runtimes (MiB)", levels[top]["executor_mib"],
                     f"{fmt(levels[min(levels, key=int)]['executor_mib'])} (with {min(levels, key=int)})",
                     f"{fmt(levels[top]['ratio_to_none'], 2)}x"])
    return rows


def ratio_of(value, base):
    return round(value / base, 2) if value is not None and base else None


def summary_table(results: dict) -> list[str]:
    return table(["figure", "measured", "baseline (same run)", "ratio"], summary_rows(results))


# --- sections --------------------------------------------------------------------------------

def cold_markdown(results: dict) -> list[str]:
    lines = ["## 1. Cold start", "",
             "First request of a new runtime through the executor (`POST /v1/runtimes/{id}/executions`), "
             "next to the floor of the same work: the same hello function started directly (process: "
             "`helpers/start.sh` in the bubblewrap sandbox; docker: `docker run` of the same image) and "
             "polled until its first 200. Samples interleaved. ms, p50 / p90 / p99.", ""]
    rows, concurrent = [], []
    for adapter in ADAPTERS:
        section = results.get(f"cold_{adapter}")
        why = problem(section)
        if why:
            lines.append(f"- {adapter} adapter: {why}")
            continue
        lines += errors_of(section)
        for language, figures in section["languages"].items():
            rows.append([language, adapter, figures["executor"]["n"], spread(figures["executor"]),
                         spread(figures["baseline"]), f"{fmt(figures['ratio_p50'], 2)}x",
                         fmt(figures["added_p50_ms"])])
        for count, row in section.get("concurrent", {}).get("levels", {}).items():
            concurrent.append([adapter, count, spread(row["executor"], ("p50", "p99")),
                               spread(row["baseline"], ("p50", "p99")),
                               f"{fmt(row['executor_wall_ms'])} / {fmt(row['baseline_wall_ms'])}",
                               f"{fmt(row['ratio_p50'], 2)}x", f"{fmt(row['ratio_wall'], 2)}x"])
    lines.append("")
    lines += table(["language", "adapter", "n", "executor", "baseline", "ratio p50", "added p50 ms"], rows)
    if concurrent:
        language = next(s for _, s in cold_sections(results) if "concurrent" in s)["concurrent"]["language"]
        lines += [f"K concurrent cold starts of distinct {language} runtimes (ms; wall = until all K answered):", ""]
        lines += table(["adapter", "K", "executor p50 / p99", "baseline p50 / p99", "wall executor / baseline",
                        "ratio p50", "ratio wall"], concurrent)
    if rows:
        lines += [f"![cold start distribution]({CHARTS['cold']})", ""]
    return lines


def pool_markdown(results: dict) -> list[str]:
    pool = results.get("pool")
    lines = ["## 1b. Prewarmed pools: pool hit vs pool miss", ""]
    if not pool or problem(pool):
        return lines + [f"Not measured: {problem(pool) if pool else 'section missing'}", ""]
    lines += ["A cold start through the executor served by a prewarmed runtime (specialized with the "
              "function) next to one that starts a runtime from its image (`OPR_EXECUTOR_PREWARM`, "
              "alternating hits and misses in one executor per adapter). Targets: hit p50 <= 50 ms "
              "(process), <= 100 ms (docker).", ""]
    rows = []
    for run in pool["results"]:
        for language, figures in run["languages"].items():
            hit, miss = figures["pool_hit_ms"], figures["pool_miss_ms"]
            rows.append([run["adapter"], language, spread(hit, ("p50", "p90")), spread(miss, ("p50", "p90")),
                         f"{fmt(ratio_of(hit['p50'], miss['p50']), 2)}x",
                         "met" if hit["p50"] <= run["target_hit_p50_ms"] else "missed"])
    return lines + table(["adapter", "language", "pool hit p50 / p90 (ms)", "pool miss p50 / p90 (ms)",
                          "ratio p50", "target"], rows)


def warm_markdown(results: dict) -> list[str]:
    warm = results.get("warm")
    lines = ["## 2. Warm execution, hop by hop", ""]
    why = problem(warm)
    if why:
        return lines + [f"- {why}", ""]
    latency, rates = warm["latency_ms"], warm["throughput"]
    lines += [f"A warm {warm['language']} hello function; {warm['iterations']} interleaved sequential requests "
              f"per path on keep-alive connections, then wrk with {warm['wrk_connections']} connections for "
              f"{fmt(warm['wrk_seconds'], 0)} s per path. \"direct, log files\" is the direct request with "
              "the log-file header the executor sends, i.e. the runtime doing the same work as behind the executor.", ""]
    names = {"direct": "direct to the runtime", "direct_log_files": "direct, log files",
             "executor": "through the executor", "proxy": "through proxy + executor"}
    rows = []
    for key, label in names.items():
        rate = rates.get(key, {}).get("rps")
        rows.append([label, latency[key]["p50"], latency[key]["p99"], fmt(rate, 0) if rate else "-",
                     f"{fmt(ratio_of(latency[key]['p50'], latency['direct']['p50']), 2)}x",
                     f"{fmt(warm['throughput_ratio'].get(key), 2)}x" if rate else "-"])
    lines += table(["path", "p50 ms", "p99 ms", "req/s", "p50 vs direct", "req/s vs direct"], rows)
    added = warm["added_ms"]
    lines += table(["hop", "added p50 ms", "added p99 ms"],
                   [["executor (vs direct, log files)", added["executor"]["p50"], added["executor"]["p99"]],
                    ["proxy (vs executor)", added["proxy"]["p50"], added["proxy"]["p99"]]])
    return lines + [f"![latency per hop]({CHARTS['warm']})", ""]


def proxy_markdown(results: dict) -> list[str]:
    proxy = results.get("proxy")
    lines = ["## 3. Proxy vs nginx", ""]
    why = problem(proxy)
    if why:
        return lines + [f"- {why}", ""]
    lines += [f"`bench.proxy`: wrk for {fmt(proxy['seconds'], 0)} s per run against a fixed-answer nginx upstream, "
              f"nginx as a keep-alive reverse proxy to it (baseline), and the proxy ({proxy['proxy_workers']} "
              f"gunicorn workers) in front of the same upstream; {len(proxy['rounds'])} round(s), "
              "added latency = p50 minus the upstream's direct p50.", ""]
    rows = []
    for run in proxy["rounds"]:
        for connections, block in (("32", run["c32"]), ("1", run["c1"])):
            for name in ("upstream", "nginx", "proxy"):
                if name in block:
                    one = block[name]
                    rows.append([connections, name, fmt(one["rps"], 0), one["latency_ms"].get("p50"),
                                 one["latency_ms"].get("p99"),
                                 f"{fmt(ratio_of(one['rps'], block['nginx']['rps']), 3)}x"])
    lines += table(["connections", "server", "req/s", "p50 ms", "p99 ms", "req/s vs nginx"], rows)
    lines += [f"Median over rounds: throughput ratio proxy / nginx at 32 connections **{fmt(proxy['throughput_ratio'], 3)}**, "
              f"added p50 latency at 1 connection **{fmt(proxy['added_latency_p50_ms'], 3)} ms** "
              f"(nginx's own: {fmt(proxy['rounds'][0].get('nginx_added_latency_p50_ms'), 3)} ms).", "",
              f"![throughput versus nginx]({CHARTS['proxy']})", ""]
    return lines


def density_markdown(results: dict) -> list[str]:
    dense = results.get("density")
    lines = ["## 4. Density (process adapter)", ""]
    why = problem(dense)
    if why:
        return lines + [f"- {why}", ""]
    lines += ["Summed VmRSS (MiB) of a process tree, 0.5 s after the last start.", ""]
    lines += table(["runtime", "idle runtime MiB", "bare interpreter MiB (same sandbox)", "ratio"],
                   [[row["runtime"], row["idle_runtime_mib"], row["bare_interpreter_mib"], f"{fmt(row['ratio'], 2)}x"]
                    for row in dense["runtimes"].values()])
    executor = dense["executor"]
    lines += [f"The executor (gunicorn master + worker) with idle {executor['language']} runtimes; "
              "baseline: the same executor with none.", ""]
    lines += table(["idle runtimes", "executor MiB", "ratio to none", "the runtimes' own MiB"],
                   [[level, row["executor_mib"], f"{fmt(row['ratio_to_none'], 2)}x", row["runtimes_mib"]]
                    for level, row in executor["levels"].items()])
    return lines + [f"![memory]({CHARTS['density']})", ""]


def machine_markdown(results: dict) -> list[str]:
    host = results["machine"]
    return [f"Machine: {host['cores']} cores ({host.get('cpu') or 'unknown CPU'}), "
            f"{fmt(host.get('memory_mib'))} MiB, kernel {host['kernel']}, Docker {host.get('docker') or 'absent'}, "
            f"Python {host.get('python')}. Load average at start {host['load_average']}, at end "
            f"{host.get('load_average_end', '-')}: the machine is shared with other work, so absolute "
            "figures are noisy; each ratio compares runs made side by side.", ""]


def markdown(results: dict) -> str:
    kind = "quick (reduced)" if results["quick"] else "full"
    lines = ["# Benchmark report", "",
             f"Run {results['date']} on commit `{results.get('commit') or '?'}`, {kind} run, "
             f"{fmt(results['seconds'], 0)} s. Produced by `make bench` (`python -m bench.suite`); raw samples "
             "in the JSON next to this file.", ""]
    lines += machine_markdown(results)
    for name in ("process_adapter", "docker_adapter"):  # an executor that could not start or build
        if results.get(name, {}).get("error"):
            lines += [f"**{name.replace('_', ' ')} set-up failed:** `{results[name]['error'].splitlines()[0][:300]}`", ""]
    lines += ["## Summary", ""] + summary_table(results)
    for part in (cold_markdown, pool_markdown, warm_markdown, proxy_markdown, density_markdown):
        lines += part(results)
    return "\n".join(lines).rstrip() + "\n"


# --- charts ----------------------------------------------------------------------------------

def cold_chart(results: dict, path: Path) -> bool:
    groups = [(f"{language}\n{adapter}", figures["samples"])
              for adapter, section in cold_sections(results) for language, figures in section["languages"].items()]
    if not groups:
        return False
    figure, axes = plt.subplots(figsize=(max(6, 1.6 * len(groups)), 4.5))
    positions = []
    for index, (_, samples) in enumerate(groups):
        for offset, key, color in ((-0.2, "executor", EXECUTOR_COLOR), (0.2, "baseline", BASELINE_COLOR)):
            box = axes.boxplot(samples[key], positions=[index + offset], widths=0.35, patch_artist=True,
                               showfliers=True, whis=(1, 99))
            for patch in box["boxes"]:
                patch.set_facecolor(color)
        positions.append(index)
    axes.set_xticks(positions, [label for label, _ in groups])
    axes.set_ylabel("ms to the first response")
    axes.set_title("Cold start: through the executor (blue) vs direct start / docker run (grey)")
    axes.set_ylim(bottom=0)
    axes.grid(axis="y", alpha=0.3)
    return save(figure, path)


def warm_chart(results: dict, path: Path) -> bool:
    warm = results.get("warm")
    if not warm or problem(warm):
        return False
    latency = warm["latency_ms"]
    names = ["direct", "direct_log_files", "executor", "proxy"]
    labels = ["direct", "direct +\nlog files", "executor", "proxy +\nexecutor"]
    figure, axes = plt.subplots(figsize=(7, 4.2))
    xs = range(len(names))
    axes.bar([x - 0.2 for x in xs], [latency[name]["p50"] for name in names], 0.4, label="p50", color=EXECUTOR_COLOR)
    axes.bar([x + 0.2 for x in xs], [latency[name]["p99"] for name in names], 0.4, label="p99", color=BASELINE_COLOR)
    axes.set_xticks(list(xs), labels)
    axes.set_ylabel("ms per request")
    axes.set_title("Warm hello: latency per hop")
    axes.legend()
    axes.grid(axis="y", alpha=0.3)
    return save(figure, path)


def proxy_chart(results: dict, path: Path) -> bool:
    proxy = results.get("proxy")
    if not proxy or problem(proxy):
        return False
    run = proxy["rounds"][0]
    figure, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, key, title in ((axes[0], "c1", "1 connection"), (axes[1], "c32", "32 connections")):
        names = [name for name in ("upstream", "nginx", "proxy") if name in run[key]]
        ax.bar(names, [run[key][name]["rps"] for name in names],
               color=[BASELINE_COLOR if name != "proxy" else EXECUTOR_COLOR for name in names])
        ax.set_title(f"wrk, {title}")
        ax.set_ylabel("requests / s")
        ax.grid(axis="y", alpha=0.3)
    figure.suptitle("Proxy throughput versus nginx (same upstream)")
    return save(figure, path)


def density_chart(results: dict, path: Path) -> bool:
    dense = results.get("density")
    if not dense or problem(dense):
        return False
    figure, axes = plt.subplots(1, 2, figsize=(9, 4))
    rows = dense["runtimes"]
    names = list(rows)
    xs = range(len(names))
    axes[0].bar([x - 0.2 for x in xs], [rows[name]["idle_runtime_mib"] for name in names], 0.4,
                label="idle runtime", color=EXECUTOR_COLOR)
    axes[0].bar([x + 0.2 for x in xs], [rows[name]["bare_interpreter_mib"] for name in names], 0.4,
                label="bare interpreter", color=BASELINE_COLOR)
    axes[0].set_xticks(list(xs), names)
    axes[0].set_ylabel("MiB RSS")
    axes[0].legend()
    levels = dense["executor"]["levels"]
    counts = list(levels)
    axes[1].plot([int(c) for c in counts], [levels[c]["executor_mib"] for c in counts], "o-",
                 color=EXECUTOR_COLOR, label="executor (master + worker)")
    axes[1].plot([int(c) for c in counts], [levels[c]["runtimes_mib"] for c in counts], "o--",
                 color=BASELINE_COLOR, label="the idle runtimes themselves")
    axes[1].set_xlabel("idle runtimes")
    axes[1].set_ylabel("MiB RSS")
    axes[1].set_ylim(bottom=0)
    axes[1].legend()
    for ax in axes:
        ax.grid(axis="y", alpha=0.3)
    figure.suptitle("Memory: idle runtimes and the executor")
    return save(figure, path)


def save(figure, path: Path) -> bool:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


def write(results: dict, out: Path) -> list[Path]:
    """Write ``latest.md`` and its charts into ``out``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for key, chart in (("cold", cold_chart), ("warm", warm_chart), ("proxy", proxy_chart),
                       ("density", density_chart)):
        path = out / CHARTS[key]
        if chart(results, path):
            written.append(path)
        elif path.exists():
            path.unlink()  # a stale chart of an earlier run must not pass for this one's
    report = out / "latest.md"
    report.write_text(markdown(results))
    return [report, *written]


README_START, README_END = "<!-- bench-summary:start -->", "<!-- bench-summary:end -->"


def update_readme(results: dict, readme: Path, report_link: str = "bench/results/latest.md") -> bool:
    """Put this run's summary table between the README's markers; False when it has none."""
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        return False
    head, rest = text.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    host = results["machine"]
    block = [README_START, "",
             f"From [the latest report]({report_link}) ({results['date']}, commit `{results.get('commit')}`, "
             f"{host['cores']} cores, kernel {host['kernel']}, Docker {host.get('docker') or 'absent'}, "
             f"load average {host['load_average'][0]}):", ""]
    block += summary_table(results) + [README_END]
    readme.write_text(head + "\n".join(block) + tail)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, nargs="?", default=Path(__file__).parent / "results/latest.json")
    parser.add_argument("--out", type=Path, help="directory of latest.md and the charts (default: the JSON's)")
    args = parser.parse_args(argv)
    try:
        results = json.loads(args.results.read_text())
    except (OSError, ValueError) as error:
        print(f"bench.report: cannot read {args.results}: {error}", file=sys.stderr)
        return 2
    for path in write(results, args.out or args.results.parent):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
