"""`flask numbers add|list|remove`: WhatsApp numbers tied to the users who own them."""

import pytest

from app.services import whatsapp_numbers

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


def test_add_list_remove(runner, people):
    owner = people["owner"]
    added = runner.invoke(args=["numbers", "add", "106540352242922", "--user", owner.email])
    assert added.exit_code == 0, added.output
    assert whatsapp_numbers.owners() == {"106540352242922": owner.id}
    listed = runner.invoke(args=["numbers", "list"])
    assert "106540352242922" in listed.output and owner.email in listed.output
    removed = runner.invoke(args=["numbers", "remove", "106540352242922"])
    assert removed.exit_code == 0
    assert whatsapp_numbers.owners() == {}


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["numbers", "add", "1065", "--user", "nobody@example.com"], "no user"),
        (["numbers", "add", "not-an-id", "--user", "{owner}"], "numeric"),
        (["numbers", "remove", "42"], "no WhatsApp number"),
    ],
)
def test_refusals_name_the_problem_and_change_nothing(runner, people, args, reason):
    args = [a.replace("{owner}", people["owner"].email) for a in args]
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert reason in result.output
    assert whatsapp_numbers.owners() == {}


def test_a_number_has_one_owner(runner, people):
    runner.invoke(args=["numbers", "add", "777", "--user", people["owner"].email])
    again = runner.invoke(args=["numbers", "add", "777", "--user", people["other"].email])
    assert again.exit_code != 0 and "already" in again.output
    assert whatsapp_numbers.owners() == {"777": people["owner"].id}
