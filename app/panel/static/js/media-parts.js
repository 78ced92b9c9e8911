// The rich parts of a message bubble: its file (image, voice note, video,
// document, sticker), a location, the quoted message and the reactions.

import { element } from './dom.js';
import { t } from './i18n.js';

const MAP_URL = 'https://www.openstreetmap.org/';

// "48 KB", "3.2 MB".
export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function link(href, className, text) {
  const a = element('a', className, text);
  a.href = href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  return a;
}

function imagePart(media, sticker) {
  const img = element('img', sticker ? 'media-sticker' : 'media-image');
  img.src = (!sticker && media.thumbnailUrl) || media.url;
  img.alt = media.caption || media.filename || t(sticker ? 'media.sticker' : 'media.image');
  img.loading = 'lazy';
  if (sticker) return img;
  const full = link(media.url, 'media-image-link'); // click: the full-size picture
  full.append(img);
  return full;
}

function playerPart(media, tag) {
  const player = element(tag, `media-${tag}`);
  player.controls = true;
  player.preload = 'metadata';
  player.src = media.url;
  if (tag === 'audio' && media.voice) player.dataset.voice = 'true';
  const label = tag === 'audio' && media.voice ? t('media.voice') : null;
  if (!label) return player;
  const wrap = element('div', 'media-voice');
  wrap.append(element('span', 'media-voice-label', `🎤 ${label}`), player);
  return wrap;
}

function documentPart(media) {
  const doc = element('div', 'media-document');
  doc.append(
    element('span', 'media-document-icon', '📄'),
    element('span', 'media-document-name', media.filename || t('media.document')),
    element('span', 'media-document-size', formatSize(media.size)),
    link(media.url, 'media-download', t('media.download')),
  );
  return doc;
}

// The message's file as the element that shows or plays it.
export function mediaPart(message) {
  const media = message.media;
  if (!media) return null;
  const type = message.messageType;
  if (type === 'sticker') return imagePart(media, true);
  if (type === 'image' || (type !== 'document' && media.mimeType.startsWith('image/'))) {
    return imagePart(media, false);
  }
  if (media.mimeType.startsWith('audio/')) return playerPart(media, 'audio');
  if (media.mimeType.startsWith('video/')) return playerPart(media, 'video');
  return documentPart(media);
}

export function locationPart(location) {
  if (!location) return null;
  const { latitude, longitude } = location;
  const href = `${MAP_URL}?mlat=${latitude}&mlon=${longitude}#map=16/${latitude}/${longitude}`;
  const place = element('div', 'media-location');
  place.append(link(href, 'media-location-link', `📍 ${location.name || t('media.location')}`));
  if (location.address) place.append(element('span', 'media-location-address', location.address));
  return place;
}

// The quoted message above a reply (its text, or its type when it has none).
export function quotePart(quoted) {
  if (!quoted) return null;
  const quote = element('blockquote', 'message-quote');
  quote.dataset.quotedId = quoted.id;
  const text = quoted.messageContent || t(`media.${quoted.messageType}`);
  quote.append(element('span', 'message-quote-text', text));
  return quote;
}

export function reactionsPart(reactions) {
  const entries = Object.entries(reactions || {});
  if (!entries.length) return null;
  const badge = element('span', 'message-reactions');
  badge.title = t('media.reactions');
  badge.textContent = entries.map(([emoji, count]) => (count > 1 ? `${emoji} ${count}` : emoji)).join(' ');
  return badge;
}
