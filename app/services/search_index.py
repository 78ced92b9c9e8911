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


def _postgres(connection, words, owner_id, limit) -> list[int]:
    """The matches through the GIN index, then the newest of them.

    Materialized on purpose: left to itself, the planner may walk the primary key
    backwards and run to_tsvector() on every row until `limit` match, which for
    a rare or absent word means parsing the whole table (seconds at a million
    messages); the index's bitmap costs what the matches cost.
    """
    query = " & ".join(f"{word}:*" for word in words)
    owner = "AND user_id = :owner" if owner_id is not None else ""
    statement = text(
        "WITH hits AS MATERIALIZED (SELECT seq FROM messages "
        "WHERE to_tsvector('simple', coalesce(search_text, '')) "
        f"@@ to_tsquery('simple', :query) {owner}) "
        "SELECT seq FROM hits ORDER BY seq DESC LIMIT :limit"
    )
    rows = connection.execute(statement, {"query": query, "owner": owner_id, "limit": limit})
    return [seq for (seq,) in rows]
