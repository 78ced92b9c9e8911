"""The load generator of issue 7: one workload per run, its figures written as JSON.

    python bench/loadgen.py WORKLOAD --port P --accounts FILE --server-pid PID --out FILE [options]

WORKLOAD is capacity, latency, fanout or ingest (see bench/README.md). The server
is any process speaking our contract on 127.0.0.1 (ours or the Node peer); the
accounts file gives the webhook secret and the users' ids, roles and tokens:
{"secret": "...", "accounts": [{"id": 1, "role": "ADMIN", "token": "..."}, ...]}.
All times come from one clock, this process's time.perf_counter().
"""

import argparse
import asyncio
import json
import math
import os
import resource
import secrets
import sys
import time
from collections import Counter, defaultdict
from itertools import cycle

from clients import Poster, marker, open_socket, parse_marker

HOST = "127.0.0.1"  # the only target: a load test never leaves this machine
WEBHOOK_PATH = "/api/webhooks/n8n/message"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ServerProcess:
    """Memory and CPU time of the measured server process, read from /proc."""

    def __init__(self, pid: int):
        self.pid = pid

    def rss_kb(self) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        """CPU time of the whole process (all its threads), in nanosecond steps.

        /proc/<pid>/stat counts in 10 ms ticks, too coarse for a fan-out lasting
        0.1 s; each thread's schedstat holds its time on a CPU in nanoseconds.
        """
        total = 0
        for task in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{task}/schedstat") as schedstat:
                    total += int(schedstat.read().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                continue  # a thread that just ended
        return total / 1e9 if total else self._ticks_seconds()

    def _ticks_seconds(self) -> float:
        """User plus system time from /proc/<pid>/stat, where schedstat is missing."""
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Target:
    """The server under load: where it is, its accounts, and how to post a webhook to it."""

    def __init__(self, port: int, accounts_file: str, max_connections: int = 256):
        with open(accounts_file) as handle:
            spec = json.load(handle)
        self.port = port
        self.secret = spec["secret"]
        self.accounts = spec["accounts"]
        self.poster = Poster(HOST, port, max_connections)
        self.run_id = secrets.token_hex(4)
        self.headers = {"Content-Type": "application/json", "X-Webhook-Secret": self.secret}

    def accounts_of(self, role: str) -> list[dict]:
        return [account for account in self.accounts if account["role"] == role]

    def post_webhook(self, user_id: int, seq: int, callback) -> float:
        """Post one inbound message with its seq and post time in the content; returns that time."""
        posted = time.perf_counter()
        body = {
            "user_id": user_id,
            "customer_name": "Bench Customer",
            "customer_phone": f"+1555{user_id:07d}",
            "message_content": marker(seq, posted),
            "message_id": f"bench-{self.run_id}-{seq}",
        }
        self.poster.post(WEBHOOK_PATH, json.dumps(body).encode(), self.headers, callback, posted)
        return posted


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def summary_ms(values: list[float]) -> dict:
    """p50, p99 and max in milliseconds."""
    return {
        "p50_ms": ms(percentile(values, 0.50)),
        "p99_ms": ms(percentile(values, 0.99)),
        "max_ms": ms(max(values) if values else None),
        "count": len(values),
    }


def socket_plan(accounts: list[dict], count: int, per_account: int) -> list[dict]:
    """Which account each of count sockets logs in as, at most per_account sockets each."""
    needed = math.ceil(count / per_account)
    if needed > len(accounts):
        raise SystemExit(f"need {needed} accounts for {count} sockets, have {len(accounts)}")
    return [accounts[index // per_account] for index in range(count)]


async def connect_all(target, plan, concurrency, timeout, on_message=None):
    """Open one socket per plan entry, at most concurrency at a time.

    Returns (clients, connect times in seconds, failure reasons).
    """
    gate = asyncio.Semaphore(concurrency)
    clients, times, failures = [], [], Counter()

    async def one(account):
        async with gate:
            try:
                client, took = await open_socket(
                    HOST, target.port, account["token"], on_message, timeout=timeout
                )
            except (TimeoutError, OSError, ConnectionError) as exc:
                failures[type(exc).__name__ + ": " + str(exc)[:80]] += 1
                return
            clients.append(client)
            times.append(took)

    await asyncio.gather(*(one(account) for account in plan))
    return clients, times, failures


def machine_busy_seconds() -> float:
    """CPU-seconds all cores have spent busy since boot (/proc/stat, idle and iowait excluded)."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLOCK_TICKS


class CpuMeter:
    """CPU used over a stretch of wall time: by the server, by this process, and by the rest.

    The rest ("other_cpu_cores") is the machine's busy time less the server's and
    ours: other programs on the machine (say, a test suite run meanwhile) that took
    cores from the two being measured.
    """

    def __init__(self, server: ServerProcess):
        self.server = server
        self.server_cpu = server.cpu_seconds()
        self.own_cpu = time.process_time()
        self.busy = machine_busy_seconds()
        self.wall = time.perf_counter()

    def read(self) -> dict:
        wall = time.perf_counter() - self.wall
        server = self.server.cpu_seconds() - self.server_cpu
        own = time.process_time() - self.own_cpu
        other = machine_busy_seconds() - self.busy - server - own
        return {
            "wall_s": round(wall, 3),
            "server_cpu_s": round(server, 4),
            "loadgen_cpu_share": round(own / wall, 3) if wall else None,
            "other_cpu_cores": round(max(0.0, other) / wall, 2) if wall > 0.5 else None,
        }


async def fire_at_rate(rate: float, duration: float, send_one) -> dict:
    """Call send_one(i) rate times a second for duration seconds, never waiting for replies.

    Returns how far behind schedule the sender fell at worst (a loaded generator
    shows up here instead of being hidden).
    """
    total = max(1, int(rate * duration))
    start = time.perf_counter()
    sent, worst_lag = 0, 0.0
    while sent < total:
        now = time.perf_counter()
        due = min(total, int((now - start) * rate) + 1)
        while sent < due:
            worst_lag = max(worst_lag, time.perf_counter() - (start + sent / rate))
            send_one(sent)
            sent += 1
        await asyncio.sleep(max(0.0, start + sent / rate - time.perf_counter()))
    return {"sent": sent, "worst_schedule_lag_ms": ms(worst_lag)}


async def wait_until(condition, timeout: float, step: float = 0.01) -> bool:
    """Poll condition() until it holds or timeout seconds have passed."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() >= deadline:
            return False
        await asyncio.sleep(step)
    return True


def close_all(clients):
    for client in clients:
        client.close()


async def capacity(args, target: Target, server: ServerProcess) -> dict:
    """Open sockets in batches until the cap, failed or slow connects; RSS per idle socket.

    After each batch, args.probes new sockets connect one at a time: their connect
    time is what one more client would wait with that many sockets held (the batch's
    own times also include queueing behind the other connects in flight).
    """
    plan = socket_plan(target.accounts_of("USER"), args.cap, args.per_account)
    probe_accounts = cycle(target.accounts_of("ADMIN"))
    meter = CpuMeter(server)
    clients, batches, points = [], [], [{"sockets": 0, "rss_kb": server.rss_kb()}]
    stop_reason, deadline = "cap reached", time.perf_counter() + args.time_limit
    for first in range(0, args.cap, args.batch):
        batch_plan = plan[first : first + args.batch]
        opened, times, failures = await connect_all(
            target, batch_plan, args.concurrency, args.connect_timeout
        )
        clients += opened
        await asyncio.sleep(args.settle)
        probe = await probe_connects(
            target, next(probe_accounts), args.probes, args.connect_timeout
        )
        held = sum(not c.closed for c in clients)
        points.append({"sockets": held, "rss_kb": server.rss_kb(), "probe": probe})
        batches.append({"failed": sum(failures.values()), "failures": dict(failures)})
        batches[-1].update(summary_ms(times))
        stop_reason = capacity_stop(args, batches[-1], probe, len(batch_plan), deadline)
        if stop_reason:
            break
    held_before = sum(not c.closed for c in clients)
    await asyncio.sleep(args.hold)
    held_after = sum(not c.closed for c in clients)
    close_all(clients)
    return {
        "max_sockets": held_after,
        "held_before_hold": held_before,
        "hold_s": args.hold,
        "stop_reason": stop_reason or "cap reached",
        "rss_per_socket_kb": rss_slope(points),
        "last_probe": points[-1].get("probe"),
        **meter.read(),
        "points": points,
        "batches": batches,
    }


def capacity_stop(args, batch: dict, probe: dict, planned: int, deadline: float) -> str | None:
    """Why the capacity run stops after this batch, or None to go on."""
    if batch["failed"] > planned * 0.01:
        return f"connects failed ({batch['failed']} of {planned} in the last batch)"
    if probe["failed"]:
        return f"a new connect failed ({probe['failed']} of {args.probes} probes)"
    if probe["p50_ms"] is not None and probe["p50_ms"] > args.slow_ms:
        return f"new connects slow (probe p50 {probe['p50_ms']:.0f} ms > {args.slow_ms:g} ms)"
    if time.perf_counter() > deadline:
        return "time limit"
    return None


async def probe_connects(target: Target, account: dict, count: int, timeout: float) -> dict:
    """Connect count sockets one after another, then close them: p50/p99/max connect time."""
    times, failed, opened = [], 0, []
    for _ in range(count):
        try:
            client, took = await open_socket(HOST, target.port, account["token"], timeout=timeout)
        except (TimeoutError, OSError, ConnectionError):
            failed += 1
            continue
        opened.append(client)
        times.append(took)
    close_all(opened)
    return summary_ms(times) | {"failed": failed}


def rss_slope(points: list[dict]) -> float | None:
    """Least-squares slope of RSS (KB) over sockets, on the points from 1,000 sockets up."""
    chosen = [p for p in points if p["sockets"] >= 1000]
    if len(chosen) < 2:
        chosen = [p for p in points if p["sockets"] > 0]
    if len(chosen) < 2:
        return None
    xs = [p["sockets"] for p in chosen]
    ys = [p["rss_kb"] for p in chosen]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if not spread:
        return None
    return round(sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=False)) / spread, 3)


class Deliveries:
    """What the sockets received: per message seq, count, latencies and last arrival."""

    def __init__(self):
        self.count = Counter()
        self.last = {}
        self.latencies = defaultdict(list)  # step name -> [seconds]
        self.step_of = {}  # seq -> step name

    def on_message(self, payload: bytes, now: float):
        found = parse_marker(payload)
        if found is None:
            return
        seq, posted = found
        self.count[seq] += 1
        self.last[seq] = now
        step = self.step_of.get(seq)
        if step is not None:
            self.latencies[step].append(now - posted)


class Responses:
    """HTTP outcomes of webhook posts: statuses, response times, errors."""

    def __init__(self):
        self.statuses = Counter()
        self.times = []
        self.stored = set()
        self.last_refusal = None

    def callback_for(self, seq: int):
        def done(status, body, posted, finished, error):
            self.statuses[str(status) if error is None else "error"] += 1
            if error is None:
                self.times.append(finished - posted)
            if status == 201:
                self.stored.add(seq)
            elif error is None:
                self.last_refusal = body[:300].decode(errors="replace")

        return done

    def answered(self) -> int:
        return sum(self.statuses.values())

    def outcome(self) -> dict:
        """HTTP statuses so far, and the body of the last refusal (to say why)."""
        return {"statuses": dict(self.statuses), "last_refusal": self.last_refusal}


async def latency(args, target: Target, server: ServerProcess) -> dict:
    """Webhook -> client latency at fixed arrival rates with agents sockets connected."""
    users = target.accounts_of("USER")
    admins = target.accounts_of("ADMIN")
    user_plan = socket_plan(users, args.agents - args.admin_sockets, args.per_account)
    plan = user_plan + socket_plan(admins, args.admin_sockets, args.per_account)
    deliveries = Deliveries()
    clients, times, failures = await connect_all(
        target, plan, args.concurrency, args.connect_timeout, deliveries.on_message
    )
    if failures:
        close_all(clients)
        return {
            "error": f"{sum(failures.values())} of {len(plan)} sockets failed",
            "failures": dict(failures),
        }
    per_user = Counter(account["id"] for account in user_plan)
    owners = cycle(sorted(per_user))
    steps = []
    for rate in args.rates:
        steps.append(await latency_step(args, target, server, deliveries, per_user, owners, rate))
        if "201" not in steps[-1]["statuses"]:
            break  # nothing was stored: higher rates would say nothing more
        await asyncio.sleep(args.pause)
    close_all(clients)
    return {
        "agents": len(plan),
        "admin_sockets": args.admin_sockets,
        "connect": summary_ms(times),
        "steps": steps,
    }


async def latency_step(args, target, server, deliveries, per_user, owners, rate) -> dict:
    """One arrival rate: fire for args.duration seconds, drain, summarize."""
    step, responses, expected = f"{rate}/s", Responses(), {}
    base = len(deliveries.step_of)
    meter = CpuMeter(server)

    def send_one(index):
        seq, owner = base + index, next(owners)
        deliveries.step_of[seq] = step
        expected[seq] = per_user[owner] + args.admin_sockets
        target.post_webhook(owner, seq, responses.callback_for(seq))

    pacing = await fire_at_rate(rate, args.duration, send_one)
    want = sum(expected.values())
    await wait_until(
        lambda: (
            sum(deliveries.count[s] for s in expected) >= want
            and responses.answered() >= len(expected)
        ),
        args.drain,
    )
    got = sum(min(deliveries.count[s], expected[s]) for s in expected)
    return {
        "rate": rate,
        "webhooks": len(expected),
        "expected_deliveries": want,
        "missing_deliveries": want - got,
        "duplicate_deliveries": sum(max(0, deliveries.count[s] - expected[s]) for s in expected),
        "latency": summary_ms(deliveries.latencies[step]),
        "response": summary_ms(responses.times),
        "statuses": dict(responses.statuses),
        **pacing,
        **meter.read(),
    }


async def fanout(args, target: Target, server: ServerProcess) -> dict:
    """One event to an admin room of args.sockets sockets: deliveries per second and CPU cost."""
    plan = socket_plan(target.accounts_of("ADMIN"), args.sockets, args.per_account)
    owner = target.accounts_of("USER")[0]["id"]
    deliveries = Deliveries()
    clients, times, failures = await connect_all(
        target, plan, args.concurrency, args.connect_timeout, deliveries.on_message
    )
    if failures:
        close_all(clients)
        return {
            "error": f"{sum(failures.values())} of {len(plan)} sockets failed",
            "failures": dict(failures),
        }
    n, seq = len(clients), 0
    responses, whole = Responses(), CpuMeter(server)

    async def post_and_wait(seqs):
        posted = [target.post_webhook(owner, s, responses.callback_for(s)) for s in seqs]
        complete = await wait_until(
            lambda: all(deliveries.count[s] >= n for s in seqs), args.event_timeout, 0.001
        )
        return posted[0], complete

    _, complete = await post_and_wait([seq])  # warm-up: first-use costs are not fan-out
    if not complete:
        close_all(clients)
        reached = deliveries.count[seq]
        return {"error": f"warm-up event reached {reached} of {n} sockets", **responses.outcome()}
    seq += 1
    single, meter = [], CpuMeter(server)
    for _ in range(args.events):
        posted, complete = await post_and_wait([seq])
        seq += 1
        if not complete:
            break  # a server that lost an event is not timed any further
        single.append(deliveries.last[seq - 1] - posted)
    single_cost = meter.read()
    burst_seqs = list(range(seq, seq + args.burst))
    meter = CpuMeter(server)
    first_posted, burst_complete = await post_and_wait(burst_seqs)
    burst_cost = meter.read()
    burst_span = max(deliveries.last.get(s, first_posted) for s in burst_seqs) - first_posted
    close_all(clients)
    single_deliveries = n * len(single)
    burst_deliveries = sum(min(deliveries.count[s], n) for s in burst_seqs)
    return {
        "sockets": n,
        "connect": summary_ms(times),
        "events": args.events,
        "complete_events": len(single),
        "event_to_last_socket": summary_ms(single),
        "deliveries_per_s": round(single_deliveries / sum(single), 1) if single else None,
        "cpu_s_per_1000": per_thousand(single_cost["server_cpu_s"], single_deliveries),
        "single_phase": single_cost,
        "burst_events": args.burst,
        "burst_complete": burst_complete,
        "burst_deliveries_per_s": round(burst_deliveries / burst_span, 1)
        if burst_span > 0
        else None,
        "burst_cpu_s_per_1000": per_thousand(burst_cost["server_cpu_s"], burst_deliveries),
        "burst_phase": burst_cost,
        "statuses": dict(responses.statuses),
        "other_cpu_cores": whole.read()["other_cpu_cores"],
    }


def per_thousand(cpu_seconds: float, count: int) -> float | None:
    return round(cpu_seconds / count * 1000, 5) if count else None


async def ingest(args, target: Target, server: ServerProcess) -> dict:
    """Webhooks at rising rates: the highest rate whose p99 response time stays under the limit."""
    admins = target.accounts_of("ADMIN")
    owners = cycle([account["id"] for account in target.accounts_of("USER")[: args.owners]])
    deliveries = Deliveries()
    clients, _, failures = await connect_all(
        target, socket_plan(admins, 1, 1), 1, args.connect_timeout, deliveries.on_message
    )
    if failures:
        return {"error": "the counting admin socket failed", "failures": dict(failures)}
    steps, best, seq = [], None, 0
    for rate in args.rates:
        for attempt in range(
            1 + args.retries
        ):  # one stall of the machine should not end the ladder
            step = await ingest_step(args, target, server, deliveries, owners, rate, seq)
            step["attempt"] = attempt + 1
            seq += step["sent"]
            steps.append(step)
            if step["ok"]:
                break
            await asyncio.sleep(args.pause)
        if not step["ok"]:
            break
        best = step
        await asyncio.sleep(args.pause)
    close_all(clients)
    return {
        "p99_limit_ms": args.p99_ms,
        "best_rate": best["rate"] if best else None,
        "best_stored_per_s": best["stored_per_s"] if best else None,
        "best_cpu_s_per_1000": best["cpu_s_per_1000"] if best else None,
        "steps": steps,
    }


async def ingest_step(args, target, server, deliveries, owners, rate, base) -> dict:
    """One rate: post for args.duration seconds, drain, and judge p99 and completeness."""
    responses, seqs = Responses(), []
    meter = CpuMeter(server)

    def send_one(index):
        seqs.append(base + index)
        target.post_webhook(next(owners), base + index, responses.callback_for(base + index))

    pacing = await fire_at_rate(rate, args.duration, send_one)
    sent_for = time.perf_counter() - meter.wall
    await wait_until(
        lambda: (
            responses.answered() >= len(seqs) and all(deliveries.count[s] for s in responses.stored)
        ),
        args.drain,
    )
    cost = meter.read()
    unanswered = len(seqs) - responses.answered()
    times = responses.times + [math.inf] * (len(seqs) - len(responses.times))
    p99 = percentile(times, 0.99)
    emitted = sum(1 for s in responses.stored if deliveries.count[s])
    ok = (
        p99 is not None
        and p99 * 1000 < args.p99_ms
        and len(responses.stored) == len(seqs) == emitted
    )
    return {
        "rate": rate,
        "ok": ok,
        "response": summary_ms(responses.times) | {"p99_ms": None if p99 == math.inf else ms(p99)},
        "unanswered": unanswered,
        "statuses": dict(responses.statuses),
        "stored": len(responses.stored),
        "emitted": emitted,
        "stored_per_s": round(len(responses.stored) / sent_for, 1),
        "cpu_s_per_1000": per_thousand(cost["server_cpu_s"], len(responses.stored)),
        **pacing,
        **cost,
    }


WORKLOADS = {"capacity": capacity, "latency": latency, "fanout": fanout, "ingest": ingest}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--accounts", required=True)
    parser.add_argument(
        "--server-pid", type=int, required=True, help="the process holding the sockets"
    )
    parser.add_argument("--out", help="write the JSON result here (default: stdout)")
    parser.add_argument(
        "--per-account", type=int, default=20, help="sockets per user (the server allows 20)"
    )
    parser.add_argument("--concurrency", type=int, default=100, help="connects in flight at once")
    parser.add_argument("--connect-timeout", type=float, default=10.0)
    # capacity
    parser.add_argument("--cap", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--settle", type=float, default=1.0, help="seconds before reading RSS")
    parser.add_argument(
        "--slow-ms", type=float, default=1000.0, help="a probe p50 above this stops it"
    )
    parser.add_argument("--probes", type=int, default=10, help="lone connects timed after a batch")
    parser.add_argument(
        "--hold", type=float, default=30.0, help="seconds to hold the sockets at the end"
    )
    parser.add_argument("--time-limit", type=float, default=300.0)
    # latency
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--admin-sockets", type=int, default=20)
    parser.add_argument("--rates", type=float, nargs="+", default=[100, 200, 500])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per rate")
    parser.add_argument("--drain", type=float, default=5.0, help="seconds to wait for stragglers")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between rates")
    # fan-out
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--event-timeout", type=float, default=10.0)
    # ingest
    parser.add_argument("--p99-ms", type=float, default=50.0)
    parser.add_argument("--owners", type=int, default=10, help="users the webhooks cycle through")
    parser.add_argument("--retries", type=int, default=1, help="tries more for a rate that missed")
    return parser.parse_args(argv)


def raise_open_files_limit():
    """Up to the hard limit: 10,000 sockets need more than the usual 1,024 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv=None):
    args = parse_args(argv)
    raise_open_files_limit()
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    target = Target(args.port, args.accounts)
    server = ServerProcess(args.server_pid)
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        result = runner.run(WORKLOADS[args.workload](args, target, server))
    result = {"workload": args.workload, **result}
    text = json.dumps(result, indent=2)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
