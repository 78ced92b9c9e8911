"""Where the login page may send a user afterwards: a page of the panel, nothing else.

`/login?next=...` comes from anyone's link. Browsers read `/\\evil.example/`,
`/\\t/evil` and `/\\n/evil` as links to another site, so a check for "starts with
one slash" is not enough: only the panel's own pages pass, with their query.
"""

from urllib.parse import urlsplit, urlunsplit

PANEL_PAGES = ("/client", "/admin")


def safe_next_page(raw: str | None) -> str | None:
    """`raw` as a path of a panel page (with its query), or None when it is anything else."""
    if not raw or not raw.isprintable() or "\\" in raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or parts.path not in PANEL_PAGES:
        return None
    return urlunsplit(("", "", parts.path, parts.query, ""))
