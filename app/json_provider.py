"""Flask's JSON provider, refusing as invalid JSON what Python or the database cannot take."""

import json

from flask.json.provider import DefaultJSONProvider


class StrictJSONProvider(DefaultJSONProvider):
    """Request bodies nested past Python's recursion limit, or holding a lone surrogate
    (a "\\ud800" escape no database driver can encode), fail like any invalid JSON:
    the caller answers 400 instead of crashing with a 500.
    """

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc
        return value
