"""Bench-only helper: bench users in our database, and a fresh token for each.

Run from the repository root with the app's venv and the server's environment
(DATABASE_URL, JWT_SECRET_KEY, ...):

    .venv/bin/python bench/accounts.py --users 600 --admins 50 --secret S --out accounts.json

Users are made through the app's own service (app.services.users.create_user) and
tokens through app.services.auth.issue_tokens, the function behind POST
/api/auth/login, so 650 accounts cost 650 password hashes rather than 650 logins
as well. Users that exist already (a second run on the same database) are reused.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.services.auth import issue_tokens  # noqa: E402
from app.services.users import create_user, find_by_email  # noqa: E402
from wsgi import app  # noqa: E402  (the served app, monkey-patching included, as `flask` does)

PASSWORD = "bench-password"


def ensure_user(email: str, role: str):
    """The bench user with this email, created if missing."""
    return find_by_email(email) or create_user(email, PASSWORD, role, email.split("@")[0])


def accounts(users: int, admins: int) -> list[dict]:
    """Ids, roles and access tokens of bench-user-1..N and bench-admin-1..M."""
    wanted = [(f"bench-user-{i}@bench.local", "USER") for i in range(1, users + 1)]
    wanted += [(f"bench-admin-{i}@bench.local", "ADMIN") for i in range(1, admins + 1)]
    result = []
    for email, role in wanted:
        user = ensure_user(email, role)
        result.append({"id": user.id, "role": role, "token": issue_tokens(user)["accessToken"]})
    return result


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--admins", type=int, required=True)
    parser.add_argument(
        "--secret", required=True, help="the N8N_WEBHOOK_SECRET the server runs with"
    )
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with app.app_context():
        spec = {"secret": args.secret, "accounts": accounts(args.users, args.admins)}
    Path(args.out).write_text(json.dumps(spec))


if __name__ == "__main__":
    main()
