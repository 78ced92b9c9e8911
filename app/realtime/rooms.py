"""Socket.IO room names, built in one place."""

ADMIN_ROOM = "admin"


def user_room(user_id: int) -> str:
    """The room every socket of one user joins at connect."""
    return f"user:{user_id}"


def conversation_room(conversation_id: int) -> str:
    """The room a socket joins with join_conversation."""
    return f"conversation:{conversation_id}"
