// Who is who: colleagues' names (GET /api/users) and who of them is online
// (GET /api/users/presence, polled: presence is not pushed over the socket).

import * as api from './api.js';
import { t } from './i18n.js';

const PRESENCE_POLL_MS = 5000;

export class Directory extends EventTarget {
  constructor(user) {
    super();
    this.user = user;
    this.users = new Map([[user.id, { id: user.id, name: user.name || user.email, role: user.role }]]);
    this.online = new Set();
  }

  async start() {
    await Promise.all([this.loadUsers(), this.loadPresence()]);
    setInterval(() => this.loadPresence(), PRESENCE_POLL_MS);
  }

  async loadUsers() {
    try {
      (await api.users()).forEach((user) => this.users.set(user.id, user));
      this.changed();
    } catch (error) {
      console.warn('Reading /api/users failed', error);
    }
  }

  async loadPresence() {
    try {
      this.online = new Set((await api.usersPresence()).onlineUserIds);
      this.changed();
    } catch (error) {
      console.warn('Reading /api/users/presence failed', error);
    }
  }

  changed() {
    this.dispatchEvent(new Event('change'));
  }

  // A user's name; an id the caller may not look up keeps a neutral label.
  nameOf(id) {
    return this.users.get(id)?.name || t('conversations.agent', { id });
  }

  // Active users a conversation may be transferred to (admins see everyone).
  activeUsers() {
    return [...this.users.values()].filter((user) => user.isActive !== false);
  }

  // Colleagues with a live socket, not counting the signed-in user.
  onlineColleagues() {
    return [...this.online].filter((id) => id !== this.user.id).map((id) => ({ id, name: this.nameOf(id) }));
  }
}
