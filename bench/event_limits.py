"""CPU per client event of the per-socket limit, for each place its windows could live.

Usage: .venv/bin/python bench/event_limits.py [--sockets 2000] [--rate 2000] [--redis-url URL]

Under gevent, as served: `--sockets` sockets that each sent one event (an idle
panel that once typed), then `--rate` events a second spread over them for a
few seconds. Compares this project's SocketWindows with limits' MemoryStorage
(whose sweeper thread scans every key each 10 ms while anything is hit) and,
with --redis-url, limits' RedisStorage (a round trip per event). Also prints
the memory a socket's window holds once it has sent an event.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import gevent  # noqa: E402
from limits import parse  # noqa: E402
from limits.storage import MemoryStorage, RedisStorage  # noqa: E402
from limits.strategies import MovingWindowRateLimiter  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app.realtime.event_limits import SocketWindows  # noqa: E402

SECONDS = 3.0
ITEM = parse("10/second")


def sids(count: int) -> list[str]:
    return [f"sid-{n:016d}" for n in range(count)]


def cpu_per_event(storage, sockets: list[str], rate: int) -> tuple[float, int]:
    """µs of process CPU per event at `rate` events a second, and how many went through."""
    limiter = MovingWindowRateLimiter(storage)
    for sid in sockets:
        limiter.hit(ITEM, sid, "events")
    gevent.sleep(1.1)  # every window is now old
    started_cpu, started, sent = time.process_time(), time.monotonic(), 0
    while time.monotonic() - started < SECONDS:
        for _ in range(rate // 100):
            limiter.hit(ITEM, sockets[sent % len(sockets)], "events")
            sent += 1
        gevent.sleep(0.01)
    return (time.process_time() - started_cpu) * 1e6 / sent, sent


def bytes_per_socket(sockets: list[str]) -> float:
    """Memory one socket's window takes once it has sent an event (SocketWindows)."""
    storage = SocketWindows()
    limiter = MovingWindowRateLimiter(storage)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for sid in sockets:
        limiter.hit(ITEM, sid, "events")
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    return grown / len(sockets)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--redis-url")
    args = parser.parse_args()
    sockets = sids(args.sockets)
    storages = {"SocketWindows (this project)": SocketWindows}
    storages["limits MemoryStorage"] = MemoryStorage
    if args.redis_url:
        storages["limits RedisStorage"] = lambda: RedisStorage(args.redis_url)
    print(f"{args.sockets} sockets, {args.rate} events/s wanted, {SECONDS:.0f} s each")
    for name, make_storage in storages.items():
        cpu, sent = cpu_per_event(make_storage(), sockets, args.rate)
        print(f"  {name:30} {cpu:8.1f} µs CPU per event ({sent / SECONDS:6.0f} events/s done)")
    print(f"  a socket's window after one event: {bytes_per_socket(sockets):.0f} bytes")


if __name__ == "__main__":
    main()
