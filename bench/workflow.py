"""Team-workflow benchmarks (issue 15): search p99 over a million messages, and the
time to transfer a conversation of 10,000 messages.

    .venv/bin/python bench/workflow.py search   --database sqlite|postgres [--messages N]
    .venv/bin/python bench/workflow.py transfer --database sqlite|postgres [--messages N]

Each run builds a fresh database with the real migrations (`flask db upgrade`),
loads generated data in bulk (what the write path stores: content, its folded
`search_text`, and on SQLite the FTS5 row), then times the REST calls through the
app's WSGI stack in this process (Flask's test client: JWT, validation, queries,
serialization; no network). Every loop is bounded; results print as JSON.
SQLite files go to a temporary folder; PostgreSQL databases (127.0.0.1:5432, or
BENCH_POSTGRES_URL) are created and dropped.
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.schemas.messages import MessageRead, NewMessage  # noqa: E402
from app.services import auth  # noqa: E402
from app.services.search_text import fold  # noqa: E402
from app.services.users import create_user  # noqa: E402

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BATCH = 20_000
SECRET_KEY = "bench-secret-key-long-enough-for-hs256-signing"
JWT_SECRET_KEY = "bench-jwt-secret-key-long-enough-for-hs256-sign"
# A Turkish shop's vocabulary, with every letter the fold must get right, in several cases.
WORDS = (
    "merhaba sipariş siparişim kargo kargoya teslimat iade fatura ödeme kredi kartı havale "
    "ürün beden renk mavi kırmızı yeşil siyah beyaz numara adres İstanbul İzmir Ankara "
    "Çanakkale Muğla Şişli Üsküdar Beşiktaş Kadıköy ılık ÇAĞRI çağrı şikâyet teşekkürler "
    "lütfen bugün yarın hafta saat gönderildi gecikti ulaşmadı hasarlı değişim indirim "
    "kupon kampanya stok beklemede onaylandı iptal müşteri hizmetleri telefon whatsapp "
    "Güneş Gökhan Öykü Işıl İpek Ümit Çiğdem Şule Ğ ışık IŞIK ıslak İğne"
).split()
# The queries timed: common, rare, prefixes, two words, and Turkish case variants.
QUERIES = [
    "kargo",
    "sipariş",
    "SİPARİŞ",
    "siparis",
    "istanbul",
    "ISTANBUL",
    "ıstanbul",
    "cagri",
    "ÇAĞRI",
    "isik",
    "IŞIK",
    "sule",
    "üsküdar",
    "uskudar iade",
    "kirmizi beden",
    "teslimat gecikti",
    "hasar",
    "kamp",
    "fatura ödeme kredi",
    "zzzyoknothing",
]


def make_app(kind: str, sqlite_path: Path | None = None, migrate: bool = True):
    """(app, cleanup) on a fresh database of that kind, built by the migrations.

    `sqlite_path`: that file instead of one in a temporary folder (bench/data_growth.py
    keeps its generated databases); `migrate=False` opens it as it is.
    """
    if kind == "sqlite":
        if sqlite_path is None:
            sqlite_path = Path(tempfile.mkdtemp(prefix="bench-workflow-")) / "inbox.db"
        url = f"sqlite:///{sqlite_path}"
        cleanup = lambda: None  # noqa: E731 (the temp folder is left for inspection)
    else:
        import psycopg

        name = f"bench_workflow_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        url = "postgresql+psycopg://" + POSTGRES_URL.split("://", 1)[1].rsplit("/", 1)[0]
        url += f"/{name}"

        def cleanup():
            with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": SECRET_KEY,
            "JWT_SECRET_KEY": JWT_SECRET_KEY,
            "REST_RATE_LIMIT": "1000000 per minute",
        }
    )
    if migrate:
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
    return app, cleanup


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14))).capitalize()


def load(
    app,
    owners: list[int],
    conversations: int,
    messages: int,
    seed: int = 15,
    with_events: bool = False,
    unread_share: float = 0.0,
) -> None:
    """Bulk-load `conversations` spread over `owners` and `messages` spread over them.

    What the write path would have stored: each message's folded `search_text` (and
    its FTS5 row on SQLite), each conversation's preview (`last_message`, its time).
    `with_events`: the event log too, two events per message as the app writes them
    (`new_message` when stored, `message_read` when an agent read it), payloads built
    by the same schema models. `unread_share`: the newest inbound messages of that
    share of the load are left unread (and have no `message_read` event).
    """
    rng = random.Random(seed)
    start = datetime(2026, 1, 1)
    unread_from = int(messages * (1 - unread_share)) + 1
    with app.app_context(), db.engine.begin() as connection:
        sqlite = connection.dialect.name == "sqlite"
        connection.execute(
            text(
                "INSERT INTO conversations (id, user_id, customer_phone, customer_name, "
                "created_at, status, labels) VALUES (:id, :user_id, :customer_phone, "
                ":customer_name, :created_at, 'open', '[]')"
            ),
            [
                {
                    "id": n + 1,
                    "user_id": owners[n % len(owners)],
                    "customer_phone": f"+90555{n:07d}",
                    "customer_name": f"Müşteri {n}",
                    "created_at": start,
                }
                for n in range(conversations)
            ],
        )
        if not sqlite:  # built once after the load, as a restore would
            connection.execute(text("DROP INDEX ix_messages_search"))
        for first in range(0, messages, BATCH):
            rows = []
            for seq in range(first + 1, min(messages, first + BATCH) + 1):
                content = sentence(rng)
                conversation = rng.randrange(conversations)
                moment = start + timedelta(seconds=seq * 20)
                direction = "INBOUND" if seq % 3 else "OUTBOUND"
                rows.append(
                    {
                        "seq": seq,
                        "id": f"msg_{seq:032x}",
                        "conversation_id": conversation + 1,
                        "user_id": owners[conversation % len(owners)],
                        "direction": direction,
                        "content": content,
                        "search_text": fold(content),
                        "moment": moment,
                        "is_read": direction == "OUTBOUND" or seq < unread_from,
                    }
                )
            _insert_messages(connection, rows, sqlite)
            if with_events:
                _insert_events(connection, rows)
        # The conversation list's preview, as the write path's upsert leaves it: the
        # newest message's text (first 200 characters) and time.
        connection.execute(
            text(
                "UPDATE conversations SET "
                "last_message = (SELECT substr(m.content, 1, 200) FROM messages m WHERE "
                "m.conversation_id = conversations.id ORDER BY m.seq DESC LIMIT 1), "
                "last_message_at = (SELECT m.timestamp FROM messages m WHERE "
                "m.conversation_id = conversations.id ORDER BY m.seq DESC LIMIT 1)"
            )
        )
        if not sqlite:
            connection.execute(
                text(
                    "CREATE INDEX ix_messages_search ON messages USING gin "
                    "(to_tsvector('simple', coalesce(search_text, '')))"
                )
            )
            connection.execute(
                text("SELECT setval('messages_seq_seq', (SELECT max(seq) FROM messages))")
            )
            connection.execute(
                text("SELECT setval('conversations_id_seq', (SELECT max(id) FROM conversations))")
            )
            if with_events:
                connection.execute(
                    text("SELECT setval('events_id_seq', (SELECT max(id) FROM events))")
                )
    if not sqlite:
        with app.app_context(), db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def _insert_messages(connection, rows: list[dict], sqlite: bool) -> None:
    connection.execute(
        text(
            "INSERT INTO messages (seq, id, conversation_id, user_id, direction, message_type, "
            "content, search_text, timestamp, is_read, created_at) VALUES (:seq, :id, "
            ":conversation_id, :user_id, :direction, 'text', :content, :search_text, "
            ":moment, :is_read, :moment)"
        ),
        rows,
    )
    if sqlite:
        connection.execute(
            text("INSERT INTO messages_fts (rowid, search_text) VALUES (:seq, :search_text)"),
            rows,
        )


def _insert_events(connection, rows: list[dict]) -> None:
    """Events 2*seq-1 (`new_message`) and 2*seq (`message_read`, for a read message)."""
    events = []
    for row in rows:
        stored = NewMessage(
            id=row["id"],
            conversation_id=row["conversation_id"],
            user_id=row["user_id"],
            customer_name=f"Müşteri {row['conversation_id'] - 1}",
            customer_phone=f"+90555{row['conversation_id'] - 1:07d}",
            message_content=row["content"],
            message_type="text",
            direction=row["direction"],
            timestamp=row["moment"],
            is_read=False,
        )
        events.append(_event(2 * row["seq"] - 1, "new_message", row, stored))
        if row["is_read"]:
            read = MessageRead(
                message_id=row["id"],
                conversation_id=row["conversation_id"],
                read_by=row["user_id"],
                read_at=row["moment"] + timedelta(seconds=5),
            )
            events.append(_event(2 * row["seq"], "message_read", row, read))
    connection.execute(
        text(
            "INSERT INTO events (id, name, user_id, conversation_id, payload, created_at) "
            "VALUES (:id, :name, :user_id, :conversation_id, :payload, :created_at)"
        ),
        events,
    )


def _event(event_id: int, name: str, row: dict, payload) -> dict:
    return {
        "id": event_id,
        "name": name,
        "user_id": row["user_id"],
        "conversation_id": row["conversation_id"],
        "payload": payload.model_dump_json(),
        "created_at": row["moment"],
    }


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    at = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)  # noqa: E731
    return {
        "n": len(ordered),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


def make_users(app, agents: int) -> tuple[dict, list]:
    with app.app_context():
        admin = create_user("bench-admin@bench.local", "bench-password", "ADMIN", "Admin")
        users = [
            create_user(f"bench-agent-{n}@bench.local", "bench-password", "USER", f"Agent {n}")
            for n in range(agents)
        ]
        headers = lambda user: {  # noqa: E731
            "Authorization": "Bearer " + auth.issue_tokens(user)["accessToken"]
        }
        return {"admin": headers(admin), "agent": headers(users[0])}, [u.id for u in users] + [
            admin.id
        ]


def bench_search(args) -> dict:
    app, cleanup = make_app(args.database)
    try:
        tokens, owners = make_users(app, 20)
        started = time.perf_counter()
        load(app, owners[:-1], args.messages // 20, args.messages)
        load_seconds = time.perf_counter() - started
        client = app.test_client()
        results = {
            "database": args.database,
            "messages": args.messages,
            "load_seconds": round(load_seconds, 1),
        }
        for role in ("admin", "agent"):
            samples, hits, slowest = [], {}, {}
            for _ in range(args.rounds):
                for query in QUERIES:
                    t0 = time.perf_counter()
                    response = client.get(
                        "/api/search", query_string={"q": query, "limit": 20}, headers=tokens[role]
                    )
                    elapsed = time.perf_counter() - t0
                    samples.append(elapsed)
                    assert response.status_code == 200, response.get_data(as_text=True)
                    hits[query] = len(response.get_json()["results"])
                    slowest[query] = max(slowest.get(query, 0), round(elapsed * 1000, 1))
            results[role] = {
                **percentiles(samples),
                "results_per_query": hits,
                "slowest_ms_per_query": slowest,
            }
        return results
    finally:
        cleanup()


def bench_transfer(args) -> dict:
    app, cleanup = make_app(args.database)
    try:
        tokens, owners = make_users(app, 2)
        load(app, [owners[0]], 1, args.messages)
        client = app.test_client()
        samples = []
        for n in range(args.rounds):
            target = owners[(n + 1) % 2]
            t0 = time.perf_counter()
            response = client.patch(
                "/api/conversations/1", json={"userId": target}, headers=tokens["admin"]
            )
            samples.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.get_data(as_text=True)
        with app.app_context():
            moved = db.session.execute(
                text("SELECT count(*) FROM messages WHERE user_id = :u"), {"u": target}
            ).scalar()
        return {
            "database": args.database,
            "messages_in_conversation": args.messages,
            "messages_moved_last_time": moved,
            **percentiles(samples),
        }
    finally:
        cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", choices=["search", "transfer"])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    if args.workload == "search":
        args.messages = args.messages or 1_000_000
        args.rounds = args.rounds or 10
        print(json.dumps(bench_search(args), ensure_ascii=False, indent=2))
    else:
        args.messages = args.messages or 10_000
        args.rounds = args.rounds or 20
        print(json.dumps(bench_transfer(args), indent=2))


if __name__ == "__main__":
    main()
