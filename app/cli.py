"""`flask users ...` and `flask outbox ...` commands for operators."""

import json
import secrets

import click
from flask import current_app
from flask.cli import AppGroup

from app.errors import AppError
from app.services import outbox, users
from config import write_private

users_cli = AppGroup("users", help="Manage inbox users.")
outbox_cli = AppGroup("outbox", help="The queue of replies handed to n8n.")


def _fail(exc: AppError) -> None:
    raise click.ClickException(exc.message)


@users_cli.command("create")
@click.argument("email")
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--role", type=click.Choice(["ADMIN", "USER"], case_sensitive=False), default="USER")
@click.option("--name", default="", help="Display name (defaults to the email's local part).")
def create(email: str, password: str, role: str, name: str) -> None:
    """Add a user and print its id."""
    try:
        user = users.create_user(email, password, role, name)
    except AppError as exc:
        _fail(exc)
    click.echo(user.id)


@users_cli.command("deactivate")
@click.argument("email")
def deactivate(email: str) -> None:
    """Deactivate a user: their tokens stop working at once."""
    try:
        users.set_active(email, False)
    except AppError as exc:
        _fail(exc)
    click.echo(f"deactivated {email}")


@users_cli.command("activate")
@click.argument("email")
def activate(email: str) -> None:
    """Re-activate a deactivated user."""
    try:
        users.set_active(email, True)
    except AppError as exc:
        _fail(exc)
    click.echo(f"activated {email}")


@users_cli.command("demo")
def demo() -> None:
    """Ensure a demo admin and agent exist and print how to log in (development)."""
    path = current_app.instance_path + "/demo-credentials.json"
    try:
        with open(path) as handle:
            accounts = json.load(handle)
    except FileNotFoundError:
        accounts = [
            {"email": "admin@example.com", "role": "ADMIN", "name": "Admin"},
            {"email": "agent@example.com", "role": "USER", "name": "Agent"},
        ]
        for account in accounts:
            account["password"] = secrets.token_urlsafe(9)
    for account in accounts:
        user = users.find_by_email(account["email"])
        if user is None:
            user = users.create_user(
                account["email"], account["password"], account["role"], account["name"]
            )
        account["id"] = user.id
    write_private(path, json.dumps(accounts))  # passwords: the owner's eyes only
    for account in accounts:
        login = f"{account['email']}  password: {account['password']}"
        click.echo(f"  {account['role']:<5} id={account['id']}  {login}")


@outbox_cli.command("run")
@click.option("--once", is_flag=True, help="Make one pass over the due replies and exit.")
def outbox_run(once: bool) -> None:
    """Send queued replies to n8n (a worker process instead of, or beside, the web server)."""
    from app.outbound import sender

    if once:
        click.echo(f"{sender.send_due()} attempt(s) made")
        return
    sender.run(current_app._get_current_object())


@outbox_cli.command("retry")
@click.argument("message_id")
def outbox_retry(message_id: str) -> None:
    """Queue a failed reply again, from its first attempt."""
    try:
        message = outbox.retry(message_id)
    except AppError as exc:
        _fail(exc)
    click.echo(f"{message.id} queued again")


@outbox_cli.command("status")
def outbox_status() -> None:
    """How many replies are queued, handed over, and failed."""
    for state, count in outbox.counts().items():
        click.echo(f"{state}: {count}")


events_cli = AppGroup("events", help="The durable event log behind eventId and replay.")


@events_cli.command("prune")
@click.option(
    "--older-than",
    "days",
    type=click.FloatRange(min=0),
    default=lambda: current_app.config["EVENT_RETENTION_DAYS"],
    show_default="EVENT_RETENTION_DAYS",
    help="Delete events created more than this many days ago.",
)
def events_prune(days: float) -> None:
    """Delete old events; clients that were away longer resync through REST."""
    from datetime import timedelta

    from app.services import events
    from app.timeutil import utcnow

    deleted = events.prune_before(utcnow() - timedelta(days=days))
    click.echo(f"{deleted} event(s) older than {days:g} day(s) deleted")
