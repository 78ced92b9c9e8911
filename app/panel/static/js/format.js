// Dates and short labels in the interface language.

import { language } from './i18n.js';

function locale() {
  return language() === 'tr' ? 'tr-TR' : 'en-GB';
}

// "14:05" for today, "3 Feb 14:05" otherwise.
export function formatTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const time = { hour: '2-digit', minute: '2-digit' };
  const sameDay = date.toDateString() === new Date().toDateString();
  const options = sameDay ? time : { day: 'numeric', month: 'short', ...time };
  return new Intl.DateTimeFormat(locale(), options).format(date);
}

