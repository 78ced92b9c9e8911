// The admin page's user management: create, rename, change role, deactivate, reactivate.

import * as api from './api.js';
import { element } from './dom.js';
import { t } from './i18n.js';
import { showToast } from './notifications.js';

const $ = (id) => document.getElementById(id);

export class UsersAdmin {
  constructor({ user, onChanged }) {
    this.user = user;
    this.onChanged = onChanged; // after any change: the page reloads names
    this.users = [];
    this.online = new Set();
    $('user-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.create();
    });
  }

  async load() {
    this.users = await api.users();
    this.draw();
  }

  setOnline(online) {
    this.online = online;
    this.draw();
  }

  draw() {
    $('users-table').tBodies[0].replaceChildren(...this.users.map((user) => this.row(user)));
  }

  row(user) {
    const row = element('tr', user.isActive ? '' : 'inactive');
    row.dataset.userId = user.id;
    const name = element('input', 'name-input');
    name.value = user.name;
    name.maxLength = 255;
    name.setAttribute('aria-label', t('users.name'));
    name.addEventListener('change', () => this.change(user, { name: name.value.trim() }));
    const nameCell = element('td');
    nameCell.append(name);
    const role = element('select', 'role-select');
    ['USER', 'ADMIN'].forEach((value) => {
      const option = element('option', null, t(`users.role.${value}`));
      option.value = value;
      role.append(option);
    });
    role.value = user.role;
    role.disabled = user.id === this.user.id;
    role.addEventListener('change', () => this.change(user, { role: role.value }));
    const roleCell = element('td');
    roleCell.append(role);
    const online = this.online.has(user.id);
    const presence = element('span', `presence presence-${online ? 'online' : 'offline'}`);
    presence.append(element('span', 'presence-dot'), element('span', 'presence-label', t(online ? 'admin.online' : 'admin.offline')));
    const presenceCell = element('td');
    presenceCell.append(presence);
    const actionCell = element('td');
    if (user.id !== this.user.id) {
      const toggle = element('button', `link-button ${user.isActive ? 'deactivate' : 'activate'}`, t(user.isActive ? 'users.deactivate' : 'users.activate'));
      toggle.type = 'button';
      toggle.addEventListener('click', () => this.change(user, { isActive: !user.isActive }));
      actionCell.append(toggle);
    }
    row.append(nameCell, element('td', null, user.email), roleCell, element('td', null, t(user.isActive ? 'users.active' : 'users.inactive')), presenceCell, actionCell);
    return row;
  }

  async change(user, changes) {
    try {
      Object.assign(user, await api.updateUser(user.id, changes));
      showToast(t('actions.saved'), 'success');
      this.onChanged();
    } catch (error) {
      showToast(error.message, 'error');
    }
    this.draw();
  }

  async create() {
    try {
      await api.createUser({
        email: $('new-user-email').value.trim(),
        name: $('new-user-name').value.trim(),
        password: $('new-user-password').value,
        role: $('new-user-role').value,
      });
      $('user-form').reset();
      await this.load();
      this.onChanged();
    } catch (error) {
      showToast(error.message, 'error');
    }
  }
}
