"""Two server processes sharing Redis and PostgreSQL behave as one server.

A webhook posted to either reaches the right sockets on both, once each;
presence, typing and mark_read cross processes; a `flask` command's emit
reaches sockets through the queue.
"""

import json
import tempfile

import pytest
import requests

from tests.integration.scale_cluster import (
    cluster_fixtures,
    has_all,
    message_body,
    new_phone,
    online,
    wait_until,
)

# Always PostgreSQL and a private Redis, whatever TEST_DATABASE says.
pytestmark = pytest.mark.database_pinned


cluster, fresh_sockets = cluster_fixtures(owner="USER", other="USER", admin="ADMIN", admin2="ADMIN")


def post(server, user_id: int, content: str, phone: str = "+905550000000") -> dict:
    response = server.post_webhook(message_body(user_id, content, phone))
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_a_webhook_posted_to_b_reaches_sockets_on_a_and_b_once_each(cluster):
    owner_a = cluster.connect(cluster.a, cluster.owner)
    other_a = cluster.connect(cluster.a, cluster.other)
    admin_a = cluster.connect(cluster.a, cluster.admin)
    admin_b = cluster.connect(cluster.b, cluster.admin2)

    first = post(cluster.b, cluster.owner.id, "to owner via b")
    for client in (owner_a, admin_a, admin_b):
        assert [m["id"] for m in client.wait_for("new_message")] == [first["id"]]
    # A marker for `other`, posted to a: once it arrived everywhere, nothing else is in flight.
    marker = post(cluster.a, cluster.other.id, "to other via a")
    other_a.wait_for("new_message")
    admin_a.wait_for("new_message", 2)
    admin_b.wait_for("new_message", 2)
    assert [m["id"] for m in other_a.of("new_message")] == [marker["id"]]
    assert len(owner_a.of("new_message")) == 1
    for client in (admin_a, admin_b):
        assert [m["id"] for m in client.of("new_message")] == [first["id"], marker["id"]]


def test_presence_is_the_same_seen_from_either_process(cluster):
    assert not online(cluster.b, cluster.admin, cluster.other.id)
    socket = cluster.connect(cluster.a, cluster.other)
    assert online(cluster.b, cluster.admin, cluster.other.id)
    status = cluster.b.get("/api/realtime/status", cluster.admin.token).json()
    assert cluster.other.id in status["onlineUserIds"]
    socket.close()
    # The contract: offline within 2 s of the last socket closing, on every process.
    assert wait_until(lambda: not online(cluster.b, cluster.admin, cluster.other.id), 2.0) < 2.0
    assert not online(cluster.a, cluster.admin, cluster.other.id)


def test_typing_on_a_reaches_the_conversation_on_b_and_expires(cluster):
    conversation = post(cluster.a, cluster.owner.id, "typing here", new_phone())["conversationId"]
    typer = cluster.connect(cluster.a, cluster.owner)
    watcher = cluster.connect(cluster.b, cluster.admin)
    assert typer.call("join_conversation", conversation) == {"ok": True}
    assert watcher.call("join_conversation", conversation) == {"ok": True}

    assert typer.call("typing", {"conversationId": conversation, "isTyping": True}) == {"ok": True}
    watcher.wait_for("user_typing")
    assert typer.call("typing", {"conversationId": conversation, "isTyping": False}) == {"ok": True}
    watcher.wait_for("user_typing", 2)
    typer.call("typing", {"conversationId": conversation, "isTyping": True})
    # No follow-up: the typer's own process ends it after the timeout.
    changes = watcher.wait_for("user_typing", 4, timeout=10)
    assert [c["isTyping"] for c in changes] == [True, False, True, False]
    assert {(c["userId"], c["conversationId"]) for c in changes} == {
        (cluster.owner.id, conversation)
    }
    assert typer.of("user_typing") == []  # never back to the sender


def patch_read(server, account, message_id: str) -> requests.Response:
    return requests.patch(
        f"{server.url}/api/messages/{message_id}/read",
        headers={"Authorization": f"Bearer {account.token}"},
        timeout=10,
    )


def test_mark_read_crosses_processes_once(cluster):
    first = post(cluster.a, cluster.owner.id, "read me", new_phone())
    second = post(cluster.a, cluster.owner.id, "read me too", new_phone())
    owner_a = cluster.connect(cluster.a, cluster.owner)
    admin_b = cluster.connect(cluster.b, cluster.admin)

    assert admin_b.call("mark_read", {"messageId": first["id"]}) == {"ok": True}
    (receipt,) = owner_a.wait_for("message_read")
    assert (receipt["messageId"], receipt["readBy"]) == (first["id"], cluster.admin.id)
    assert patch_read(cluster.a, cluster.owner, second["id"]).status_code == 200
    admin_b.wait_for("message_read", 2)
    # Idempotent on the other process too: the same receipt, no second event.
    repeat = patch_read(cluster.b, cluster.owner, second["id"])
    assert repeat.json()["readBy"] == cluster.owner.id
    marker = post(cluster.b, cluster.owner.id, "marker", new_phone())
    wait_until(lambda: has_all(owner_a, [marker["id"]]) and has_all(admin_b, [marker["id"]]), 10)
    for client in (owner_a, admin_b):
        reads = client.of("message_read")
        assert [r["messageId"] for r in reads] == [first["id"], second["id"]]


def test_a_flask_command_reaches_sockets_through_the_queue(cluster):
    owner_a = cluster.connect(cluster.a, cluster.owner)
    admin_b = cluster.connect(cluster.b, cluster.admin2)
    bodies = [
        message_body(cluster.owner.id, f"injected {n}", message_id=f"wamid.cli-{n}")
        for n in range(2)
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as source:
        source.write("".join(json.dumps(body) + "\n" for body in bodies))
        source.flush()
        output = cluster.a.flask("messages", "inject", source.name).split()
    message_ids = output[0::2]
    assert output[1::2] == ["stored", "stored"]
    for client in (owner_a, admin_b):
        wait_until(lambda client=client: has_all(client, message_ids), 10)
        assert [m["id"] for m in client.of("new_message")] == message_ids
    # The same lines again: duplicates, nothing emitted.
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as source:
        source.write(json.dumps(bodies[0]) + "\n")
        source.flush()
        assert cluster.b.flask("messages", "inject", source.name).split()[1] == "duplicate"


def test_the_cli_refuses_a_bad_line_naming_the_field(cluster):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as source:
        source.write(json.dumps(message_body(cluster.owner.id, "")) + "\n")
        source.flush()
        with pytest.raises(RuntimeError, match="message_content"):
            cluster.a.flask("messages", "inject", source.name)
