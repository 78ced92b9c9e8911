"""`flask messages inject`: store messages from outside the web server, as the webhook would.

The command runs in its own process, so its `new_message` reaches the sockets
of the web processes only through the Redis message queue (Flask-SocketIO's
external-process emit). Without REDIS_URL the messages are stored and
clients see them on their next reconnect or REST resync.
"""

import json

import click
from flask.cli import AppGroup

from app.errors import AppError
from app.extensions import socketio
from app.schemas.validation import validate
from app.schemas.webhooks import IncomingMessage
from app.services import messages

messages_cli = AppGroup("messages", help="Store messages from outside the web server.")


def _store_line(line: str) -> str:
    """Store one webhook body (a JSON object); returns what happened, for the operator."""
    try:
        message, created = messages.store(validate(IncomingMessage, json.loads(line)))
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"not JSON: {exc}") from None
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    return f"{message.id} {'stored' if created else 'duplicate'}"


def _held_back() -> int:
    """Events the message queue could not publish (Redis unreachable)."""
    manager = socketio.server.manager
    return manager.publish_held() if hasattr(manager, "publish_held") else 0


@messages_cli.command("inject")
@click.argument("source", type=click.File("r"), default="-")
def inject(source) -> None:
    """Store each line of SOURCE (default stdin): a JSON body as n8n would POST it."""
    for line in source:
        if line.strip():
            click.echo(_store_line(line))
    if _held_back():
        click.echo(
            "warning: Redis unreachable, events not published; connected clients get "
            "them on their next reconnect, or when their server's own Redis link recovers",
            err=True,
        )
