"""Server CPU per webhook, in-process: N webhooks through the Flask test client.

Usage: .venv/bin/python bench/profile_webhook.py [-n 1000] [--sockets 2] [--profile]

Runs on a throwaway SQLite file (like a served app, not the in-memory test
database), with a few Socket.IO test clients connected so every webhook is
stored, logged and emitted. Reports process CPU time (time.process_time), which
a busy shared machine disturbs far less than wall time.
"""

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app import create_app  # noqa: E402
from app.extensions import db, socketio  # noqa: E402
from app.services import auth as auth_service  # noqa: E402
from app.services.users import create_user  # noqa: E402

SECRET = "bench-webhook-secret"


def build_app(path: str):
    """A testing app on a SQLite file, with its schema."""
    app = create_app(
        {
            "CONFIG": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "N8N_WEBHOOK_SECRET": SECRET,
        }
    )
    with app.app_context():
        db.create_all()
    return app


def connect_sockets(app, user, count: int) -> list:
    """`count` Socket.IO test clients of `user`, so emits have receivers."""
    with app.app_context():
        token = auth_service.issue_tokens(user)["accessToken"]
    return [socketio.test_client(app, auth={"token": token}) for _ in range(count)]


def body(user_id: int, i: int) -> dict:
    return {
        "user_id": user_id,
        "customer_name": f"Customer {i % 50}",
        "customer_phone": f"+1555{i % 50:07d}",
        "message_content": f"hello number {i}",
        "message_id": f"wamid.bench.{i}",
    }


def post_all(client, user_id: int, start: int, count: int) -> None:
    """Post `count` webhooks, failing loudly on any unexpected status."""
    headers = {"X-Webhook-Secret": SECRET}
    for i in range(start, start + count):
        response = client.post("/api/webhooks/n8n/message", json=body(user_id, i), headers=headers)
        if response.status_code != 201:
            raise SystemExit(f"webhook {i}: {response.status_code} {response.get_data(True)}")


def main() -> None:
    """Warm up, then time N webhooks (optionally under cProfile)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--sockets", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(os.path.join(tmp, "bench.db"))
        with app.app_context():
            user = create_user("bench@example.com", "bench-password-1", "USER", "Bench")
            user_id = user.id
        sockets = connect_sockets(app, user, args.sockets)
        client = app.test_client()
        post_all(client, user_id, 0, 100)
        for socket in sockets:
            socket.get_received()
        profiler = cProfile.Profile() if args.profile else None
        started = time.process_time()
        if profiler:
            profiler.enable()
        post_all(client, user_id, 100, args.n)
        if profiler:
            profiler.disable()
        cpu = time.process_time() - started
        delivered = sum(len(s.get_received()) for s in sockets)
        print(
            f"{args.n} webhooks, {delivered} deliveries to {args.sockets} sockets: "
            f"{cpu * 1000 / args.n:.3f} ms CPU per webhook"
        )
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
