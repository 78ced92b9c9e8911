// The admin view: every conversation, each agent's online state, connected users.

import * as api from './api.js';
import { coalesced } from './coalesce.js';
import { element } from './dom.js';
import { formatTime } from './format.js';
import { t } from './i18n.js';
import { attachCalls } from './call-view.js';
import { Directory } from './directory.js';
import { setUpSoundToggle } from './notifications.js';
import { createSocketClient, startPage } from './page.js';
import { ReportsAdmin } from './reports-admin.js';
import { UsersAdmin } from './users-admin.js';

// Presence changes are not pushed by the contract (only durable events and
// typing are), so the view polls GET /api/realtime/status this often.
const PRESENCE_POLL_MS = 5000;
const $ = (id) => document.getElementById(id);

class AdminView {
  constructor(user, client) {
    this.user = user;
    this.client = client;
    this.conversations = [];
    this.online = new Set();
    this.connectedUsers = null;
    this.refreshConversations = coalesced(() => this.loadConversations(), 150);
    this.calls = attachCalls(client, user);
    this.directory = new Directory(user);
    this.users = new UsersAdmin({ user, onChanged: () => this.directory.loadUsers() });
    this.reports = new ReportsAdmin();
  }

  start() {
    const refresh = () => this.refreshConversations();
    ['new_message', 'message_read', 'conversation_updated', 'connected', 'reconnected', 'resync_required'].forEach((event) =>
      this.client.on(event, refresh),
    );
    // This page's own socket makes its user online: show it without waiting a period.
    ['connected', 'reconnected'].forEach((event) => this.client.on(event, () => this.loadPresence()));
    document.addEventListener('languagechange', () => {
      this.draw();
      this.users.draw();
      this.reports.draw();
    });
    this.directory.addEventListener('change', () => this.draw());
    this.directory.loadUsers();
    this.users.load();
    this.reports.load();
    setUpSoundToggle(document.getElementById('sound-toggle'));
    this.client.connect();
    this.refreshConversations();
    this.loadPresence();
    setInterval(() => this.loadPresence(), PRESENCE_POLL_MS);
  }

  async loadConversations() {
    this.conversations = await api.conversations();
    this.draw();
  }

  async loadPresence() {
    try {
      const { connectedUsers, onlineUserIds } = await api.realtimeStatus();
      this.connectedUsers = connectedUsers;
      this.online = new Set(onlineUserIds);
      this.users.setOnline(this.online);
      this.draw();
    } catch (error) {
      console.warn('Reading /api/realtime/status failed', error);
    }
  }

  draw() {
    $('connected-users').textContent = this.connectedUsers ?? '–';
    $('conversation-count').textContent = this.conversations.length;
    $('unread-total').textContent = this.conversations.reduce((sum, c) => sum + (c.unreadCount || 0), 0);
    $('agent-table').tBodies[0].replaceChildren(...this.agents().map((agent) => this.agentRow(agent)));
    $('admin-conversation-table').tBodies[0].replaceChildren(...this.conversations.map((c) => this.conversationRow(c)));
  }

  // Every agent who owns a conversation or is online, with their totals.
  agents() {
    const agents = new Map();
    const agent = (id) => {
      if (!agents.has(id)) agents.set(id, { id, conversations: 0, unread: 0 });
      return agents.get(id);
    };
    this.conversations.forEach((c) => {
      const a = agent(c.userId);
      a.conversations += 1;
      a.unread += c.unreadCount || 0;
    });
    this.online.forEach((id) => agent(id));
    return [...agents.values()].sort((a, b) => a.id - b.id);
  }

  agentName(id) {
    if (id === this.user.id) return `${this.user.name || this.user.email} (${t('admin.you')})`;
    return this.directory.nameOf(id);
  }

  presence(id) {
    const online = this.online.has(id);
    const cell = element('span', `presence presence-${online ? 'online' : 'offline'}`);
    cell.append(element('span', 'presence-dot'), element('span', 'presence-label', t(online ? 'admin.online' : 'admin.offline')));
    return cell;
  }

  agentRow(agent) {
    const row = element('tr');
    row.dataset.userId = agent.id;
    const status = element('td');
    status.append(this.presence(agent.id));
    const call = element('td');
    if (agent.id !== this.user.id) call.append(this.calls.callButtons(agent.id, this.agentName(agent.id), this.online.has(agent.id)));
    row.append(element('td', null, this.agentName(agent.id)), status, element('td', 'num', agent.conversations), element('td', 'num', agent.unread), call);
    return row;
  }

  conversationRow(conversation) {
    const row = element('tr', 'clickable');
    row.dataset.conversationId = conversation.id;
    const customer = element('td');
    const link = element('a', null, conversation.customerName || conversation.customerPhone);
    link.href = `/client?conversation=${conversation.id}`;
    customer.append(link, element('div', 'muted', conversation.customerPhone));
    const agent = element('td');
    agent.append(element('div', null, this.agentName(conversation.userId)), this.presence(conversation.userId));
    const unread = element('td', 'num');
    if (conversation.unreadCount > 0) unread.append(element('span', 'unread-badge', conversation.unreadCount));
    row.append(
      customer,
      agent,
      element('td', 'preview-cell', conversation.lastMessage),
      element('td', null, formatTime(conversation.lastMessageAt)),
      unread,
    );
    return row;
  }
}

const user = startPage({ adminOnly: true });
if (user) new AdminView(user, createSocketClient()).start();
