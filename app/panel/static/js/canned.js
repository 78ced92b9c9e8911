// Canned responses: "/shortcut" in the composer offers them; a dialog adds and deletes them.

import * as api from './api.js';
import { element } from './dom.js';
import { t } from './i18n.js';
import { showToast } from './notifications.js';

const $ = (id) => document.getElementById(id);
const MAX_OFFERED = 8;

export class CannedResponses {
  constructor({ user, input }) {
    this.user = user;
    this.input = input;
    this.items = null; // loaded on first use
    this.offered = [];
    this.active = 0;
    input.addEventListener('input', () => this.offer());
    input.addEventListener('keydown', (event) => this.onKey(event), { capture: true });
    // Closed when focus moves elsewhere on the page (a click on the menu itself
    // is handled on mousedown first); kept while the whole window is in the background.
    input.addEventListener('blur', () =>
      setTimeout(() => {
        if (document.hasFocus() && document.activeElement !== input) this.close();
      }, 150),
    );
    $('canned-menu').addEventListener('mousedown', (event) => {
      const item = event.target.closest('.canned-item');
      if (!item) return;
      event.preventDefault();
      this.pick(Number(item.dataset.index));
    });
    $('canned-open').addEventListener('click', () => this.openDialog());
    $('canned-close').addEventListener('click', () => $('canned-dialog').close());
    $('canned-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.create();
    });
    $('canned-shared-row').hidden = user.role !== 'ADMIN';
  }

  async load() {
    this.items = await api.cannedResponses();
    return this.items;
  }

  // "/kar" alone in the box: offer the answers whose shortcut starts with "kar".
  async offer() {
    const match = /^\/([^\s/]*)$/u.exec(this.input.value);
    if (!match) {
      this.close();
      return;
    }
    const items = this.items ?? (await this.load().catch(() => []));
    const prefix = match[1].toLowerCase();
    this.offered = items.filter((item) => item.shortcut.toLowerCase().startsWith(prefix)).slice(0, MAX_OFFERED);
    this.active = 0;
    this.drawMenu();
  }

  drawMenu() {
    const menu = $('canned-menu');
    menu.hidden = this.offered.length === 0;
    menu.replaceChildren(...this.offered.map((item, index) => {
      const row = element('li', `canned-item${index === this.active ? ' active' : ''}`);
      row.dataset.index = index;
      row.setAttribute('role', 'option');
      row.append(element('strong', null, `/${item.shortcut}`), element('span', 'canned-preview', item.content));
      if (item.shared) row.append(element('span', 'label-tag', t('canned.shared')));
      return row;
    }));
  }

  onKey(event) {
    if ($('canned-menu').hidden) return;
    const moves = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in moves) {
      event.preventDefault();
      this.active = (this.active + moves[event.key] + this.offered.length) % this.offered.length;
      this.drawMenu();
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      event.preventDefault();
      event.stopImmediatePropagation(); // Enter picks; it does not send
      this.pick(this.active);
    } else if (event.key === 'Escape') {
      this.close();
    }
  }

  pick(index) {
    const item = this.offered[index];
    if (!item) return;
    this.input.value = item.content;
    this.input.dispatchEvent(new Event('input'));
    this.close();
    this.input.focus();
  }

  close() {
    $('canned-menu').hidden = true;
    this.offered = [];
  }

  async openDialog() {
    await this.load().catch(() => []);
    this.drawList();
    $('canned-dialog').showModal();
  }

  drawList() {
    $('canned-list').replaceChildren(...(this.items || []).map((item) => {
      const row = element('li', 'canned-row');
      row.dataset.cannedId = item.id;
      row.append(element('strong', null, `/${item.shortcut}`), element('span', 'canned-preview', item.content));
      if (item.shared) row.append(element('span', 'label-tag', t('canned.shared')));
      if (!item.shared || this.user.role === 'ADMIN') {
        const remove = element('button', 'link-button', t('canned.delete'));
        remove.type = 'button';
        remove.addEventListener('click', () => this.remove(item.id));
        row.append(remove);
      }
      return row;
    }));
  }

  async create() {
    try {
      await api.createCannedResponse(
        $('canned-shortcut').value.trim().replace(/^\//, ''),
        $('canned-content').value,
        $('canned-shared').checked,
      );
      $('canned-form').reset();
      await this.load();
      this.drawList();
    } catch (error) {
      showToast(error.message, 'error');
    }
  }

  async remove(id) {
    try {
      await api.deleteCannedResponse(id);
      await this.load();
      this.drawList();
    } catch (error) {
      showToast(error.message, 'error');
    }
  }
}
