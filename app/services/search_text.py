"""Folding text for search, the same way for every database.

The stored `messages.search_text` and every query go through `fold`, so SQLite
FTS5 and PostgreSQL full-text search see the same words and agree on what
matches: lowercase, Turkish letters (ı I i İ ş ğ ç ö ü) and every other accent
reduced to their base letter, anything that is not a letter or digit a space.
Highlights are found in the original text through the same fold.
"""

import html
import re
import unicodedata
from functools import lru_cache

# Turkish case pairs that Unicode lowercasing gets wrong for Turkish (I -> i is
# right in English, ı stays dotless, İ becomes "i" plus a combining dot).
_TURKISH = str.maketrans({"I": "i", "İ": "i", "ı": "i"})
SNIPPET_CHARS = 160
MAX_QUERY_WORDS = 8


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """One character folded: its base letters in lowercase, or a space."""
    decomposed = unicodedata.normalize("NFKD", char.translate(_TURKISH).casefold())
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    if not base:
        return ""  # a combining mark of its own: part of the letter before it
    return "".join(c if c.isalnum() else " " for c in base)


def fold(text: str) -> str:
    """The text as search compares it: words of lowercase base letters, one space apart."""
    return " ".join("".join(_fold_char(c) for c in text).split())


def words(query: str) -> list[str]:
    """The words a query looks for (at most MAX_QUERY_WORDS)."""
    return fold(query).split()[:MAX_QUERY_WORDS]


def _folded_with_positions(text: str) -> tuple[str, list[int]]:
    """The folded text (spaces kept) and, for each of its characters, the original index."""
    folded: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text):
        for piece in _fold_char(char):
            folded.append(piece)
            positions.append(index)
    return "".join(folded), positions


def match_spans(text: str, query_words: list[str]) -> list[tuple[int, int]]:
    """Where words of `text` start with a query word: (start, end) in the original text."""
    if not query_words:
        return []
    folded, positions = _folded_with_positions(text)
    pattern = re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, query_words)) + ")")
    spans = []
    for found in pattern.finditer(folded):
        start, end = positions[found.start()], positions[found.end() - 1] + 1
        if spans and start < spans[-1][1]:
            continue
        spans.append((start, end))
    return spans


def highlight(text: str, query_words: list[str], width: int = SNIPPET_CHARS) -> str:
    """A snippet of `text` around its first match, HTML-escaped, matches in <mark>."""
    spans = match_spans(text, query_words)
    first = spans[0][0] if spans else 0
    start = max(0, min(first - width // 3, len(text) - width))
    end = min(len(text), start + width)
    parts = ["…" if start > 0 else ""]
    cursor = start
    for span_start, span_end in spans:
        if span_start < start or span_end > end:
            continue
        parts.append(html.escape(text[cursor:span_start]))
        parts.append("<mark>" + html.escape(text[span_start:span_end]) + "</mark>")
        cursor = span_end
    parts.append(html.escape(text[cursor:end]))
    parts.append("…" if end < len(text) else "")
    return "".join(parts)
