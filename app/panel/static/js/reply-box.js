// The reply box: sends replies (shown as pending at once) and the typing signal.

import * as api from './api.js';
import { showToast } from './notifications.js';

const TYPING_IDLE_MS = 3000;

// A random id for a reply's clientMessageId (crypto.randomUUID needs https).
function newClientMessageId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class ReplyBox {
  constructor({ form, input, client, view, conversationId, noteMode = null, onWindowClosed = () => {} }) {
    this.form = form;
    this.noteMode = noteMode; // a checkbox: checked, the text goes in as an internal note
    this.onWindowClosed = onWindowClosed;
    this.input = input;
    this.client = client;
    this.view = view;
    this.conversationId = conversationId; // () => the open conversation's id
    this.idleTimer = null;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    input.addEventListener('input', () => this.onInput());
    noteMode?.addEventListener('change', () => form.classList.toggle('note-mode', noteMode.checked));
    input.addEventListener('blur', () => this.stopTyping());
  }

  onInput() {
    clearTimeout(this.idleTimer);
    if (!this.input.value.trim()) {
      this.stopTyping();
      return;
    }
    this.client.sendTyping(this.conversationId(), true);
    this.idleTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.idleTimer);
    const id = this.conversationId();
    if (id !== null) this.client.sendTyping(id, false);
  }

  // Forget the draft (another conversation was opened).
  reset() {
    this.stopTyping();
    this.input.value = '';
  }

  submit() {
    const content = this.input.value.trim();
    if (!content) return;
    this.stopTyping();
    this.input.value = '';
    if (this.noteMode?.checked) this.sendNote(this.conversationId(), content);
    else this.send(this.conversationId(), content, newClientMessageId());
  }

  // An internal note: shown when the server has it (its new_message event or answer).
  async sendNote(conversationId, content) {
    try {
      const note = await api.addNote(conversationId, content);
      if (conversationId === this.conversationId()) this.view.upsert(note);
    } catch (error) {
      this.input.value = content;
      showToast(error.message, 'error');
    }
  }

  // Post a reply; the same clientMessageId on a retry can never send it twice.
  async send(conversationId, content, clientMessageId) {
    this.showLocal(conversationId, content, clientMessageId);
    await this.post(conversationId, clientMessageId, () =>
      api.sendReply(conversationId, content, clientMessageId),
    );
  }

  // Post a template reply (allowed whether or not the 24-hour window is open).
  async sendTemplate(conversationId, template, preview) {
    const clientMessageId = newClientMessageId();
    this.showLocal(conversationId, preview, clientMessageId, template);
    await this.post(conversationId, clientMessageId, () =>
      api.sendTemplate(conversationId, template, clientMessageId),
    );
  }

  showLocal(conversationId, content, clientMessageId, template = null) {
    this.view.addLocal(clientMessageId, {
      conversationId,
      messageContent: content,
      messageType: template ? 'template' : 'text',
      template,
      direction: 'OUTBOUND',
      status: 'pending',
      timestamp: new Date().toISOString(),
    });
  }

  async post(conversationId, clientMessageId, request) {
    try {
      const message = await request();
      if (conversationId === this.conversationId()) this.view.confirmLocal(clientMessageId, message);
    } catch (error) {
      this.view.failLocal(clientMessageId, error.message);
      if (error.code === 'window_closed') this.onWindowClosed();
    }
  }

  // A reply the server never took is posted again under its own clientMessageId;
  // one the server marked failed is queued again (the same message, not a copy),
  // and its message_status events move the ticks from there.
  async retry(message) {
    if (message.local && message.template) {
      this.view.removeLocal(message.clientMessageId);
      this.showLocal(message.conversationId, message.messageContent, message.clientMessageId, message.template);
      const { conversationId, clientMessageId, template } = message;
      await this.post(conversationId, clientMessageId, () =>
        api.sendTemplate(conversationId, template, clientMessageId),
      );
      return;
    }
    if (message.local) {
      this.view.removeLocal(message.clientMessageId);
      this.send(message.conversationId, message.messageContent, message.clientMessageId);
      return;
    }
    try {
      const retried = await api.retryReply(message.id);
      this.view.upsert({ ...retried, error: null, errorCode: null }, { retried: true });
    } catch (error) {
      showToast(error.message, 'error');
    }
  }
}
