"""Searching the messages a user may see: newest first, with highlights."""

from sqlalchemy import select

from app.errors import ValidationError
from app.extensions import db
from app.models import Message, User
from app.schemas.messages import Message as MessageOut
from app.schemas.rest import Conversation as ConversationOut
from app.schemas.workflow import SearchResult
from app.services import search_index, search_text
from app.services.conversations import unread_counts_of


def search(user: User, query: str, limit: int) -> list[SearchResult]:
    """Messages with words starting with every word of `query`, newest first.

    Case- and accent-insensitive (Turkish letters included) through the same
    fold as the index; a USER searches their own conversations, an admin all.
    """
    words = search_text.words(query)
    if not words:
        raise ValidationError("q must contain a letter or a digit", field="q")
    owner = None if user.is_admin else user.id
    seqs = search_index.matching_seqs(db.session.connection(), words, owner, limit)
    if not seqs:
        return []
    found = db.session.scalars(select(Message).where(Message.seq.in_(seqs)))
    by_seq = {message.seq: message for message in found}
    unread = unread_counts_of({message.conversation_id for message in by_seq.values()})
    return [_result(by_seq[seq], unread, words) for seq in seqs if seq in by_seq]


def _result(message: Message, unread: dict[int, int], words: list[str]) -> SearchResult:
    conversation = message.conversation
    return SearchResult(
        message=MessageOut.of(message),
        conversation=ConversationOut.of(conversation, unread.get(conversation.id, 0)),
        highlight=search_text.highlight(message.content, words),
    )
