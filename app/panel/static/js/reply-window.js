// WhatsApp's 24-hour window of the open conversation: the time left in the
// header, and which composer is shown (free text while open, templates after).

import { t } from './i18n.js';

const TICK_MS = 30_000;

// Milliseconds left before windowExpiresAt (0 when closed or never opened).
export function timeLeft(windowExpiresAt, now = Date.now()) {
  const closes = Date.parse(windowExpiresAt || '');
  return Number.isNaN(closes) ? 0 : Math.max(0, closes - now);
}

// "5 h 12 min" / "5 sa 12 dk"; under a minute counts as one.
export function formatLeft(ms) {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (!hours) return t('window.minutes', { minutes: rest });
  return t('window.hoursMinutes', { hours, minutes: rest });
}

export class ReplyWindow {
  // label: the header's element; onChange(open): called when the composer must switch.
  constructor(label, onChange) {
    this.label = label;
    this.onChange = onChange;
    this.expiresAt = null;
    this.known = false;
    this.open = null;
    setInterval(() => this.draw(), TICK_MS);
  }

  // The open conversation's windowExpiresAt (undefined: no conversation open).
  show(windowExpiresAt) {
    this.known = windowExpiresAt !== undefined;
    this.expiresAt = windowExpiresAt ?? null;
    this.draw();
  }

  draw() {
    if (!this.known) {
      this.label.hidden = true;
      return;
    }
    const left = timeLeft(this.expiresAt);
    const open = left > 0;
    this.label.hidden = false;
    this.label.dataset.state = open ? 'open' : 'closed';
    if (open) this.label.textContent = t('window.left', { time: formatLeft(left) });
    else this.label.textContent = t(this.expiresAt ? 'window.closed' : 'window.never');
    if (open !== this.open) {
      this.open = open;
      this.onChange(open);
    }
  }
}
