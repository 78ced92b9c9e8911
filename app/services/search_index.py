"""The full-text index of messages on each database, and the query that uses it.

SQLite: an FTS5 table (`messages_fts`, contentless, rowid = messages.seq) that
the message write path fills in the same transaction. PostgreSQL: a GIN index
over `to_tsvector('simple', search_text)` (declared on the Message model), kept
by PostgreSQL itself. Both
index `messages.search_text`, the content folded by app/services/search_text.py,
so both engines match the same words. The DDL is created with the tables
(`db.create_all()` in tests) and by the migration.
"""

from functools import cache

from sqlalchemy import DDL, event, text

from app.models import Message

SQLITE_FTS_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5("
    "search_text, content='', tokenize='unicode61 remove_diacritics 2')"
)

event.listen(Message.__table__, "after_create", DDL(SQLITE_FTS_TABLE).execute_if(dialect="sqlite"))
event.listen(
    Message.__table__,
    "before_drop",
    DDL("DROP TABLE IF EXISTS messages_fts").execute_if(dialect="sqlite"),
)


@cache
def _fts_insert():
    return text("INSERT INTO messages_fts (rowid, search_text) VALUES (:seq, :search_text)")


def add(connection, seq: int, search_text: str) -> None:
    """Index a new message in its own transaction (SQLite; PostgreSQL indexes by itself)."""
    if connection.dialect.name == "sqlite":
        connection.execute(_fts_insert(), {"seq": seq, "search_text": search_text})


def matching_seqs(connection, words: list[str], owner_id: int | None, limit: int) -> list[int]:
    """The seqs of the newest messages with a word starting with each of `words`.

    `owner_id`: only that owner's messages (None: everyone's, for admins).
    """
    if connection.dialect.name == "postgresql":
        return _postgres(connection, words, owner_id, limit)
    return _sqlite(connection, words, owner_id, limit)


def _sqlite(connection, words, owner_id, limit) -> list[int]:
    match = " ".join(f'"{word}"*' for word in words)
    owner = "AND m.user_id = :owner" if owner_id is not None else ""
    statement = text(
        "SELECT m.seq FROM messages_fts f JOIN messages m ON m.seq = f.rowid "
        f"WHERE messages_fts MATCH :match {owner} ORDER BY f.rowid DESC LIMIT :limit"
    )
    rows = connection.execute(statement, {"match": match, "owner": owner_id, "limit": limit})
    return [seq for (seq,) in rows]


# How many of the newest messages PostgreSQL searches first, row by row.
RECENT_WINDOW = 5000


def _postgres(connection, words, owner_id, limit) -> list[int]:
    """The newest matches: among the latest messages first, else through the GIN index.

    A common word is found among the newest few thousand messages, checked row by
    row at once. Anything rarer is collected through the GIN index (materialized
    on purpose: left to itself, the planner may walk the primary key backwards and
    run to_tsvector() on every row until `limit` match, which for a rare or absent
    word means parsing the whole table, seconds at a million messages), and the
    newest of the matches taken; that costs what the matches cost.
    """
    params = {"query": " & ".join(f"{word}:*" for word in words), "owner": owner_id}
    params.update(limit=limit, window=RECENT_WINDOW)
    found = [seq for (seq,) in connection.execute(_recent(owner_id is not None), params)]
    if len(found) >= limit:
        return found
    return [seq for (seq,) in connection.execute(_indexed(owner_id is not None), params)]


_MATCHES = "to_tsvector('simple', coalesce(search_text, '')) @@ to_tsquery('simple', :query)"


@cache
def _recent(by_owner: bool):
    owner = "WHERE user_id = :owner" if by_owner else ""
    return text(
        f"SELECT seq FROM (SELECT seq, search_text FROM messages {owner} "
        f"ORDER BY seq DESC LIMIT :window) AS recent WHERE {_MATCHES} "
        "ORDER BY seq DESC LIMIT :limit"
    )


@cache
def _indexed(by_owner: bool):
    owner = "AND user_id = :owner" if by_owner else ""
    return text(
        f"WITH hits AS MATERIALIZED (SELECT seq FROM messages WHERE {_MATCHES} {owner}) "
        "SELECT seq FROM hits ORDER BY seq DESC LIMIT :limit"
    )
