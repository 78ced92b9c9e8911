"""Turns the results of bench/run.py into performance.md (tables) and performance.png (plots)."""

import os
import platform
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TARGETS = ("ours", "ours-redis", "peer", "ours-public", "ours-simple")
NAMES = {
    "ours": "ours (SQLite)",
    "ours-redis": "ours (Redis queue)",
    "peer": "Node peer",
    "ours-public": "ours, public paths (FAST_TRANSPORT=0)",
    "ours-simple": "ours, simple-websocket driver (-k gevent)",
}
# The transport modes compared side by side: the served default, the libraries'
# public paths, and python-engineio's own gevent driver with simple-websocket.
MODES = ("ours", "ours-public", "ours-simple")
# A load generator busier than this, or later than this on its schedule, may have
# held a figure back: such figures are flagged rather than silently reported.
BUSY_SHARE, LATE_MS = 0.9, 10.0
# Other programs using more than this many cores meanwhile disturbed a figure.
OTHER_CORES = 0.15


def machine_facts() -> dict:
    """What the figures were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        node = subprocess.run(
            ["node", "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except OSError:
        node = "not found"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": node,
    }


def fmt(value, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, (int, float)) and abs(value) >= 1000:
        return f"{value:,.0f}{suffix}"
    return f"{value:.{digits}f}{suffix}" if isinstance(value, float) else f"{value}{suffix}"


def ratio(ours, peer) -> str:
    if not isinstance(ours, (int, float)) or not isinstance(peer, (int, float)) or not peer:
        return "—"
    return f"{ours / peer:.2f}×"


def get(results: dict, target: str, workload: str, *path):
    """results[targets][target][workload][path...], or None anywhere along the way."""
    node = results["targets"].get(target, {}).get(workload)
    for key in path:
        if not isinstance(node, (dict, list)):
            return None
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def fanout_sockets(results) -> str:
    sockets = get(results, "peer", "fanout", "sockets") or get(results, "ours", "fanout", "sockets")
    return f"{sockets:,}" if sockets else "?"


def latency_step(results, target, rate):
    for step in get(results, target, "latency", "steps") or []:
        if step["rate"] == rate:
            return step
    return None


def cpu_ms_per_webhook(step: dict | None) -> float | None:
    """Server CPU time per webhook, its deliveries included: robust to a busy machine.

    Only for a step the server finished (every webhook stored and delivered): an
    overloaded server spends CPU on requests that it had not answered yet.
    """
    if not step or step["statuses"].get("201") != step["webhooks"] or step["missing_deliveries"]:
        return None
    return round(step["server_cpu_s"] / step["webhooks"] * 1000, 2)


def last_probe_p50(results: dict, target: str) -> float | None:
    """The lone-connect p50 at the largest socket count where those connects succeeded."""
    for point in reversed(get(results, target, "capacity", "points") or []):
        p50 = (point.get("probe") or {}).get("p50_ms")
        if p50 is not None:
            return p50
    return None


def ingest_best(results: dict, target: str):
    """The highest passing ingest rate; "< lowest" when even the lowest rate failed."""
    steps = get(results, target, "ingest", "steps")
    best = get(results, target, "ingest", "best_rate")
    if best is None and steps:
        return f"< {steps[0]['rate']:g}"
    return best


def disturbance(results: dict) -> float | None:
    """Mean cores that other programs used while the workloads ran."""
    readings = []
    for workloads in results["targets"].values():
        for result in workloads.values():
            readings += [s.get("other_cpu_cores") for s in result.get("steps", [])]
            readings.append(result.get("other_cpu_cores"))
    readings = [r for r in readings if r is not None]
    return sum(readings) / len(readings) if readings else None


def rows(results: dict) -> list[dict]:
    """One row per headline figure: values per target, the target and whether it is met."""
    full = results["mode"] == "full"

    def row(label, key_fn, target_text="", check=None, better="higher", peer_relative=False):
        values = {t: key_fn(t) for t in TARGETS}
        verdict = "—"
        if check is not None and values["ours"] is not None:
            ok = check(values["ours"], values["peer"]) if peer_relative else check(values["ours"])
            verdict = ("met" if ok else "missed") if ok is not None else "—"
            if not full:
                verdict = "n/a (quick run)"
        return {
            "label": label,
            "values": values,
            "target": target_text,
            "verdict": verdict,
            "better": better,
        }

    table = [
        row(
            "Sockets held by one process",
            lambda t: get(results, t, "capacity", "max_sockets"),
            ">= 10,000",
            lambda v: v >= 10000,
        ),
        row(
            "RSS per idle socket (KB, slope from 1k sockets)",
            lambda t: get(results, t, "capacity", "rss_per_socket_kb"),
            "<= 30 KB",
            lambda v: v <= 30,
            "lower",
        ),
        row(
            "One more connect at the most sockets it still worked: p50 of 10 lone connects (ms)",
            lambda t: last_probe_p50(results, t),
            better="lower",
        ),
    ]
    for rate in sorted(
        {s["rate"] for t in TARGETS for s in (get(results, t, "latency", "steps") or [])}
    ):
        agents = get(results, "ours", "latency", "agents") or get(
            results, "peer", "latency", "agents"
        )
        for stat in ("p50_ms", "p99_ms", "max_ms"):
            check = target_text = None
            if rate == 200 and stat == "p99_ms":
                target_text, check = "<= 20 ms (SQLite), <= 30 ms (Redis)", lambda v: v <= 20
            table.append(
                row(
                    f"Webhook -> client {stat[:-3]} at {rate:g}/s, {agents} sockets (ms)",
                    lambda t, r=rate, s=stat: (
                        (latency_step(results, t, r) or {}).get("latency", {}).get(s)
                    ),
                    target_text or "",
                    check,
                    "lower",
                )
            )
        table.append(
            row(
                f"Server CPU per webhook at {rate:g}/s, {agents} sockets (ms)",
                lambda t, r=rate: cpu_ms_per_webhook(latency_step(results, t, r)),
                better="lower",
            )
        )
    table += [
        row(
            f"Fan-out: deliveries/s of one event to {fanout_sockets(results)} admin sockets",
            lambda t: get(results, t, "fanout", "deliveries_per_s"),
            ">= peer",
            lambda v, p: None if p is None else v >= p,
            peer_relative=True,
        ),
        row(
            "Fan-out: server CPU-s per 1,000 deliveries",
            lambda t: get(results, t, "fanout", "cpu_s_per_1000"),
            "<= peer",
            lambda v, p: None if p is None else v <= p,
            "lower",
            peer_relative=True,
        ),
        row(
            "Fan-out burst: deliveries/s, events fired together",
            lambda t: get(results, t, "fanout", "burst_deliveries_per_s"),
        ),
        row(
            "Webhook ingest: highest rate with p99 < 50 ms, all stored and emitted (/s)",
            lambda t: ingest_best(results, t),
            ">= 1,000/s",
            lambda v: not isinstance(v, str) and v >= 1000,
        ),
        row(
            "Webhook ingest: server CPU-s per 1,000 webhooks at that rate",
            lambda t: get(results, t, "ingest", "best_cpu_s_per_1000"),
            better="lower",
        ),
    ]
    return table


def redis_verdict(results, line):
    """The Redis column has its own latency target (30 ms)."""
    value = line["values"]["ours-redis"]
    if "at 200/s" not in line["label"] or "p99" not in line["label"] or value is None:
        return None
    if results["mode"] != "full":
        return "n/a (quick run)"
    return "met" if value <= 30 else "missed"


def md_row(cells) -> str:
    """One markdown table row."""
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def md_header(*names: str, text: tuple[int, ...] = (0,)) -> list[str]:
    """Header and alignment rows: the columns numbered in text left-aligned, numbers right."""
    rule = ["---" if index in text else "---:" for index in range(len(names))]
    return [md_row(names), md_row(rule)]


def table_markdown(results: dict) -> list[str]:
    out = md_header(
        "Figure",
        "ours (SQLite)",
        "ours (Redis)",
        "Node peer",
        "ours / peer",
        "Redis / peer",
        "better",
        "target",
        "ours: met?",
        text=(0, 6, 7, 8),
    )
    for line in rows(results):
        values = line["values"]
        verdict = line["verdict"]
        redis = redis_verdict(results, line)
        if redis:
            verdict += f"; Redis: {redis}"
        digits = 3 if "CPU-s" in line["label"] else 1
        out.append(
            md_row(
                [
                    line["label"],
                    *(fmt(values[t], digits) for t in ("ours", "ours-redis", "peer")),
                    ratio(values["ours"], values["peer"]),
                    ratio(values["ours-redis"], values["peer"]),
                    line["better"],
                    line["target"],
                    verdict,
                ]
            )
        )
    return out


def modes_markdown(results: dict) -> list[str]:
    """Every headline figure for the three transport modes, side by side (SQLite)."""
    if not any(results["targets"].get(t) for t in MODES[1:]):
        return []
    out = [
        "## Transport modes side by side",
        "",
        "The same workloads, each on a fresh server, SQLite: the served default (gevent-websocket"
        " worker, fast path on), the same worker on the libraries' public paths only"
        " (`FAST_TRANSPORT=0`), and python-engineio's own gevent driver with simple-websocket"
        " (`gunicorn -k gevent`, gevent-websocket not installed). See `app/transport/__init__.py`.",
        "",
    ]
    out += md_header(
        "Figure",
        "fast (default)",
        "public paths",
        "fast / public",
        "simple-websocket",
        "fast / simple",
        "better",
        text=(0, 6),
    )
    for line in rows(results):
        values = line["values"]
        if all(values[t] is None for t in MODES):
            continue
        digits = 3 if "CPU-s" in line["label"] else 1
        out.append(
            md_row(
                [
                    line["label"],
                    fmt(values["ours"], digits),
                    fmt(values["ours-public"], digits),
                    ratio(values["ours"], values["ours-public"]),
                    fmt(values["ours-simple"], digits),
                    ratio(values["ours"], values["ours-simple"]),
                    line["better"],
                ]
            )
        )
    return out + [""]


def disturbed(result: dict) -> str:
    return (
        f"other programs used {result['other_cpu_cores']:.2f} cores meanwhile: "
        "the figure is disturbed (run again on a quiet machine)"
    )


def generator_note(step: dict) -> str | None:
    """Why the load generator may have held a step's figures back, if it may have."""
    share, lag = step.get("loadgen_cpu_share") or 0, step.get("worst_schedule_lag_ms") or 0
    if share > BUSY_SHARE:
        return (
            f"load generator busy ({share:.0%} of its core, up to {lag:.1f} ms behind "
            "schedule): the server may be better than this"
        )
    if lag > LATE_MS:
        return (
            f"load generator up to {lag:.1f} ms behind schedule while using {share:.0%} of its "
            "core: it was kept off the CPU, its posts bunched up"
        )
    return None


def warnings(results: dict) -> list[str]:
    """Errors, lost deliveries, and figures a busy load generator may have held back."""
    notes = []
    for target, workloads in results["targets"].items():
        for workload, result in workloads.items():
            name = f"{NAMES.get(target, target)}, {workload}"
            if "error" in result:
                notes.append(f"- {name}: **error**: {result['error'].strip()[:400]}")
                continue
            if (result.get("other_cpu_cores") or 0) > OTHER_CORES:
                notes.append(f"- {name}: {disturbed(result)}")
            for step in result.get("steps", []):
                where = f"{name} at {step['rate']:g}/s" + (
                    f" (try {step['attempt']})" if step.get("attempt", 1) > 1 else ""
                )
                if (step.get("other_cpu_cores") or 0) > OTHER_CORES:
                    notes.append(f"- {where}: {disturbed(step)}")
                if step.get("missing_deliveries"):
                    missing, expected = step["missing_deliveries"], step["expected_deliveries"]
                    notes.append(f"- {where}: {missing} of {expected} deliveries missing")
                generator = generator_note(step)
                if generator:
                    notes.append(f"- {where}: {generator}")
            for phase in ("single_phase", "burst_phase"):
                share = (result.get(phase) or {}).get("loadgen_cpu_share") or 0
                if share > BUSY_SHARE:
                    notes.append(
                        f"- {name} ({phase}): load generator at {share:.0%} of its core: "
                        "the server may be better than this"
                    )
            steps = result.get("steps") or []
            if workload == "ingest" and steps and steps[-1].get("ok"):
                notes.append(
                    f"- {name}: passed the ladder's top rate ({steps[-1]['rate']:g}/s); "
                    "it may take more"
                )
            if workload == "capacity" and result.get("stop_reason"):
                dropped = result["held_before_hold"] - result["max_sockets"]
                notes.append(
                    f"- {name}: stopped at {result['max_sockets']} sockets: {result['stop_reason']}"
                    f" (then held {result['hold_s']:g} s, {dropped} dropped meanwhile)"
                )
    return notes


def plot(results: dict, path: Path):
    """Four panels: RSS over sockets, latency over rate, fan-out, ingest response time over rate."""
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    colors = {
        "ours": "tab:blue",
        "ours-redis": "tab:purple",
        "peer": "tab:orange",
        "ours-public": "tab:green",
        "ours-simple": "tab:gray",
    }
    ax = axes[0][0]
    for target in TARGETS:
        points = get(results, target, "capacity", "points") or []
        if points:
            ax.plot(
                [p["sockets"] for p in points],
                [p["rss_kb"] / 1024 for p in points],
                "o-",
                color=colors[target],
                label=NAMES[target],
            )
    ax.set(
        title="Capacity: server RSS over idle sockets", xlabel="sockets held", ylabel="RSS (MiB)"
    )
    ax = axes[0][1]
    for target in TARGETS:
        steps = get(results, target, "latency", "steps") or []
        if steps:
            rates = [s["rate"] for s in steps]
            ax.plot(
                rates,
                [s["latency"]["p99_ms"] for s in steps],
                "o-",
                color=colors[target],
                label=f"{NAMES[target]} p99",
            )
            ax.plot(
                rates,
                [s["latency"]["p50_ms"] for s in steps],
                "s--",
                color=colors[target],
                alpha=0.6,
                label=f"{NAMES[target]} p50",
            )
    ax.axhline(20, color="grey", linestyle=":", label="target p99 at 200/s (SQLite) 20 ms")
    ax.axhline(30, color="tab:purple", linestyle=":", alpha=0.5, label="target (Redis) 30 ms")
    ax.set(title="Webhook -> client latency", xlabel="webhooks/s", ylabel="ms", yscale="log")
    ax = axes[1][0]
    present = [t for t in TARGETS if get(results, t, "fanout", "deliveries_per_s")]
    ax.bar(
        [NAMES[t] for t in present],
        [get(results, t, "fanout", "deliveries_per_s") for t in present],
        color=[colors[t] for t in present],
    )
    for index, target in enumerate(present):
        cost = get(results, target, "fanout", "cpu_s_per_1000")
        ax.annotate(
            f"{cost:.3f} CPU-s / 1k" if cost is not None else "",
            (index, 0),
            textcoords="offset points",
            xytext=(0, 5),
            ha="center",
            color="white",
            fontweight="bold",
        )
    ax.set(
        title=f"Fan-out of one event to {fanout_sockets(results)} admin sockets",
        ylabel="deliveries/s",
    )
    ax = axes[1][1]
    for target in TARGETS:
        steps = list(
            {s["rate"]: s for s in get(results, target, "ingest", "steps") or []}.values()
        )  # last try
        if steps:
            ax.plot(
                [s["rate"] for s in steps],
                [s["response"]["p99_ms"] or 10_000 for s in steps],
                "o-",
                color=colors[target],
                label=NAMES[target],
            )
    ax.axhline(50, color="grey", linestyle=":", label="limit p99 50 ms")
    ax.set(
        title="Webhook ingest: response time p99",
        xlabel="offered webhooks/s",
        ylabel="ms",
        yscale="log",
    )
    for ax in axes.flat:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    others = disturbance(results)
    warning = (
        f"; DISTURBED: other programs used {others:.1f} cores"
        if others and others > OTHER_CORES
        else ""
    )
    fig.suptitle(f"bench/run.py ({results['mode']} run, {results['started']}{warning})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def latency_details(results: dict) -> list[str]:
    out = md_header(
        "server",
        "rate (/s)",
        "webhooks",
        "deliveries",
        "missing",
        "p50 (ms)",
        "p99 (ms)",
        "max (ms)",
        "HTTP p99 (ms)",
        "server CPU (s)",
        "generator busy",
        "other (cores)",
    )
    for target in TARGETS:
        for s in get(results, target, "latency", "steps") or []:
            late, http = s["latency"], s["response"]
            out.append(
                md_row(
                    [
                        NAMES[target],
                        f"{s['rate']:g}",
                        s["webhooks"],
                        s["expected_deliveries"],
                        s["missing_deliveries"],
                        fmt(late["p50_ms"], 2),
                        fmt(late["p99_ms"], 2),
                        fmt(late["max_ms"], 2),
                        fmt(http["p99_ms"], 2),
                        fmt(s["server_cpu_s"], 2),
                        f"{s['loadgen_cpu_share']:.0%}",
                        fmt(s.get("other_cpu_cores"), 2),
                    ]
                )
            )
    return out


def ingest_details(results: dict) -> list[str]:
    out = md_header(
        "server",
        "offered (/s)",
        "try",
        "stored (/s)",
        "emitted",
        "p50 (ms)",
        "p99 (ms)",
        "unanswered",
        "statuses",
        "ok",
        text=(0, 8, 9),
    )
    for target in TARGETS:
        for s in get(results, target, "ingest", "steps") or []:
            statuses = ", ".join(f"{k}: {v}" for k, v in sorted(s["statuses"].items()))
            out.append(
                md_row(
                    [
                        NAMES[target],
                        f"{s['rate']:g}",
                        s.get("attempt", 1),
                        fmt(s["stored_per_s"]),
                        f"{s['emitted']}/{s['stored']}",
                        fmt(s["response"]["p50_ms"], 2),
                        fmt(s["response"]["p99_ms"], 2),
                        s["unanswered"],
                        statuses,
                        "yes" if s["ok"] else "no",
                    ]
                )
            )
    return out


# Kept by hand (issue 7): what was changed, with before/after figures; appended to every report.
CHANGES = Path(__file__).resolve().parent.parent / "docs" / "performance-changes.md"


# Kept by hand from bench/data_growth.py's runs (issue 16): appended to every report too.
DATA_GROWTH = CHANGES.with_name("performance-data-growth.md")


def changes_section() -> list[str]:
    """The hand-written sections (what was changed; data growth), when they exist."""
    return [
        line
        for section in (CHANGES, DATA_GROWTH)
        if section.exists()
        for line in ["", *section.read_text().rstrip("\n").splitlines()]
    ]


def write(results: dict, out_dir: Path) -> tuple[Path, Path]:
    """Write performance.md and performance.png into out_dir."""
    image = out_dir / "performance.png"
    plot(results, image)
    machine = results["machine"]
    lines = [
        "# Performance",
        "",
        f"Measured by `bench/run.sh{' --quick' if results['mode'] == 'quick' else ''}` "
        "(run it from the repository root to reproduce these figures) "
        f"on {results['started']} in {results['elapsed_s']:.0f} s: {machine['cores']} cores "
        f"({machine['cpu'] or 'unknown CPU'}), kernel {machine['kernel']}, "
        f"Python {machine['python']}, Node {machine['node']}. "
        "Each server runs pinned to core 0, the load generator to core 1, both at niceness "
        f"{machine.get('niceness', 0)}; every workload starts a fresh server. "
        "The peer is `bench/peer/server.js`, a minimal Node socket.io 4.8 "
        "server with the same webhook -> room emit and rooms, measured in the same run, so each "
        "figure also has its ratio to the peer. How the workloads work and how to read the "
        "figures: `bench/README.md`.",
        "",
    ]
    others = disturbance(results)
    if others is not None and others > OTHER_CORES:
        lines += [
            f"**Disturbed run**: other programs used {others:.2f} of the "
            f"{machine['cores']} cores on average while the workloads ran, so latencies, "
            "rates and capacity here are not the servers' own. The CPU costs (server CPU per "
            "webhook, per 1,000 deliveries) and RSS per socket hold up best; run again on a "
            "quiet machine for the rest.",
            "",
        ]
    if results["mode"] == "quick":
        lines += [
            "**Quick run**: small numbers for a smoke test; the targets are stated for the full "
            "run's load, so met/missed is not judged here.",
            "",
        ]
    lines += table_markdown(results)
    lines += [
        "",
        "The Redis column's ratio is to the same peer (which has no message queue).",
        "",
        f"![performance plots]({image.name})",
        "",
        *modes_markdown(results),
        "## Webhook -> client latency by rate",
        "",
    ]
    lines += latency_details(results)
    lines += ["", "## Webhook ingest ladder", ""]
    lines += ingest_details(results)
    notes = warnings(results)
    lines += ["", "## Notes", ""] + (
        notes or ["- none: no errors, no lost deliveries, generator never saturated"]
    )
    lines += [
        "",
        "## Parameters",
        "",
        f"Load-generator options per workload (`bench/run.py`, profile `{results['mode']}`):",
        "",
    ]
    lines += [f"- {workload}: `{args}`" for workload, args in results["profile"].items()]
    lines += changes_section()
    markdown = out_dir / "performance.md"
    markdown.write_text("\n".join(lines) + "\n")
    return markdown, image
