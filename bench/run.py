"""The one command of issue 7 (bench/run.sh wraps it): every workload on ours and the peer.

    bench/.venv/bin/python bench/run.py          # full run: docs/performance.md and .png
    bench/.venv/bin/python bench/run.py --quick  # under a minute: bench/results/quick/

Each workload gets a freshly started server pinned to core 0 (taskset -c 0) and a
load generator pinned to core 1. Everything targets 127.0.0.1, every loop is
bounded in count and time, and the run stops by itself.
"""

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import report
from servers import BENCH, ROOT, NodePeer, OurServer, pinned, redis_reachable

# Load-generator options per workload; "full" is what the targets are stated for.
PROFILES = {
    "full": {
        "capacity": "--cap 12000 --batch 1000 --settle 1 --hold 30 --time-limit 400",
        "latency": "--agents 1000 --admin-sockets 20 --rates 100 200 500 --duration 10 --drain 5",
        "fanout": "--sockets 1000 --events 50 --burst 20",
        "ingest": "--rates 250 500 750 1000 1500 2000 3000 4000 --duration 5 --drain 5",
    },
    "quick": {
        "capacity": "--cap 500 --batch 250 --settle 0.3 --hold 0 --time-limit 20",
        "latency": "--agents 100 --rates 100 200 --duration 1 --drain 2 --pause 0.2",
        "fanout": "--sockets 200 --events 5 --burst 3",
        "ingest": "--rates 100 200 400 --duration 1 --drain 2 --pause 0.2",
    },
}
WORKLOAD_TIMEOUT = {"full": 900, "quick": 60}  # seconds, per load-generator run


def option(profile: dict, workload: str, name: str, default: float) -> float:
    args = profile.get(workload, "").split()
    return float(args[args.index(name) + 1]) if name in args else default


def accounts_needed(profile: dict) -> tuple[int, int]:
    """(users, admins) for the largest workload: 20 sockets per user at most."""
    capacity = option(profile, "capacity", "--cap", 0)
    agents = option(profile, "latency", "--agents", 0) - option(
        profile, "latency", "--admin-sockets", 0
    )
    users = math.ceil(max(capacity, agents, 20) / 20)
    admins = math.ceil(
        max(
            option(profile, "fanout", "--sockets", 0),
            option(profile, "latency", "--admin-sockets", 0),
        )
        / 20
    )
    return users, max(admins, 1)


def run_loadgen(
    workload: str, args: list[str], server, accounts: Path, out: Path, timeout: float
) -> dict:
    """One load-generator run on core 1 against a started server; its JSON result."""
    argv = [
        sys.executable,
        str(BENCH / "loadgen.py"),
        workload,
        "--port",
        str(server.port),
        "--accounts",
        str(accounts),
        "--server-pid",
        str(server.measured_pid),
        "--out",
        str(out),
        *args,
    ]
    done = subprocess.run(
        pinned(1, argv), cwd=BENCH, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        return {"workload": workload, "error": f"load generator failed: {done.stderr[-1500:]}"}
    return json.loads(out.read_text())


def run_target(name, server, accounts, workloads, profile, mode, out_dir) -> dict:
    """Every workload against one kind of server, each on a fresh server process."""
    results = {}
    for workload in workloads:
        started = time.monotonic()
        try:
            server.start(f"{name}-{workload}")
            results[workload] = run_loadgen(
                workload,
                profile[workload].split(),
                server,
                accounts,
                out_dir / f"{name}-{workload}.json",
                WORKLOAD_TIMEOUT[mode],
            )
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            results[workload] = {"workload": workload, "error": str(exc)[-1500:]}
        finally:
            server.stop()
        print(
            f"  {name} {workload}: {time.monotonic() - started:.1f} s"
            + (
                f" ERROR {results[workload]['error'][:200]}" if "error" in results[workload] else ""
            ),
            flush=True,
        )
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="small numbers, under a minute (smoke test)"
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        help="where performance.md/.png go (default: docs/, or bench/results/quick/)",
    )
    parser.add_argument(
        "--targets",
        nargs="+",
        default=["peer", "ours", "ours-redis"],
        choices=["peer", "ours", "ours-redis"],
    )
    parser.add_argument(
        "--redis-db", type=int, default=14, help="Redis database number used by ours-redis"
    )
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    profile = PROFILES[mode]
    out_dir = args.out_dir or (BENCH / "results" / "quick" if args.quick else ROOT / "docs")
    out_dir.mkdir(parents=True, exist_ok=True)
    raw_dir = BENCH / "results" / time.strftime(f"{mode}-%Y%m%d-%H%M%S")
    raw_dir.mkdir(parents=True, exist_ok=True)
    users, admins = accounts_needed(profile)
    started = time.monotonic()
    results = {
        "mode": mode,
        "profile": profile,
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": report.machine_facts(),
        "targets": {},
    }

    with tempfile.TemporaryDirectory(prefix="bench-") as work:
        work = Path(work)
        if "peer" in args.targets:
            print("peer (Node socket.io)", flush=True)
            accounts = NodePeer.prepare(work, users, admins)
            results["targets"]["peer"] = run_target(
                "peer", NodePeer(raw_dir), accounts, list(profile), profile, mode, raw_dir
            )
        ours_targets = [t for t in args.targets if t.startswith("ours")]
        if ours_targets:
            database_url = f"sqlite:///{work / 'bench.db'}"
            ours = OurServer(raw_dir, database_url)
            print(f"ours: creating {users} users and {admins} admins", flush=True)
            try:
                accounts = ours.prepare(work, users, admins)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                for target in ours_targets:
                    results["targets"][target] = {"setup": {"error": str(exc)[-1500:]}}
                ours_targets = []
            if "ours" in ours_targets:
                print("ours (embedded, SQLite)", flush=True)
                results["targets"]["ours"] = run_target(
                    "ours", ours, accounts, list(profile), profile, mode, raw_dir
                )
            if "ours-redis" in ours_targets:
                results["targets"]["ours-redis"] = run_redis(
                    args, ours, database_url, accounts, profile, mode, raw_dir
                )

    results["elapsed_s"] = round(time.monotonic() - started, 1)
    (raw_dir / "results.json").write_text(json.dumps(results, indent=2))
    markdown, image = report.write(results, out_dir)
    print(
        f"wrote {markdown} and {image} (raw results: {raw_dir}) in {results['elapsed_s']} s",
        flush=True,
    )


def run_redis(args, ours, database_url, accounts, profile, mode, raw_dir) -> dict:
    """Ours with REDIS_URL (the Socket.IO message queue); capacity is not repeated there."""
    if not redis_reachable():
        return {"setup": {"error": "Redis not reachable on 127.0.0.1:6379"}}
    print("ours with REDIS_URL", flush=True)
    redis_server = OurServer(raw_dir, database_url, f"redis://127.0.0.1:6379/{args.redis_db}")
    redis_server.secrets = ours.secrets  # the tokens were signed with these
    workloads = [w for w in profile if w != "capacity"]
    if mode == "quick":
        workloads = ["latency"]
    return run_target("ours-redis", redis_server, accounts, workloads, profile, mode, raw_dir)


if __name__ == "__main__":
    main()
