"""How long call signalling takes through the server: invite to ring, and one call_signal
(an SDP-sized payload) from the caller's socket to the callee's, in one process and across
two processes on Redis.

    .venv/bin/python -m bench.call_signalling [--signals 300] [--redis-url redis://127.0.0.1:6379/13]

Starts its own gunicorn servers (tests/live_server.py) and prints the percentiles.
"""

import argparse
import statistics
import threading
import time
import uuid

from tests.clients import PyClient
from tests.live_server import LiveServer

SDP_BYTES = 4000  # a browser's offer with audio and video is about 3-6 KB


class Timed(PyClient):
    """A client that notes when each call_signal arrives, by its sequence number."""

    def __init__(self, url, token):
        self.arrived: dict[int, float] = {}
        self.got = threading.Event()
        super().__init__(url, token)
        self.sio.on("call_signal", self._signal)

    def _signal(self, data):
        self.arrived[data["data"]["n"]] = time.perf_counter()
        self.got.set()


def account(server, role="USER"):
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    user_id = server.create_user(email, role=role)
    return user_id, server.login(email)["accessToken"]


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    cut = statistics.quantiles(ms, n=100)
    return f"p50 {cut[49]:.2f} ms, p99 {cut[98]:.2f} ms, max {ms[-1]:.2f} ms (n={len(ms)})"


def measure(caller_server, callee_server, signals: int) -> None:
    """An admin on caller_server calls a user on callee_server; print the timings."""
    user_id, user_token = account(caller_server)
    _, admin_token = account(caller_server, "ADMIN")
    user = Timed(callee_server.url, user_token)
    admin = Timed(caller_server.url, admin_token)
    try:
        rings = [ring_time(admin, user, user_id, n) for n in range(5)]  # 10 invites a minute
        call_id = admin.call("call_invite", {"toUserId": user_id, "kind": "video"})["callId"]
        user.wait_for("call_incoming", len(rings) + 1)
        assert user.call("call_accept", {"callId": call_id}) == {"ok": True}
        relay = [relay_time(admin, user, call_id, n) for n in range(signals)]
        ms = sorted(r * 1000 for r in rings)
        print(f"  invite -> call_incoming: median {statistics.median(ms):.2f} ms (n={len(ms)})")
        print(f"  call_signal relayed ({SDP_BYTES} B): {percentiles(relay)}")
    finally:
        admin.close()
        user.close()


def ring_time(admin, user, user_id: int, rung: int) -> float:
    started = time.perf_counter()
    call_id = admin.call("call_invite", {"toUserId": user_id, "kind": "video"})["callId"]
    user.wait_for("call_incoming", rung + 1)
    elapsed = time.perf_counter() - started
    admin.call("call_end", {"callId": call_id})
    return elapsed


def relay_time(admin, user, call_id: str, n: int) -> float:
    user.got.clear()
    sent = time.perf_counter()
    admin.sio.emit("call_signal", {"callId": call_id, "data": {"n": n, "sdp": "a" * SDP_BYTES}})
    if not user.got.wait(5):
        raise RuntimeError(f"signal {n} not relayed")
    time.sleep(0.03)  # about 30 a second, under the 50/s limit
    return user.arrived[n] - sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=300)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()

    single = LiveServer().start()
    try:
        print("one process, no Redis:")
        measure(single, single, args.signals)
    finally:
        single.close()
    env = {"REDIS_URL": args.redis_url}
    first = LiveServer(env=env).start()
    second = LiveServer(env=env, database_url=first.database_url).start()
    try:
        print("caller on one process, callee on another, through Redis:")
        measure(first, second, args.signals)
    finally:
        second.close()
        first.close()


if __name__ == "__main__":
    main()
