"""`flask numbers ...`: which user owns the conversations of each WhatsApp Cloud API number."""

import click
from flask.cli import AppGroup

from app.errors import AppError
from app.services import whatsapp_numbers

numbers_cli = AppGroup("numbers", help="WhatsApp Cloud API numbers and their owners.")


@numbers_cli.command("add")
@click.argument("phone_number_id")
@click.option("--user", "email", required=True, help="The owner's email.")
def add(phone_number_id: str, email: str) -> None:
    """Tie a number (Meta's phone_number_id) to the user who owns its conversations."""
    try:
        number = whatsapp_numbers.add(phone_number_id, email)
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{number.phone_number_id} -> {number.user.email}")


@numbers_cli.command("list")
def list_numbers() -> None:
    """Every number with its owner."""
    for number in whatsapp_numbers.all_numbers():
        click.echo(f"{number.phone_number_id}\t{number.user.email}\t(user {number.user_id})")


@numbers_cli.command("remove")
@click.argument("phone_number_id")
def remove(phone_number_id: str) -> None:
    """Untie a number; its webhooks are then answered 200 and logged, not stored."""
    try:
        whatsapp_numbers.remove(phone_number_id)
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"removed {phone_number_id}")
