// Writing first to a customer: a dialog that starts a conversation with a new number.
//
// The first message goes out through the reply path (POST /api/conversations).
// WhatsApp only delivers a business's first message as an approved template;
// once the Cloud API lane's template replies are merged, this form sends one.

import * as api from './api.js';
import { showToast } from './notifications.js';

const $ = (id) => document.getElementById(id);

function newClientMessageId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class NewConversationForm {
  constructor({ onStarted }) {
    this.onStarted = onStarted;
    this.clientMessageId = null;
    $('new-conversation-open').addEventListener('click', () => {
      this.clientMessageId = newClientMessageId(); // one per dialog: a double submit sends once
      $('new-conversation-dialog').showModal();
    });
    $('new-conversation-close').addEventListener('click', () => $('new-conversation-dialog').close());
    $('new-conversation-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  async submit() {
    try {
      const message = await api.startConversation(
        $('new-phone').value.trim(),
        $('new-name').value.trim(),
        $('new-content').value.trim(),
        this.clientMessageId,
      );
      $('new-conversation-form').reset();
      $('new-conversation-dialog').close();
      this.onStarted(message);
    } catch (error) {
      showToast(error.message, 'error');
    }
  }
}
