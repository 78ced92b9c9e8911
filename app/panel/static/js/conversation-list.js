// The conversation list: newest first, with unread badges and the last message.

import { element } from './dom.js';
import { formatTime } from './format.js';
import { t } from './i18n.js';

// The status (when not open) and the labels, as small tags.
function tags(conversation) {
  const row = element('span', 'conversation-tags');
  if (conversation.status && conversation.status !== 'open') {
    const status = element('span', `status-tag status-tag-${conversation.status}`, t(`cstatus.${conversation.status}`));
    row.append(status);
  }
  (conversation.labels || []).forEach((label) => row.append(element('span', 'label-tag', label)));
  return row;
}

function conversationItem(conversation, { activeId, showAgent, nameOf }) {
  const item = element('li', 'conversation-item');
  item.dataset.conversationId = conversation.id;
  if (conversation.id === activeId) item.classList.add('active');
  const button = element('button', 'conversation-button');
  button.type = 'button';

  const top = element('span', 'conversation-top');
  top.append(
    element('span', 'conversation-name', conversation.customerName || conversation.customerPhone),
    element('time', 'conversation-time', formatTime(conversation.lastMessageAt)),
  );
  const bottom = element('span', 'conversation-bottom');
  bottom.append(element('span', 'conversation-preview', preview(conversation.lastMessage)));
  if (conversation.unreadCount > 0) {
    const badge = element('span', 'unread-badge', String(conversation.unreadCount));
    badge.title = t('conversations.unread', { count: conversation.unreadCount });
    bottom.append(badge);
  }
  button.append(top, bottom);
  if (conversation.labels?.length || (conversation.status && conversation.status !== 'open')) button.append(tags(conversation));
  if (showAgent) {
    const agent = nameOf ? nameOf(conversation.userId) : t('conversations.agent', { id: conversation.userId });
    button.append(element('span', 'conversation-agent', agent));
  }
  item.append(button);
  return item;
}

// Redraw the list; clicking a conversation calls onOpen(id).
export function renderConversationList(list, conversations, { activeId, showAgent, nameOf, onOpen }) {
  list.replaceChildren(...conversations.map((c) => conversationItem(c, { activeId, showAgent, nameOf })));
  list.onclick = (event) => {
    const item = event.target.closest('.conversation-item');
    if (item) onOpen(Number(item.dataset.conversationId));
  };
}

// A message without text is previewed by the server as its type ("[image]"):
// show that in the interface language.
const TYPE_PREVIEW = /^\[(image|audio|video|document|sticker|location|contacts|interactive|button|unsupported)\]$/;

function preview(lastMessage) {
  const match = TYPE_PREVIEW.exec(lastMessage || '');
  return match ? t(`media.${match[1]}`) : lastMessage;
}
