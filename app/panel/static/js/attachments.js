// Sending a file: the attach button, drag and drop, paste; chunks over the socket
// (upload_start / upload_chunk / upload_finish) with a progress bar and a cancel
// button. A cut socket pauses the upload; once the socket is back it asks the
// server how much arrived (upload_start with the uploadId) and goes on from there.

import { t } from './i18n.js';

const RECONNECT_POLL_MS = 200;
// Refusals after which trying again cannot help.
const FINAL = new Set([
  'Unauthorized', 'File too large', 'Unsupported type', 'Unknown upload', 'Conversation not found',
]);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function newClientMessageId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class Attachments {
  constructor({ button, input, dropZone, pasteTarget, progress, client, view, conversationId, onError }) {
    this.input = input;
    this.progress = progress; // { box, label, bar, cancel }
    this.client = client;
    this.view = view;
    this.conversationId = conversationId;
    this.onError = onError;
    this.current = null;
    button.addEventListener('click', () => input.click());
    input.addEventListener('change', () => {
      if (input.files[0]) this.send(input.files[0]);
      input.value = '';
    });
    dropZone.addEventListener('dragover', (event) => {
      if (!event.dataTransfer?.types.includes('Files')) return;
      event.preventDefault();
      dropZone.classList.add('drop-target');
    });
    dropZone.addEventListener('dragleave', () => dropZone.classList.remove('drop-target'));
    dropZone.addEventListener('drop', (event) => {
      dropZone.classList.remove('drop-target');
      const file = event.dataTransfer?.files[0];
      if (!file) return;
      event.preventDefault();
      this.send(file);
    });
    pasteTarget.addEventListener('paste', (event) => {
      const file = event.clipboardData?.files[0];
      if (!file) return;
      event.preventDefault();
      this.send(file);
    });
    progress.cancel.addEventListener('click', () => this.cancel());
  }

  // Upload a file to the open conversation and send it as a reply.
  async send(file) {
    if (this.current) this.cancel();
    const upload = {
      file,
      conversationId: this.conversationId(),
      uploadId: null,
      received: 0,
      cancelled: false,
      clientMessageId: newClientMessageId(),
    };
    this.current = upload;
    this.draw(upload, 'attach.uploading');
    try {
      const message = await this.run(upload);
      if (message && upload.conversationId === this.conversationId()) this.view.upsert(message);
    } catch (error) {
      if (!upload.cancelled) this.onError(t('attach.failed', { reason: error.message }));
    } finally {
      if (this.current === upload) this.hide();
    }
  }

  cancel() {
    if (!this.current) return;
    this.current.cancelled = true; // the server deletes the unfinished upload after an hour
    this.current = null;
    this.hide();
  }

  // Start (or resume) and send chunks until the file is complete, across reconnects.
  async run(upload) {
    const { file } = upload;
    while (!upload.cancelled) {
      const started = await this.client.call('upload_start', {
        conversationId: upload.conversationId,
        filename: file.name || 'file',
        mimeType: file.type || 'application/octet-stream',
        size: file.size,
        ...(upload.uploadId ? { uploadId: upload.uploadId } : {}),
      });
      if (started.error) {
        if (FINAL.has(started.error)) throw new Error(started.error);
        await this.connected(upload);
        continue;
      }
      if (upload.uploadId) this.draw(upload, 'attach.resuming');
      upload.uploadId = started.uploadId;
      upload.received = started.received;
      if (await this.sendChunks(upload, started.chunkSize)) return this.finish(upload);
      await this.connected(upload);
    }
    return null;
  }

  // Returns true once every byte has arrived; false when the socket went away.
  async sendChunks(upload, chunkSize) {
    const { file } = upload;
    while (upload.received < file.size) {
      if (upload.cancelled) return false;
      const offset = upload.received;
      const data = await file.slice(offset, offset + chunkSize).arrayBuffer();
      const ack = await this.client.call('upload_chunk', { uploadId: upload.uploadId, offset, data });
      if (upload.cancelled) return false;
      if (ack.error === 'Bad offset') {
        upload.received = ack.received;
      } else if (ack.error) {
        if (FINAL.has(ack.error)) throw new Error(ack.error);
        return false;
      } else {
        upload.received = ack.received;
      }
      this.drawProgress(upload);
    }
    return !upload.cancelled;
  }

  async finish(upload) {
    const ack = await this.client.call('upload_finish', {
      uploadId: upload.uploadId,
      clientMessageId: upload.clientMessageId,
    });
    if (ack.error) throw new Error(ack.error);
    return ack.message;
  }

  // Wait until the socket is back (or the upload was cancelled).
  async connected(upload) {
    do {
      await sleep(RECONNECT_POLL_MS);
    } while (!upload.cancelled && !this.client.getStatus().isConnected);
  }

  draw(upload, labelKey) {
    const { box, label } = this.progress;
    label.textContent = t(labelKey, { name: upload.file.name || 'file' });
    box.hidden = false;
    this.drawProgress(upload);
  }

  drawProgress(upload) {
    const { bar } = this.progress;
    bar.max = upload.file.size || 1;
    bar.value = upload.received;
    bar.dataset.received = String(upload.received);
  }

  hide() {
    this.progress.box.hidden = true;
  }
}
