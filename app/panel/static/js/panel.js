// The agent panel: conversation list, the open conversation, replies, typing.

import * as api from './api.js';
import { Attachments } from './attachments.js';
import { CannedResponses } from './canned.js';
import { coalesced } from './coalesce.js';
import { ConversationActions } from './conversation-actions.js';
import { renderConversationList } from './conversation-list.js';
import { Directory } from './directory.js';
import { element } from './dom.js';
import { t } from './i18n.js';
import { ListFilters, SearchBox } from './list-filters.js';
import { MessageView } from './message-view.js';
import { attachCalls } from './call-view.js';
import { NewConversationForm } from './new-conversation.js';
import { playSound, setUpSoundToggle, showUnreadInTitle } from './notifications.js';
import { createSocketClient, startPage } from './page.js';
import { ReplyBox } from './reply-box.js';
import { ReplyWindow } from './reply-window.js';
import { TemplatePicker } from './template-picker.js';

const TYPING_FALLBACK_MS = 8000; // the server sends isTyping:false after 6 s anyway
const $ = (id) => document.getElementById(id);

class AgentPanel {
  constructor(user, client) {
    this.user = user;
    this.client = client;
    this.conversations = [];
    this.openId = null;
    this.typers = new Map(); // userId -> fallback timer
    this.marking = new Set(); // message ids with a mark-read in flight
    this.view = new MessageView($('message-list'), {
      onRetry: (message) => this.replies.retry(message),
      // A file link that expired: the REST answer carries fresh ones.
      onStaleMedia: coalesced(() => this.openId !== null && this.loadMessages(this.openId), 500),
    });
    this.replies = new ReplyBox({
      form: $('reply-form'),
      input: $('reply-input'),
      client,
      view: this.view,
      conversationId: () => this.openId,
      onWindowClosed: () => this.refreshList(),
      noteMode: $('note-mode'),
    });
    this.templates = new TemplatePicker({
      form: $('template-form'),
      select: $('template-select'),
      params: $('template-params'),
      preview: $('template-preview'),
      onSend: (template, preview) => this.replies.sendTemplate(this.openId, template, preview),
    });
    this.window = new ReplyWindow($('window-status'), (open) => this.showComposer(open));
    this.attachments = new Attachments({
      button: $('attach-button'),
      input: $('attach-input'),
      dropZone: $('conversation'),
      pasteTarget: $('reply-input'),
      progress: {
        box: $('upload-progress'),
        label: $('upload-label'),
        bar: $('upload-bar'),
        cancel: $('upload-cancel'),
      },
      client,
      view: this.view,
      conversationId: () => this.openId,
      onError: (text) => this.client.showNotification(text, 'error'),
    });
    this.directory = new Directory(user);
    this.canned = new CannedResponses({ user, input: $('reply-input') });
    this.actions = new ConversationActions({
      user,
      directory: this.directory,
      onChanged: (conversation) => this.onConversationUpdated(conversation),
    });
    this.filters = new ListFilters({ onChange: () => this.drawList(), showOwner: user.role === 'ADMIN' });
    this.search = new SearchBox({
      onOpen: (id) => this.open(id),
      onToggle: (searching) => {
        $('search-results').hidden = !searching;
        $('conversation-list').hidden = searching;
        $('filters').hidden = searching;
      },
    });
    this.newConversation = new NewConversationForm({ onStarted: (message) => this.open(message.conversationId) });
    // The list is the server's: every change reloads it (coalesced), so unread
    // counts and order never drift from what REST says.
    this.refreshList = coalesced(() => this.loadConversations(), 150);
  }

  start() {
    const client = this.client;
    client.on('new_message', (message) => this.onNewMessage(message));
    client.on('message_read', ({ messageId }) => this.onMessageRead(messageId));
    client.on('message_status', (event) => this.onMessageStatus(event));
    client.on('message_media', ({ messageId, conversationId, media }) => {
      if (conversationId === this.openId) this.view.setMedia(messageId, media);
    });
    client.on('message_reaction', ({ messageId, conversationId, reactions }) => {
      if (conversationId === this.openId) this.view.setReactions(messageId, reactions);
    });
    client.on('conversation_updated', (event) => this.onConversationUpdated(event));
    client.on('user_typing', (event) => this.onUserTyping(event));
    client.on('resync_required', () => this.reloadAll());
    // Covers whatever happened between the first REST load and the first connect.
    client.on('connected', () => this.reloadAll());
    client.on('reconnected', () => this.refreshList());
    client.on('disconnected', () => this.clearTypers());
    client.on('notification_click', ({ conversationId }) => this.open(conversationId));
    document.addEventListener('visibilitychange', () => this.markOpenConversationRead());
    document.addEventListener('languagechange', () => this.redraw());
    this.directory.addEventListener('change', () => this.redraw());
    this.directory.start();
    setUpSoundToggle($('sound-toggle'));
    client.requestNotificationPermission();
    client.connect();
    this.refreshList();
    const requested = Number(new URLSearchParams(location.search).get('conversation'));
    if (Number.isInteger(requested) && requested > 0) this.open(requested);
  }

  async loadConversations() {
    this.conversations = await api.conversations();
    this.drawList();
  }

  drawList() {
    const nameOf = (id) => this.directory.nameOf(id);
    this.filters.update(this.conversations, nameOf);
    const shown = this.filters.apply(this.conversations);
    renderConversationList($('conversation-list'), shown, {
      activeId: this.openId,
      showAgent: this.user.role === 'ADMIN',
      nameOf,
      onOpen: (id) => this.open(id),
    });
    $('conversation-empty').hidden = shown.length > 0;
    const conversation = this.conversations.find((c) => c.id === this.openId);
    $('conversation-title').textContent = conversation?.customerName || conversation?.customerPhone || '';
    $('conversation-phone').textContent = conversation?.customerPhone || '';
    $('conversation-owner').textContent = conversation ? t('conversation.owner', { name: nameOf(conversation.userId) }) : '';
    if (conversation) this.actions.show(conversation);
    showUnreadInTitle(this.conversations.reduce((sum, c) => sum + (c.unreadCount || 0), 0), t('app.title'));
    this.window.show(conversation ? conversation.windowExpiresAt : undefined);
  }

  // Free text while WhatsApp's 24-hour window is open, the template picker after.
  showComposer(open) {
    if (this.openId === null) return;
    $('reply-form').hidden = !open;
    $('template-form').hidden = open;
    if (!open) this.templates.load();
  }

  redraw() {
    this.drawList();
    this.window.draw();
    if (this.templates.templates) this.templates.drawOptions();
    this.view.redraw();
    this.drawTyping();
    this.actions.draw();
    this.drawColleagues();
  }

  // Colleagues with a live socket (agents see the admins; admins see everyone).
  drawColleagues() {
    const colleagues = this.directory.onlineColleagues();
    const items = colleagues.map(({ id, name }) => {
      const item = element('li', 'presence presence-online');
      item.dataset.userId = id;
      item.append(element('span', 'presence-dot'), element('span', 'presence-label', name));
      return item;
    });
    $('colleague-list').replaceChildren(...(items.length ? items : [element('li', 'muted', t('colleagues.none'))]));
  }

  // A conversation's status, labels or owner changed (here or elsewhere).
  onConversationUpdated({ conversationId, id, userId, previousUserId, status, snoozedUntil, labels }) {
    const key = conversationId ?? id;
    const conversation = this.conversations.find((c) => c.id === key);
    if (conversation) Object.assign(conversation, { userId, status, snoozedUntil, labels });
    const mine = userId === this.user.id || this.user.role === 'ADMIN';
    if (!mine && key === this.openId) this.close();
    // A transfer empties the conversation's room on the server: join it again.
    else if (key === this.openId && previousUserId !== undefined && previousUserId !== userId) {
      this.client.joinConversation(key);
    }
    this.refreshList();
    this.drawList();
  }

  // Stop showing a conversation the user may no longer see (transferred away).
  close() {
    this.client.leaveConversation(this.openId);
    this.openId = null;
    this.view.clear();
    $('conversation').dataset.conversationId = '';
    $('conversation-placeholder').hidden = false;
    $('conversation').querySelector('.conversation-header').hidden = true;
    $('message-list').hidden = true;
    $('reply-form').hidden = true;
    this.actions.show(null);
  }

  // Open a conversation: join its room, load its messages, mark them read.
  async open(id) {
    if (this.openId === id) return;
    if (this.openId !== null) {
      this.replies.reset();
      this.client.leaveConversation(this.openId);
    }
    this.openId = id;
    $('conversation').dataset.conversationId = id;
    history.replaceState(null, '', `?conversation=${id}`);
    this.clearTypers();
    this.view.clear();
    this.showConversation();
    this.drawList();
    this.client.joinConversation(id);
    await this.loadMessages(id);
  }

  showConversation() {
    $('conversation-placeholder').hidden = true;
    $('conversation').querySelector('.conversation-header').hidden = false;
    $('message-list').hidden = false;
    if (this.window.open !== null) this.showComposer(this.window.open);
  }

  async loadMessages(id) {
    try {
      const messages = await api.messages(id);
      if (this.openId !== id) return;
      messages.forEach((message) => this.view.upsert(message));
      this.scrollToEnd();
      this.markOpenConversationRead();
    } catch (error) {
      this.client.showNotification(t('conversation.loadFailed'), 'error');
    }
  }

  // Reload everything from REST (the server could not replay what was missed).
  reloadAll() {
    this.refreshList();
    if (this.openId !== null) this.loadMessages(this.openId);
  }

  // Mark the open conversation's inbound messages read while the page is seen.
  markOpenConversationRead() {
    if (document.visibilityState !== 'visible') return;
    for (const id of this.view.unreadInbound()) {
      if (this.marking.has(id)) continue;
      this.marking.add(id);
      this.client
        .markAsRead(id)
        .then((result) => {
          if (result?.error) return;
          this.view.markRead(id);
          this.refreshList(); // the badge; without a socket no message_read event comes
        })
        .catch((error) => console.warn('Marking a message read failed', error))
        .finally(() => this.marking.delete(id));
    }
  }

  scrollToEnd() {
    const list = $('message-list');
    list.scrollTop = list.scrollHeight;
  }

  onNewMessage(message) {
    this.refreshList();
    const open = message.conversationId === this.openId;
    if (open) {
      this.view.upsert(message);
      this.scrollToEnd();
      this.markOpenConversationRead();
    }
    if (message.direction === 'INBOUND' && (!open || document.hidden)) {
      playSound();
      const name = message.customerName || message.customerPhone;
      this.client.showNotification(t('notify.newMessage', { name }), 'info', {
        id: message.id,
        conversationId: message.conversationId,
      });
    }
  }

  onMessageRead(messageId) {
    this.view.markRead(messageId);
    this.refreshList();
  }

  onMessageStatus({ messageId, conversationId, status, error, errorCode }) {
    if (conversationId === this.openId) this.view.setStatus(messageId, status, error, errorCode);
  }

  // Another agent typing in the open conversation; cleared by their `false`,
  // or by a local fallback should that never come.
  onUserTyping({ userId, conversationId, isTyping }) {
    if (userId === this.user.id || conversationId !== this.openId) return;
    if (isTyping && !this.directory.online.has(userId)) this.directory.loadPresence(); // joined since the last poll
    clearTimeout(this.typers.get(userId));
    this.typers.delete(userId);
    if (isTyping) {
      const stop = () => this.onUserTyping({ userId, conversationId, isTyping: false });
      this.typers.set(userId, setTimeout(stop, TYPING_FALLBACK_MS));
    }
    this.drawTyping();
  }

  clearTypers() {
    this.typers.forEach((timer) => clearTimeout(timer));
    this.typers.clear();
    this.drawTyping();
  }

  drawTyping() {
    const indicator = $('typing-indicator');
    indicator.hidden = this.typers.size === 0;
    const names = [...this.typers.keys()].map((id) => this.directory.nameOf(id));
    indicator.textContent = names.length ? t('conversation.typingNamed', { names: names.join(', ') }) : '';
  }
}

const user = startPage();
if (user) {
  const client = createSocketClient();
  attachCalls(client, user).addSupportButton(document.querySelector('.topbar'), document.querySelector('.topbar .spacer'));
  new AgentPanel(user, client).start();
}
