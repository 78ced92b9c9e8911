// Writing first to a customer: a dialog that starts a conversation with a new number.
//
// The first message is a reply (POST /api/conversations) under the same 24-hour
// window rule: a number that never wrote has no window, so WhatsApp takes only
// an approved template. The dialog offers the composer's template picker.

import * as api from './api.js';
import { showToast } from './notifications.js';
import { TemplatePicker } from './template-picker.js';

const $ = (id) => document.getElementById(id);

function newClientMessageId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class NewConversationForm {
  constructor({ onStarted }) {
    this.onStarted = onStarted;
    this.clientMessageId = null;
    this.picker = new TemplatePicker({
      form: $('new-conversation-form'),
      select: $('new-template-select'),
      params: $('new-template-params'),
      preview: $('new-template-preview'),
      onSend: (template) => this.submit(template),
      clearOnSend: false, // a refused number keeps what the agent typed
    });
    $('new-conversation-open').addEventListener('click', () => {
      this.clientMessageId = newClientMessageId(); // one per dialog: a double submit sends once
      $('new-conversation-dialog').showModal();
      this.picker.load();
    });
    $('new-conversation-close').addEventListener('click', () => $('new-conversation-dialog').close());
  }

  async submit(template) {
    try {
      const message = await api.startConversation(
        $('new-phone').value.trim(),
        $('new-name').value.trim(),
        template,
        this.clientMessageId,
      );
      $('new-conversation-form').reset();
      this.picker.drawParameters();
      $('new-conversation-dialog').close();
      this.onStarted(message);
    } catch (error) {
      showToast(error.message, 'error');
    }
  }

  // After a language change: the picker's own words (placeholders, "no templates").
  redraw() {
    if (this.picker.templates) this.picker.drawOptions();
  }
}
