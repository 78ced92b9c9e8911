// The open conversation's header controls: status (and snooze time), labels, transfer.

import * as api from './api.js';
import { element } from './dom.js';
import { t } from './i18n.js';
import { showToast } from './notifications.js';

const $ = (id) => document.getElementById(id);
const STATUSES = ['open', 'pending', 'resolved', 'snoozed'];

// "2026-12-07T18:30" for <input type=datetime-local>, in local time.
function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export class ConversationActions {
  constructor({ user, directory, onChanged }) {
    this.user = user;
    this.directory = directory;
    this.onChanged = onChanged; // (conversation) after the server took a change
    this.conversation = null;
    $('status-select').addEventListener('change', () => this.onStatus());
    $('snooze-apply').addEventListener('click', () => this.snooze());
    $('labels-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.saveLabels();
    });
    $('transfer-select').addEventListener('change', () => this.transfer());
    $('transfer-select').hidden = user.role !== 'ADMIN';
  }

  show(conversation) {
    this.conversation = conversation;
    $('conversation-actions').hidden = !conversation;
    if (!conversation) return;
    this.draw();
  }

  draw() {
    const conversation = this.conversation;
    if (!conversation) return;
    const select = $('status-select');
    select.replaceChildren(...STATUSES.map((status) => {
      const option = element('option', null, t(`cstatus.${status}`));
      option.value = status;
      return option;
    }));
    select.value = conversation.status;
    $('snooze-box').hidden = conversation.status !== 'snoozed';
    const until = conversation.snoozedUntil ? new Date(conversation.snoozedUntil) : new Date(Date.now() + 3600e3);
    $('snooze-until').value = localInputValue(until);
    if (document.activeElement !== $('labels-input')) $('labels-input').value = (conversation.labels || []).join(', ');
    if (this.user.role === 'ADMIN') this.drawTransfer();
  }

  drawTransfer() {
    const select = $('transfer-select');
    const options = this.directory.activeUsers().map((user) => {
      const option = element('option', null, user.name);
      option.value = String(user.id);
      return option;
    });
    select.replaceChildren(...options);
    select.value = String(this.conversation.userId);
    select.title = t('actions.transfer');
  }

  async onStatus() {
    const status = $('status-select').value;
    if (status === 'snoozed') {
      $('snooze-box').hidden = false; // the time is chosen first, then applied
      $('snooze-until').focus();
      return;
    }
    await this.change({ status });
  }

  snooze() {
    const until = new Date($('snooze-until').value);
    if (Number.isNaN(until.getTime())) return;
    return this.change({ status: 'snoozed', snoozedUntil: until.toISOString() });
  }

  saveLabels() {
    const labels = $('labels-input').value.split(',').map((label) => label.trim()).filter(Boolean);
    return this.change({ labels });
  }

  transfer() {
    const userId = Number($('transfer-select').value);
    if (userId === this.conversation.userId) return;
    return this.change({ userId });
  }

  async change(changes) {
    const id = this.conversation.id;
    try {
      const updated = await api.updateConversation(id, changes);
      if (this.conversation?.id === id) this.conversation = updated;
      this.onChanged(updated);
      showToast(t('actions.saved'), 'success');
    } catch (error) {
      showToast(error.message, 'error');
    }
    this.draw();
  }
}
