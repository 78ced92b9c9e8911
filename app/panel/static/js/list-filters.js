// The conversation list's filters (status, label, unread, owner) and its search box.

import * as api from './api.js';
import { element } from './dom.js';
import { formatTime } from './format.js';
import { t } from './i18n.js';

const SEARCH_DELAY_MS = 250;
const $ = (id) => document.getElementById(id);

// A select's options replaced by [value, text] pairs, keeping the chosen value if still there.
function fillSelect(select, options) {
  const chosen = select.value;
  select.replaceChildren(...options.map(([value, text]) => {
    const option = element('option', null, text);
    option.value = value;
    return option;
  }));
  select.value = options.some(([value]) => value === chosen) ? chosen : '';
}

export class ListFilters {
  constructor({ onChange, showOwner }) {
    this.onChange = onChange;
    this.showOwner = showOwner;
    ['filter-status', 'filter-label', 'filter-owner'].forEach((id) => $(id).addEventListener('change', onChange));
    $('filter-unread').addEventListener('change', onChange);
    $('filter-owner').hidden = !showOwner;
  }

  // The conversations that pass every filter.
  apply(conversations) {
    const status = $('filter-status').value;
    const label = $('filter-label').value;
    const owner = $('filter-owner').value;
    const unread = $('filter-unread').checked;
    return conversations.filter(
      (c) =>
        (!status || c.status === status) &&
        (!label || (c.labels || []).includes(label)) &&
        (!owner || String(c.userId) === owner) &&
        (!unread || c.unreadCount > 0),
    );
  }

  // Offer the labels and owners found in the list (and the statuses, translated).
  update(conversations, nameOf) {
    const statuses = ['open', 'pending', 'resolved', 'snoozed'].map((s) => [s, t(`cstatus.${s}`)]);
    fillSelect($('filter-status'), [['', t('filter.anyStatus')], ...statuses]);
    const labels = [...new Set(conversations.flatMap((c) => c.labels || []))].sort();
    fillSelect($('filter-label'), [['', t('filter.anyLabel')], ...labels.map((l) => [l, l])]);
    const owners = [...new Set(conversations.map((c) => c.userId))];
    const named = owners.map((id) => [String(id), nameOf(id)]).sort((a, b) => a[1].localeCompare(b[1]));
    fillSelect($('filter-owner'), [['', t('filter.anyOwner')], ...named]);
  }
}

// Search as one types: results replace the list until the box is emptied.
export class SearchBox {
  constructor({ onOpen, onToggle }) {
    this.onOpen = onOpen;
    this.onToggle = onToggle; // (searching: boolean)
    this.timer = null;
    this.latest = 0;
    $('search-input').addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.run(), SEARCH_DELAY_MS);
    });
    $('search-results').addEventListener('click', (event) => {
      const item = event.target.closest('.search-result');
      if (item) this.onOpen(Number(item.dataset.conversationId));
    });
  }

  async run() {
    const q = $('search-input').value.trim();
    const ticket = ++this.latest;
    this.onToggle(Boolean(q));
    if (!q) {
      $('search-results').replaceChildren();
      return;
    }
    try {
      const { results } = await api.search(q);
      if (ticket === this.latest) this.draw(results);
    } catch (error) {
      if (ticket === this.latest) this.draw([], error.status === 400 ? null : error.message);
    }
  }

  draw(results, error) {
    const list = $('search-results');
    if (error) {
      list.replaceChildren(element('li', 'empty', error));
      return;
    }
    if (!results.length) {
      list.replaceChildren(element('li', 'empty', t('search.none')));
      return;
    }
    list.replaceChildren(...results.map((result) => this.item(result)));
  }

  item({ message, conversation, highlight }) {
    const item = element('li', 'search-result');
    item.dataset.conversationId = conversation.id;
    item.dataset.messageId = message.id;
    const top = element('span', 'conversation-top');
    top.append(
      element('span', 'conversation-name', conversation.customerName || conversation.customerPhone),
      element('time', 'conversation-time', formatTime(message.timestamp)),
    );
    item.append(top, highlighted(highlight));
    return item;
  }
}

// The server's highlight (HTML-escaped text with <mark> around matches) as DOM
// nodes, built as text: nothing of it is ever parsed as HTML.
function highlighted(snippet) {
  const text = element('span', 'search-snippet');
  const decode = (s) => s.replace(/&(lt|gt|quot|#x27|amp);/g, (m, name) => ({ lt: '<', gt: '>', quot: '"', '#x27': "'", amp: '&' })[name]);
  snippet.split(/(<mark>.*?<\/mark>)/).forEach((part) => {
    const match = /^<mark>(.*)<\/mark>$/.exec(part);
    text.append(match ? element('mark', null, decode(match[1])) : document.createTextNode(decode(part)));
  });
  return text;
}
