// Building elements: data always goes in as text, never as HTML.

export function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined && text !== null) el.textContent = String(text);
  return el;
}

// The preview of a conversation's last message, whether the API gives the text
// or the message itself.
export function lastMessageText(conversation) {
  const last = conversation.lastMessage;
  if (last && typeof last === 'object') return last.messageContent ?? last.content ?? '';
  return last ?? '';
}
