// The open conversation's messages in time order: text, files, places, quotes and
// reactions (media-parts.js), with delivery marks.

import { element } from './dom.js';
import { formatTime } from './format.js';
import { t } from './i18n.js';
import { locationPart, mediaPart, quotePart, reactionsPart } from './media-parts.js';

const STATUS_RANK = { pending: 0, sent: 1, delivered: 2, read: 3 };
const STATUS_MARK = { pending: '🕓', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' };
// WhatsApp error codes the panel explains in words (others: "Not delivered").
const EXPLAINED_ERRORS = new Set([131047, 131026, 131053, 131056]);

// Why a reply failed, in the interface language.
export function failureText(errorCode) {
  return EXPLAINED_ERRORS.has(errorCode) ? t(`whatsappError.${errorCode}`) : t('reply.failed');
}

// Whether a reply's status may change from current to next: never backwards,
// `failed` only over pending/sent, and anything over `failed` (a retry).
function statusMayChange(current, next) {
  if (!next || current === next) return false;
  if (!current || current === 'failed') return true;
  if (next === 'failed') return current === 'pending' || current === 'sent';
  return STATUS_RANK[next] > STATUS_RANK[current];
}

// Later timestamps go after; equal ones keep the order they arrived in (REST
// lists oldest first, events come in order).
function comesAfter(a, b) {
  const time = (message) => Date.parse(message.timestamp) || 0;
  return time(a) > time(b);
}

function localKey(clientMessageId) {
  return `local:${clientMessageId}`;
}

export class MessageView {
  constructor(list, { onRetry, onStaleMedia = () => {} }) {
    this.list = list;
    this.onRetry = onRetry;
    this.onStaleMedia = onStaleMedia;
    this.staleMedia = new Set(); // media ids whose link was refreshed once already
    this.items = new Map(); // message id or local key -> { message, el }
  }

  clear() {
    this.items.clear();
    this.list.replaceChildren();
  }

  // Add a message, or merge what is new about one already shown. A snapshot
  // (a REST answer) may be older than the message_status events already shown,
  // so only a retry's own answer takes a reply out of `failed`.
  upsert(message, { retried = false } = {}) {
    const item = this.items.get(message.id) ?? this.adoptLocal(message);
    if (!item) {
      this.add(message.id, { ...message });
      return;
    }
    const { status, ...rest } = message;
    Object.assign(item.message, rest);
    const current = item.message.status;
    if (statusMayChange(current, status) && (retried || current !== 'failed')) {
      item.message.status = status;
    }
    this.draw(item);
  }

  // A reply's new_message event can beat the answer to its POST: it takes over
  // the pending bubble with the same text rather than drawing the reply twice.
  adoptLocal(message) {
    if (message.direction !== 'OUTBOUND' || message.messageType === 'note') return null;
    for (const [key, item] of this.items) {
      const local = item.message;
      if (local.local && local.status === 'pending' && local.messageContent === message.messageContent) {
        this.items.delete(key);
        this.items.set(message.id, item);
        local.local = false;
        delete item.el.dataset.clientMessageId;
        return item;
      }
    }
    return null;
  }

  // A reply typed here, shown as pending until the server has it.
  addLocal(clientMessageId, fields) {
    this.add(localKey(clientMessageId), { ...fields, clientMessageId, local: true });
  }

  // The server stored the reply: show its message instead of the local one
  // (its new_message event may have drawn it already).
  confirmLocal(clientMessageId, message) {
    this.remove(localKey(clientMessageId));
    this.upsert(message);
  }

  removeLocal(clientMessageId) {
    this.remove(localKey(clientMessageId));
  }

  failLocal(clientMessageId, error) {
    const item = this.items.get(localKey(clientMessageId));
    if (!item) return;
    Object.assign(item.message, { status: 'failed', error });
    this.draw(item);
  }

  setStatus(messageId, status, error, errorCode) {
    const item = this.items.get(messageId);
    if (!item || !statusMayChange(item.message.status, status)) return;
    Object.assign(item.message, {
      status,
      error: error ?? item.message.error,
      errorCode: errorCode ?? item.message.errorCode,
    });
    this.draw(item);
  }

  markRead(messageId) {
    const item = this.items.get(messageId);
    if (!item || item.message.isRead) return;
    item.message.isRead = true;
    this.draw(item);
  }

  // Ids of the inbound messages not read yet.
  unreadInbound() {
    return [...this.items.values()]
      .map(({ message }) => message)
      .filter((m) => m.direction === 'INBOUND' && !m.isRead && !m.local)
      .map((m) => m.id);
  }

  // Redraw every message (after a language change).
  redraw() {
    this.items.forEach((item) => this.draw(item));
  }

  add(key, message) {
    const item = { message, el: element('li') };
    item.el.message = item.message; // read back by insertInOrder
    this.items.set(key, item);
    this.draw(item);
    this.insertInOrder(item);
  }

  remove(key) {
    this.items.get(key)?.el.remove();
    this.items.delete(key);
  }

  insertInOrder(item) {
    let next = null;
    for (let el = this.list.lastElementChild; el; el = el.previousElementSibling) {
      if (!comesAfter(el.message, item.message)) break;
      next = el;
    }
    this.list.insertBefore(item.el, next);
  }

  draw({ message, el }) {
    if (message.messageType === 'note') {
      this.drawNote(message, el);
      return;
    }
    const outbound = message.direction === 'OUTBOUND';
    el.className = `message ${outbound ? 'message-outbound' : 'message-inbound'}`;
    if (message.local) el.dataset.clientMessageId = message.clientMessageId;
    else el.dataset.messageId = message.id;
    el.dataset.read = String(Boolean(message.isRead));
    const meta = element('div', 'message-meta');
    meta.append(element('time', 'message-time', formatTime(message.timestamp)));
    if (outbound) {
      el.dataset.status = message.status || 'pending';
      meta.append(...this.statusParts(message));
    }
    const reactions = reactionsPart(message.reactions);
    if (reactions) meta.prepend(reactions);
    el.dataset.type = message.messageType || 'text';
    const parts = [
      quotePart(message.replyTo ? this.items.get(message.replyTo)?.message : null),
      this.watched(mediaPart(message), message.media),
      locationPart(message.location),
      message.messageContent ? element('p', 'message-text', message.messageContent) : null,
      meta,
    ];
    el.replaceChildren(...parts.filter(Boolean));
  }

  // A file's link carries a credential that expires (an event replayed long after
  // it was made): when it fails, ask once for the message again over REST.
  watched(part, media) {
    if (!part) return null;
    const target = part.matches('img, audio, video') ? part : part.querySelector('img, audio, video');
    target?.addEventListener('error', () => {
      if (this.staleMedia.has(media.id)) return;
      this.staleMedia.add(media.id);
      this.onStaleMedia(media.id);
    });
    return part;
  }

  // The customer reacted to a message (or took the reaction back).
  // A message's file arrived after the message (message_media).
  setMedia(messageId, media) {
    const item = this.items.get(messageId);
    if (!item) return;
    item.message.media = media;
    this.draw(item);
  }

  setReactions(messageId, reactions) {
    const item = this.items.get(messageId);
    if (!item) return;
    item.message.reactions = reactions;
    this.draw(item);
  }

  // An internal note: apart from the customer's thread, never with delivery marks.
  drawNote(message, el) {
    el.className = 'message message-note';
    el.dataset.messageId = message.id;
    const meta = element('div', 'message-meta');
    meta.append(element('span', 'note-label', t('note.label')), element('time', 'message-time', formatTime(message.timestamp)));
    el.replaceChildren(element('p', 'message-text', message.messageContent), meta);
  }

  statusParts(message) {
    const status = message.status || 'pending';
    const mark = element('span', `status-mark status-${status}`, STATUS_MARK[status] ?? '');
    mark.title = t(`status.${status}`);
    if (status !== 'failed') return [mark];
    const reason = element('span', 'status-error', failureText(message.errorCode));
    if (message.error) reason.title = String(message.error);
    const retry = element('button', 'retry-button', t('reply.retry'));
    retry.type = 'button';
    retry.addEventListener('click', () => this.onRetry({ ...message }));
    return [mark, reason, retry];
  }
}
