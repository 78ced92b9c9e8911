"""Data growth (issue 16, item 4): the conversation list, a page of a conversation, a
replay of 1,000 events and search, timed over HTTP and Socket.IO against the
Procfile's server on a SQLite database of 10,000 and of 1,000,000 messages.

    python3 bench/data_growth.py                       # both scales, 3 runs each
    python3 bench/data_growth.py --messages 10000 --runs 1 --samples 100

Sets itself up from nothing, as bench/run.sh does: the project's .venv
(scripts/setup.sh dev: the app plus python-socketio's client), then re-runs
itself with it. Data (bench/workflow.py's generator, shared with the search
bench): N messages over N/10 conversations owned by 20 agents, 2N events (each
message's `new_message` and, when read, its `message_read`), the newest 2 % of
inbound messages unread, conversation previews and the FTS5 index as the write
path leaves them. Each database is cached as bench/data/growth-<N>-<key>.db (git-ignored),
the key naming the set of migrations, and migrated to the current head on reuse.

Each run starts a fresh server (gunicorn as the Procfile runs it, pinned to core 0
like bench/run.py's) on that file and times, as an agent who owns 1/20 of the
conversations and as an admin: GET /api/conversations (the panel's request, and
once the whole unlimited list), GET /api/conversations/<id>/messages,
GET /api/events?after=&limit=1000, a socket reconnect with `lastEventId` until its
1,000 replayed events have arrived, GET /api/search. The figure reported per scale
is the median over runs of each run's p99 (the machine is shared: one run can
catch someone else's test suite). `flask events prune` is timed on a copy of the
database, followed by a reconnect from before the log's start (`resync_required`).
Results: a table on stdout and bench/results/data-growth-<date>.json.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def _bootstrap() -> None:
    """Re-run with the project's .venv, made (with the dev requirements) when missing."""
    if Path(sys.prefix).resolve() == (ROOT / ".venv").resolve():
        return
    subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh"), "dev"], check=True)
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])


if __name__ == "__main__":
    _bootstrap()

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import requests  # noqa: E402
import socketio  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))

import workflow  # noqa: E402  (the shared generator: bench/workflow.py)
from servers import OurServer  # noqa: E402

from app.models import User  # noqa: E402

DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
AGENTS = 20
FAILED_CONNECTS: list[float] = []  # refused reconnects, retried (see socket_replay)
REPLAY = 1000  # events per replay: EVENT_REPLAY_LIMIT, the most one reconnect replays
TARGETS_MS = {"list": 20, "page": 10, "events_rest": 100, "replay_socket": 100, "search": 50}
# Tokens are issued here and checked by the server: both use these secrets.
SECRETS = {"SECRET_KEY": workflow.SECRET_KEY, "JWT_SECRET_KEY": workflow.JWT_SECRET_KEY}


def database(messages: int) -> Path:
    """The cached database of that size, generated on first use, migrated to the head."""
    DATA.mkdir(exist_ok=True)
    # Named after the set of migrations: a revision added (or chained in before the
    # head at a merge, which `upgrade` could not notice) makes a new database.
    revisions = sorted(path.name for path in (ROOT / "migrations" / "versions").glob("*.py"))
    key = hashlib.sha256("\n".join(revisions).encode()).hexdigest()[:8]
    path = DATA / f"growth-{messages}-{key}.db"
    for stale in DATA.glob(f"growth-{messages}-*.db"):
        if stale != path:
            stale.unlink()
    if not path.exists():
        partial = path.with_suffix(".partial")
        for leftover in DATA.glob(partial.name + "*"):
            leftover.unlink()
        started = time.perf_counter()
        app, _ = workflow.make_app("sqlite", partial)
        _, owners = workflow.make_users(app, AGENTS)
        workflow.load(
            app,
            owners[:-1],  # the agents; the admin (last) owns none
            messages // 10,
            messages,
            with_events=True,
            unread_share=0.02,
        )
        with app.app_context():
            workflow.db.engine.dispose()
        partial.rename(path)
        print(f"generated {path.name} in {time.perf_counter() - started:.0f} s", flush=True)
    workflow.make_app("sqlite", path)  # the current migrations (a no-op when up to date)
    return path


def accounts(path: Path) -> dict:
    """Tokens of the admin and the first agent, and the ids the measures need."""
    app, _ = workflow.make_app("sqlite", path, migrate=False)
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = workflow.timedelta(hours=4)
    with app.app_context():
        session = workflow.db.session
        scalar = lambda sql, **bind: session.execute(workflow.text(sql), bind).scalar()  # noqa: E731
        found = {}
        for role, email in (
            ("admin", "bench-admin@bench.local"),
            ("agent", "bench-agent-0@bench.local"),
        ):
            user = User.query.filter_by(email=email).one()
            token = workflow.auth.issue_tokens(user)["accessToken"]
            where = "" if role == "admin" else "WHERE user_id = :user"
            conversations = [
                row[0]
                for row in session.execute(
                    workflow.text(f"SELECT id FROM conversations {where}"), {"user": user.id}
                )
            ]
            # The lastEventId with exactly REPLAY visible events after it (or 0: all
            # of them, when the user sees fewer, as the agent does at 10,000 messages).
            after = (
                scalar(
                    f"SELECT id FROM events {where} ORDER BY id DESC LIMIT 1 OFFSET :n",
                    user=user.id,
                    n=REPLAY,
                )
                or 0
            )
            visible = "WHERE id > :after" + ("" if role == "admin" else " AND user_id = :user")
            expected = scalar(f"SELECT count(*) FROM events {visible}", after=after, user=user.id)
            found[role] = {
                "id": user.id,
                "token": token,
                "conversations": conversations,
                "replay_after": after,
                "replay_events": expected,
            }
        found["counts"] = {
            table: scalar(f"SELECT count(*) FROM {table}")
            for table in ("messages", "conversations", "events")
        }
    return found


def timed_get(session: requests.Session, url: str, params: dict, token: str) -> float:
    t0 = time.perf_counter()
    reply = session.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
    elapsed = time.perf_counter() - t0
    if reply.status_code != 200:
        raise RuntimeError(f"GET {url} {params}: {reply.status_code} {reply.text[:300]}")
    reply.json()
    return elapsed


def socket_replay(base: str, token: str, after: int, expected: int) -> float:
    """Seconds from connect() until the `expected` events after `after` have all arrived."""
    done = threading.Event()
    got = set()
    client = socketio.Client(reconnection=False)

    @client.on("*")
    def any_event(name, data=None):
        if isinstance(data, dict) and data.get("eventId", 0) > after:
            got.add(data["eventId"])
            if len(got) >= expected:
                done.set()
        if name == "resync_required":
            done.set()

    t0 = time.perf_counter()
    try:
        # The server acknowledges the connect after the replay (handlers.py sends it
        # from the connect handler): wait for that as long as the replay takes, not
        # the client's default 1 s.
        client.connect(
            base,
            auth={"token": token, "lastEventId": after},
            transports=["websocket"],
            wait_timeout=30,
        )
    except socketio.exceptions.ConnectionError:
        # Counted and reported, the sample taken again.
        FAILED_CONNECTS.append(time.time())
        time.sleep(0.2)
        return socket_replay(base, token, after, expected)
    finished = done.wait(30)
    elapsed = time.perf_counter() - t0
    client.disconnect()
    if not finished or len(got) < expected:
        raise RuntimeError(f"replay after {after}: {len(got)} of {expected} events")
    return elapsed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """The server worker's CPU time per call: it holds on a busy machine, where the
    wall-clock figures also count the time spent waiting for a core."""

    def __init__(self, pid: int):
        self.pid = pid
        self.per_call = {}

    def __call__(self, figure: str, role: str, calls):
        before = cpu_seconds(self.pid)
        samples = list(calls)
        spent = cpu_seconds(self.pid) - before
        self.per_call.setdefault(figure, {})[role] = [spent / len(samples)]
        return samples


def measure(base: str, ids: dict, samples: int, rng: random.Random, pid: int) -> dict:
    """One run's samples of every figure, per role: {figure: {role: [seconds]}}, and
    under "cpu" the server's CPU seconds per call."""
    http = requests.Session()
    api = base + "/api"
    out = {name: {} for name in ("list", "list_all", "page", "events_rest", "replay_socket")}
    out["search"] = {}
    cpu = CpuMeter(pid)
    for role in ("agent", "admin"):
        me = ids[role]
        token = me["token"]
        out["list"][role] = cpu(
            "list",
            role,
            (timed_get(http, f"{api}/conversations", {"limit": 50}, token) for _ in range(samples)),
        )
        out["list_all"][role] = cpu(
            "list_all", role, (timed_get(http, f"{api}/conversations", {}, token) for _ in range(2))
        )
        out["page"][role] = cpu(
            "page",
            role,
            (
                timed_get(
                    http,
                    f"{api}/conversations/{rng.choice(me['conversations'])}/messages",
                    {},
                    token,
                )
                for _ in range(samples)
            ),
        )
        out["events_rest"][role] = cpu(
            "events_rest",
            role,
            (
                timed_get(
                    http, f"{api}/events", {"after": me["replay_after"], "limit": REPLAY}, token
                )
                for _ in range(samples)
            ),
        )
        out["replay_socket"][role] = cpu(
            "replay_socket",
            role,
            (
                socket_replay(base, token, me["replay_after"], me["replay_events"])
                for _ in range(max(20, samples // 3))
            ),
        )
        out["search"][role] = cpu(
            "search",
            role,
            (
                timed_get(http, f"{api}/search", {"q": query, "limit": 20}, token)
                for _ in range(max(1, samples // len(workflow.QUERIES)))
                for query in workflow.QUERIES
            ),
        )
    out["cpu"] = cpu.per_call
    return out


def serve(path: Path, log_dir: Path) -> OurServer:
    server = OurServer(
        log_dir,
        f"sqlite:///{path}",
        extra_env={"REST_RATE_LIMIT": "1000000 per minute", "LOG_LEVEL": "WARNING"},
    )
    server.secrets = dict(SECRETS)
    server.start(f"growth-{path.stem}")
    return server


def prune(path: Path, ids: dict, log_dir: Path, days: float) -> dict:
    """`flask events prune` timed on a copy, then a reconnect from before the log's start."""
    with tempfile.TemporaryDirectory(prefix="bench-prune-") as folder:
        copy = Path(folder) / path.name
        shutil.copy(path, copy)
        env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
        env |= SECRETS | {"DATABASE_URL": f"sqlite:///{copy}", "FLASK_APP": "wsgi"}
        t0 = time.perf_counter()
        done = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "flask"), "events", "prune", "--older-than", str(days)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        seconds = time.perf_counter() - t0
        server = serve(copy, log_dir)
        try:
            resync = threading.Event()
            client = socketio.Client(reconnection=False)
            client.on("resync_required", lambda data=None: resync.set())
            client.connect(
                f"http://127.0.0.1:{server.port}",
                auth={"token": ids["agent"]["token"], "lastEventId": 1},
                transports=["websocket"],
            )
            got_resync = resync.wait(10)
            client.disconnect()
        finally:
            server.stop()
    return {
        "older_than_days": days,
        "seconds": round(seconds, 1),
        "output": done.stdout.strip(),
        "resync_required_after_prune": got_resync,
    }


def p99(samples: list[float]) -> float:
    return workflow.percentiles(samples)["p99_ms"]


def summarize(runs: list[dict]) -> dict:
    """Per figure and role: each run's p50/p99 and the median over runs."""
    summary = {}
    for figure in runs[0]:
        if figure == "cpu":
            continue
        summary[figure] = {}
        for role in runs[0][figure]:
            per_run = [workflow.percentiles(run[figure][role]) for run in runs]
            cpu = [run["cpu"][figure][role][0] * 1000 for run in runs]
            summary[figure][role] = {
                "runs": per_run,
                "server_cpu_ms_per_call": round(statistics.median(cpu), 2),
                "p50_ms": round(statistics.median(r["p50_ms"] for r in per_run), 2),
                "p99_ms": round(statistics.median(r["p99_ms"] for r in per_run), 2),
                "max_ms": round(statistics.median(r["max_ms"] for r in per_run), 2),
                "n_per_run": per_run[0]["n"],
            }
    return summary


LABELS = {
    "list": "conversation list (limit=50, the panel's page)",
    "list_all": "conversation list, unlimited (no target; 2 calls)",
    "page": "a page of a conversation",
    "events_rest": "GET /api/events, 1,000 events",
    "replay_socket": "socket reconnect, 1,000 events replayed",
    "search": "search",
}


def table(results: dict) -> str:
    lines = [
        "| Figure | Role | Messages | p50 | p99 (median of runs) | server CPU per call "
        "| Target | Met |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for figure, label in LABELS.items():
        for scale in results["scales"]:
            for role, row in scale["summary"][figure].items():
                target = TARGETS_MS.get(figure)
                met = "" if target is None else ("yes" if row["p99_ms"] <= target else "no")
                lines.append(
                    f"| {label} | {role} | {scale['counts']['messages']:,} | "
                    f"{row['p50_ms']:.1f} ms | {row['p99_ms']:.1f} ms | "
                    f"{row['server_cpu_ms_per_call']:.1f} ms | "
                    f"{'' if target is None else f'{target} ms'} | {met} |"
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--messages", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=300, help="per figure, role and run")
    parser.add_argument(
        "--prune-days", type=float, default=200, help="--older-than of the timed prune"
    )
    parser.add_argument("--no-prune", action="store_true")
    args = parser.parse_args()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    log_dir = RESULTS / f"data-growth-{stamp}"
    log_dir.mkdir(parents=True, exist_ok=True)
    results = {"started": stamp, "load_average_before": os.getloadavg(), "scales": []}
    for messages in args.messages:
        path = database(messages)
        ids = accounts(path)
        runs = []
        for run in range(args.runs):
            server = serve(path, log_dir)
            try:
                base = f"http://127.0.0.1:{server.port}"
                load = os.getloadavg()[0]
                runs.append(
                    measure(base, ids, args.samples, random.Random(run), server.measured_pid)
                )
                print(f"{messages:,} messages, run {run + 1}: load {load:.1f}", flush=True)
            finally:
                server.stop()
        scale = {
            "messages": messages,
            "counts": ids["counts"],
            "agent_conversations": len(ids["agent"]["conversations"]),
            "summary": summarize(runs),
            "failed_connects_retried": len(FAILED_CONNECTS),
        }
        FAILED_CONNECTS.clear()
        if not args.no_prune:
            scale["prune"] = prune(path, ids, log_dir, args.prune_days)
            print(f"prune: {scale['prune']}", flush=True)
        results["scales"].append(scale)
    results["load_average_after"] = os.getloadavg()
    out = RESULTS / f"data-growth-{stamp}.json"
    out.write_text(json.dumps(results, indent=2))
    print(table(results))
    print(
        f"load average before {results['load_average_before']}, after "
        f"{results['load_average_after']}; JSON: {out.relative_to(ROOT)}"
    )


if __name__ == "__main__":
    main()
