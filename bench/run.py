"""The one command of issue 7 (bench/run.sh wraps it): every workload on ours and the peer.

    bench/.venv/bin/python bench/run.py          # full run: docs/performance.md and .png
    bench/.venv/bin/python bench/run.py --quick  # a few minutes: bench/results/quick/

Each workload gets a freshly started server pinned to core 0 (taskset -c 0) and a
load generator pinned to core 1. Everything targets 127.0.0.1, every loop is
bounded in count and time, and the run stops by itself.
"""

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import report
from loadgen import machine_busy_seconds
from servers import (
    BENCH,
    ROOT,
    NodePeer,
    OurServer,
    SimpleWebSocketServer,
    pinned,
    redis_reachable,
)

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
QUIET_CORES = 0.3  # other programs busier than this disturb the figures
QUIET_WAIT = {"full": 120, "quick": 0}  # seconds to wait for that before each workload
NAMES = ("peer", "ours", "ours-redis", "ours-public", "ours-simple")


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


def wait_for_quiet(limit: float, threshold: float = QUIET_CORES) -> float | None:
    """Wait up to limit seconds for other programs to use under threshold cores.

    Returns the last reading (cores busy over one second), None when not asked to wait.
    """
    if limit <= 0:
        return None
    deadline = time.monotonic() + limit
    while True:
        before = machine_busy_seconds()
        time.sleep(1.0)
        busy = machine_busy_seconds() - before
        if busy < threshold or time.monotonic() >= deadline:
            return round(busy, 2)
        time.sleep(4.0)


class Suite:
    """One run of the suite: its mode, options and where raw results go."""

    def __init__(self, args):
        self.args = args
        self.mode = "quick" if args.quick else "full"
        self.profile = {
            workload: options
            for workload, options in PROFILES[self.mode].items()
            if not args.workloads or workload in args.workloads
        }
        self.raw_dir = BENCH / "results" / time.strftime(f"{self.mode}-%Y%m%d-%H%M%S")
        self.raw_dir.mkdir(parents=True, exist_ok=True)
        self.quiet_wait = args.quiet_wait if args.quiet_wait is not None else QUIET_WAIT[self.mode]

    def run_target(self, name, server, accounts, workloads) -> dict:
        """Every workload against one kind of server, each on a fresh server process.

        Each server must first store a test webhook; one that cannot (a schema behind
        the code, say) fails that workload and the rest are skipped.
        """
        results, broken = {}, None
        for workload in workloads:
            started = time.monotonic()
            if broken:
                results[workload] = {"workload": workload, "error": f"skipped: {broken}"}
                continue
            background = wait_for_quiet(self.quiet_wait)
            try:
                server.start(f"{name}-{workload}")
                broken = server.check_webhook(accounts)
                results[workload] = (
                    {"workload": workload, "error": broken}
                    if broken
                    else self.run_loadgen(name, workload, server, accounts)
                )
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                results[workload] = {"workload": workload, "error": str(exc)[-1500:]}
            finally:
                server.stop()
            results[workload]["background_cores_before"] = background
            error = results[workload].get("error")
            took = f"  {name} {workload}: {time.monotonic() - started:.1f} s"
            print(took + (f" ERROR {error[:200]}" if error else ""), flush=True)
        return results

    def run_loadgen(self, name, workload, server, accounts: Path) -> dict:
        """One load-generator run on core 1 against a started server; its JSON result."""
        out = self.raw_dir / f"{name}-{workload}.json"
        argv = [sys.executable, str(BENCH / "loadgen.py"), workload, "--port", str(server.port)]
        argv += ["--accounts", str(accounts), "--server-pid", str(server.measured_pid)]
        argv += ["--out", str(out), *self.profile[workload].split()]
        done = subprocess.run(
            pinned(1, argv),
            cwd=BENCH,
            capture_output=True,
            text=True,
            timeout=WORKLOAD_TIMEOUT[self.mode],
        )
        if done.returncode:
            return {"workload": workload, "error": f"load generator failed: {done.stderr[-1500:]}"}
        return json.loads(out.read_text())

    def run_peer(self, work: Path, users: int, admins: int) -> dict:
        print("peer (Node socket.io)", flush=True)
        accounts = NodePeer.prepare(work, users, admins)
        return self.run_target("peer", NodePeer(self.raw_dir), accounts, list(self.profile))

    def run_ours(self, work: Path, users: int, admins: int, targets: list[str]) -> dict:
        """ours (SQLite) and/or ours-redis, on one database with its bench users."""
        database_url = f"sqlite:///{work / 'bench.db'}"
        ours = OurServer(self.raw_dir, database_url)
        print(f"ours: creating {users} users and {admins} admins", flush=True)
        try:
            accounts = ours.prepare(work, users, admins)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            return {target: {"setup": {"error": str(exc)[-1500:]}} for target in targets}
        results = {}
        if "ours" in targets:
            print("ours (embedded, SQLite)", flush=True)
            results["ours"] = self.run_target("ours", ours, accounts, list(self.profile))
        if "ours-redis" in targets:
            results["ours-redis"] = self.run_redis(ours, database_url, accounts)
        if "ours-public" in targets:
            print("ours on the public paths (FAST_TRANSPORT=0)", flush=True)
            public = OurServer(self.raw_dir, database_url, extra_env={"FAST_TRANSPORT": "0"})
            public.secrets = ours.secrets  # the tokens were signed with these
            results["ours-public"] = self.run_target(
                "ours-public", public, accounts, list(self.profile)
            )
        if "ours-simple" in targets:
            print("ours with python-engineio's simple-websocket driver (-k gevent)", flush=True)
            simple = SimpleWebSocketServer(self.raw_dir, database_url)
            simple.secrets = ours.secrets
            results["ours-simple"] = self.run_target(
                "ours-simple", simple, accounts, list(self.profile)
            )
        return results

    def run_redis(self, ours: OurServer, database_url: str, accounts: Path) -> dict:
        """Ours with REDIS_URL (the Socket.IO message queue); capacity is not repeated there."""
        if not redis_reachable():
            return {"setup": {"error": "Redis not reachable on 127.0.0.1:6379"}}
        print("ours with REDIS_URL", flush=True)
        redis_url = f"redis://127.0.0.1:6379/{self.args.redis_db}"
        redis_server = OurServer(self.raw_dir, database_url, redis_url)
        redis_server.secrets = ours.secrets  # the tokens were signed with these
        workloads = ["latency"] if self.mode == "quick" else ["latency", "fanout", "ingest"]
        workloads = [workload for workload in workloads if workload in self.profile]
        return self.run_target("ours-redis", redis_server, accounts, workloads)


def stop_on_signals():
    """SIGTERM and SIGINT (also when started in the background) end the run in order:
    the load generator is killed and the server stopped by the finally blocks."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)


def raise_priority(niceness: int) -> int:
    """Run this process and so every server and load generator at this niceness, if allowed.

    On a machine shared with other work (a test suite beside the benchmark), a lower
    niceness keeps the measured processes from waiting behind it. Returns the niceness
    in force.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    except PermissionError:
        pass
    return os.getpriority(os.PRIO_PROCESS, 0)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small numbers, a few minutes")
    parser.add_argument(
        "--out-dir",
        type=Path,
        help="for performance.md/.png (default: docs/, quick: bench/results/quick/)",
    )
    parser.add_argument(
        "--targets", nargs="+", default=list(NAMES), choices=list(NAMES), help="servers to run"
    )
    parser.add_argument(
        "--workloads",
        nargs="+",
        choices=list(PROFILES["full"]),
        help="run only these (default: all); with the full profile, pair with --out-dir",
    )
    parser.add_argument("--redis-db", type=int, default=14, help="Redis database for ours-redis")
    parser.add_argument(
        "--nice", type=int, default=-10, help="niceness of servers and load generator (root only)"
    )
    parser.add_argument(
        "--from-results", type=Path, help="only write the report again from a results.json"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        help="seconds to wait before each workload for other programs to go quiet "
        f"(under {QUIET_CORES} cores; default {QUIET_WAIT['full']} s, quick: none)",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.from_results:
        results = json.loads(args.from_results.read_text())
        out_dir = args.out_dir or (
            ROOT / "docs" if results["mode"] == "full" else args.from_results.parent
        )
        print("wrote {} and {}".format(*report.write(results, out_dir)))
        return
    stop_on_signals()
    niceness = raise_priority(args.nice)
    suite = Suite(args)
    out_dir = args.out_dir or (BENCH / "results" / "quick" if args.quick else ROOT / "docs")
    out_dir.mkdir(parents=True, exist_ok=True)
    users, admins = accounts_needed(suite.profile)
    started = time.monotonic()
    results = {
        "mode": suite.mode,
        "profile": suite.profile,
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": report.machine_facts() | {"niceness": niceness},
        "targets": {},
    }
    with tempfile.TemporaryDirectory(prefix="bench-") as work:
        if "peer" in args.targets:
            results["targets"]["peer"] = suite.run_peer(Path(work), users, admins)
        ours = [t for t in args.targets if t.startswith("ours")]
        if ours:
            results["targets"].update(suite.run_ours(Path(work), users, admins, ours))
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    (suite.raw_dir / "results.json").write_text(json.dumps(results, indent=2))
    markdown, image = report.write(results, out_dir)
    print(f"wrote {markdown} and {image} in {results['elapsed_s']} s", flush=True)
    print(f"raw results: {suite.raw_dir}", flush=True)
    failed = [
        f"{target} {workload}"
        for target, workloads in results["targets"].items()
        for workload, result in workloads.items()
        if "error" in result
    ]
    if failed:
        print(f"failed: {', '.join(failed)}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
