// The agent panel: conversation list, the open conversation, replies, typing.

import * as api from './api.js';
import { Attachments } from './attachments.js';
import { coalesced } from './coalesce.js';
import { renderConversationList } from './conversation-list.js';
import { t } from './i18n.js';
import { MessageView } from './message-view.js';
import { attachCalls } from './call-view.js';
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
    this.view = new MessageView($('message-list'), { onRetry: (message) => this.replies.retry(message) });
    this.replies = new ReplyBox({
      form: $('reply-form'),
      input: $('reply-input'),
      client,
      view: this.view,
      conversationId: () => this.openId,
      onWindowClosed: () => this.refreshList(),
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
    client.on('user_typing', (event) => this.onUserTyping(event));
    client.on('resync_required', () => this.reloadAll());
    // Covers whatever happened between the first REST load and the first connect.
    client.on('connected', () => this.reloadAll());
    client.on('reconnected', () => this.refreshList());
    client.on('disconnected', () => this.clearTypers());
    client.on('notification_click', ({ conversationId }) => this.open(conversationId));
    document.addEventListener('visibilitychange', () => this.markOpenConversationRead());
    document.addEventListener('languagechange', () => this.redraw());
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
    renderConversationList($('conversation-list'), this.conversations, {
      activeId: this.openId,
      showAgent: this.user.role === 'ADMIN',
      onOpen: (id) => this.open(id),
    });
    $('conversation-empty').hidden = this.conversations.length > 0;
    const conversation = this.conversations.find((c) => c.id === this.openId);
    $('conversation-title').textContent = conversation?.customerName || conversation?.customerPhone || '';
    $('conversation-phone').textContent = conversation?.customerPhone || '';
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
    indicator.textContent = this.typers.size ? t('conversation.typing') : '';
  }
}

const user = startPage();
if (user) {
  const client = createSocketClient();
  attachCalls(client, user).addSupportButton(document.querySelector('.topbar'), document.querySelector('.topbar .spacer'));
  new AgentPanel(user, client).start();
}
