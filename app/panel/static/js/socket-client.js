// SocketClient: the panel's one connection to the server's Socket.IO endpoint.
//
// It connects with the stored token, re-joins its conversation rooms after every
// reconnect, resumes from the last eventId it saw (the server replays what was
// missed), drops durable events it has already seen, and falls back to polling
// GET /api/events when the socket stays down. It never gives up on the socket:
// retries every 1 to 5 s, and at once when a poll or the browser's `online`
// event shows the server is reachable again. Pages listen with on()/off().

import * as api from './api.js';
import { EventCursor } from './event-cursor.js';
import * as notifications from './notifications.js';
import * as session from './session.js';

const DURABLE_EVENTS = [
  'new_message',
  'message_read',
  'message_status',
  'message_reaction',
  'message_media',
  'conversation_updated',
];
// Call signalling (call-view.js): ephemeral, passed on as they come.
const CALL_EVENTS = ['call_incoming', 'call_accepted', 'call_signal', 'call_ended'];
// Back-off from 1 s doubling to at most 5 s (jitter included), without end: a
// page left open through a long outage is live again within seconds of its end.
const RECONNECTION = {
  reconnection: true,
  reconnectionDelay: 1000,
  reconnectionDelayMax: 5000,
  reconnectionAttempts: Infinity,
};
// After this many failed attempts the page also polls the event log meanwhile.
const POLL_AFTER_ATTEMPTS = 5;
const POLL_INTERVAL_MS = 30000;
const POLL_PAGE_SIZE = 1000;
const TYPING_THROTTLE_MS = 500;
const ACK_TIMEOUT_MS = 5000;
// The server drops a socket's events beyond 10 a second; stay below that.
const EMITS_PER_SECOND = 8;
// A server that cuts the socket again this soon after a connect is refusing us.
const SERVER_DISCONNECT_GRACE_MS = 10000;
// Refusals from the server that another transport would not change.
const FINAL_REFUSALS = new Set(['Invalid messageId', 'Message not found', 'Unauthorized']);

export class SocketClient {
  constructor(io = window.io) {
    this.io = io;
    this.socket = null;
    this.isConnected = false;
    this.reconnectAttempts = 0;
    this.state = 'disconnected';
    this.handlers = new Map();
    this.cursor = new EventCursor();
    this.rooms = new Set();
    // Rooms the server has confirmed joining on this connection.
    this.joinedRooms = new Set();
    this.typingSentAt = new Map();
    this.outbox = [];
    this.sentAt = [];
    this.drainTimer = null;
    this.pollTimer = null;
    this.connectedAt = null;
    this.everConnected = false;
    this.resumable = false;
    this.authRetried = false;
    window.addEventListener('online', () => this.reconnectNow());
  }

  // --- the page's own events -------------------------------------------------

  on(event, handler) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(handler);
    return this;
  }

  off(event, handler) {
    if (handler) this.handlers.get(event)?.delete(handler);
    else this.handlers.delete(event);
    return this;
  }

  trigger(event, data) {
    for (const handler of this.handlers.get(event) || []) {
      try {
        handler(data);
      } catch (error) {
        console.error(`SocketClient handler for ${event} failed`, error);
      }
    }
  }

  getStatus() {
    return {
      isConnected: this.isConnected,
      socketId: this.socket?.id ?? null,
      reconnectAttempts: this.reconnectAttempts,
      joinedRooms: [...this.joinedRooms],
    };
  }

  // --- connection ------------------------------------------------------------

  async connect() {
    if (this.socket) {
      if (!this.isConnected) this.socket.connect();
      return this;
    }
    this.setState('connecting');
    this.socket = this.io({
      // websocket only: no sticky sessions needed when several processes serve.
      transports: ['websocket'],
      auth: (send) => this.handshakeAuth().then(send),
      ...RECONNECTION,
    });
    this.listen();
    return this;
  }

  disconnect() {
    this.stopPolling();
    this.socket?.disconnect();
  }

  // The server looks reachable again (a poll answered, the browser is back
  // online): try the socket now rather than when the back-off would.
  reconnectNow() {
    if (!this.socket || this.isConnected || this.state === 'disconnected') return;
    this.socket.disconnect(); // not connected: drops the pending attempt or back-off
    this.socket.connect();
  }

  // The handshake's auth, read at every (re)connect: a freshly refreshed access
  // token and, once any durable event was seen, where to resume from.
  async handshakeAuth() {
    let token = session.accessToken();
    try {
      token = await api.refreshAccessToken();
    } catch {
      // Offline or refused: the stored token is all there is (a refused refresh
      // token has already sent the page to the login form).
    }
    const auth = { token };
    this.resumable = this.cursor.lastEventId !== null;
    if (this.resumable) auth.lastEventId = this.cursor.lastEventId;
    return auth;
  }

  listen() {
    const socket = this.socket;
    socket.on('connect', () => this.onConnect());
    socket.on('disconnect', (reason) => this.onDisconnect(reason));
    socket.on('connect_error', (error) => this.onConnectError(error));
    socket.io.on('reconnect_attempt', (attempt) => this.onReconnectAttempt(attempt));
    DURABLE_EVENTS.forEach((name) => socket.on(name, (data) => this.receive(name, data)));
    socket.on('user_typing', (data) => this.trigger('user_typing', data));
    CALL_EVENTS.forEach((name) => socket.on(name, (data) => this.trigger(name, data)));
    socket.on('resync_required', () => this.trigger('resync_required', {}));
    socket.on('upload_progress', (data) => this.trigger('upload_progress', data));
    socket.on('error', (data) => this.trigger('error', data));
  }

  onConnect() {
    const reconnected = this.everConnected;
    this.isConnected = true;
    this.everConnected = true;
    this.connectedAt = Date.now();
    this.reconnectAttempts = 0;
    this.authRetried = false;
    this.stopPolling();
    this.setState('connected');
    this.rooms.forEach((id) => this.sendJoin(id));
    if (!reconnected) {
      this.trigger('connected', this.getStatus());
      return;
    }
    // Without a cursor the server cannot replay what was missed: reload instead.
    if (!this.resumable) this.trigger('resync_required', {});
    this.trigger('reconnected', this.getStatus());
  }

  onDisconnect(reason) {
    this.isConnected = false;
    this.joinedRooms.clear();
    this.trigger('disconnected', { reason });
    if (reason === 'io client disconnect') {
      this.setState('disconnected');
    } else if (reason === 'io server disconnect') {
      this.onServerDisconnect();
    } else {
      this.setState('reconnecting');
    }
  }

  // The server closed the session (an expired or revoked token does that): come
  // back with a fresh token, unless it keeps refusing us; then poll.
  onServerDisconnect() {
    if (Date.now() - this.connectedAt < SERVER_DISCONNECT_GRACE_MS) {
      this.startPolling();
      return;
    }
    this.setState('reconnecting');
    this.socket.connect();
  }

  onConnectError(error) {
    this.isConnected = false;
    if (error?.message === 'User not found') {
      session.redirectToLogin();
    } else if (error?.message === 'Authentication failed') {
      this.onAuthenticationFailed();
    } else if (!this.socket.active) {
      // Refused by the server for another reason (e.g. too many sockets).
      this.startPolling();
    }
  }

  // The handshake refreshes the token each time, so one more try settles it.
  onAuthenticationFailed() {
    if (this.authRetried) {
      session.redirectToLogin();
      return;
    }
    this.authRetried = true;
    this.socket.connect();
  }

  onReconnectAttempt(attempt) {
    this.reconnectAttempts = attempt;
    if (attempt > POLL_AFTER_ATTEMPTS) this.startPolling();
    if (!this.pollTimer) this.setState('reconnecting');
    this.trigger('reconnecting', this.getStatus());
  }

  setState(state) {
    this.state = state;
    this.trigger('state', { state, ...this.getStatus() });
  }

  // --- durable events and the polling fallback ---------------------------------

  receive(event, data) {
    if (!this.cursor.accept(data?.eventId)) return;
    this.trigger(event, data);
  }

  // The socket stays down (or the server refused it): read the event log every
  // 30 s meanwhile, and retry the socket whenever a poll gets through.
  startPolling() {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => this.poll(), POLL_INTERVAL_MS);
    this.setState('polling');
    this.trigger('polling', this.getStatus());
    this.poll();
  }

  stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  async poll() {
    try {
      if (this.cursor.lastEventId === null) {
        // Nothing to resume from: the page reloads through REST; is the server there?
        this.trigger('resync_required', {});
        await api.health();
      } else {
        await this.readEventLog();
      }
    } catch (error) {
      console.warn('Polling failed', error);
      return;
    }
    this.reconnectNow();
  }

  // Every durable event after the cursor, a page of up to 1000 at a time.
  async readEventLog() {
    let after = this.cursor.lastEventId;
    let page;
    do {
      page = await api.events(after, POLL_PAGE_SIZE);
      page.events
        .filter(({ event }) => DURABLE_EVENTS.includes(event))
        .forEach(({ eventId, event, data }) => this.receive(event, { ...data, eventId }));
      after = page.lastEventId;
    } while (page.events.length === POLL_PAGE_SIZE);
  }

  // --- client -> server --------------------------------------------------------

  // Emit with an ack, paced below the server's rate limit; resolves with the ack,
  // or {error} when not connected or unanswered.
  emit(event, payload) {
    return new Promise((resolve) => {
      this.outbox.push({ event, payload, resolve });
      this.drain();
    });
  }

  drain() {
    while (this.outbox.length && !this.drainTimer) {
      const now = Date.now();
      this.sentAt = this.sentAt.filter((at) => now - at < 1000);
      if (this.sentAt.length >= EMITS_PER_SECOND) {
        const wait = 1000 - (now - this.sentAt[0]);
        this.drainTimer = setTimeout(() => {
          this.drainTimer = null;
          this.drain();
        }, wait);
        return;
      }
      this.send(this.outbox.shift(), now);
    }
  }

  send({ event, payload, resolve }, now) {
    if (!this.isConnected) {
      resolve({ error: 'Not connected' });
      return;
    }
    this.sentAt.push(now);
    this.socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (timeout, ack) => {
      resolve(timeout ? { error: 'No answer' } : ack);
    });
  }

  // Emit now, with an ack, outside the pacing above: the upload events have the
  // server's own limits (400 chunks a second). Resolves with the ack, or {error}.
  call(event, payload, timeoutMs = 30000) {
    return new Promise((resolve) => {
      if (!this.isConnected) {
        resolve({ error: 'Not connected' });
        return;
      }
      this.socket.timeout(timeoutMs).emit(event, payload, (timeout, ack) => {
        resolve(timeout ? { error: 'No answer' } : ack);
      });
    });
  }

  joinConversation(conversationId) {
    const id = Number(conversationId);
    this.rooms.add(id);
    if (!this.isConnected) return Promise.resolve({ error: 'Not connected' });
    return this.sendJoin(id);
  }

  sendJoin(id) {
    return this.emit('join_conversation', id).then((ack) => {
      if (ack && ack.ok && this.rooms.has(id)) this.joinedRooms.add(id);
      return ack;
    });
  }

  leaveConversation(conversationId) {
    const id = Number(conversationId);
    this.rooms.delete(id);
    this.joinedRooms.delete(id);
    this.typingSentAt.delete(id);
    if (!this.isConnected) return Promise.resolve({ error: 'Not connected' });
    return this.emit('leave_conversation', id);
  }

  // Typing: a repeated `true` goes out at most every 500 ms; a `false` after a
  // `true` always goes out.
  sendTyping(conversationId, isTyping) {
    const id = Number(conversationId);
    if (!this.isConnected) return;
    if (isTyping) {
      const last = this.typingSentAt.get(id);
      if (last !== undefined && Date.now() - last < TYPING_THROTTLE_MS) return;
      this.typingSentAt.set(id, Date.now());
    } else {
      if (!this.typingSentAt.has(id)) return;
      this.typingSentAt.delete(id);
    }
    this.emit('typing', { conversationId: id, isTyping: Boolean(isTyping) });
  }

  // Mark one message read: over the socket when connected, else (or when the
  // socket could not deliver it) through PATCH /api/messages/<id>/read.
  async markAsRead(messageId) {
    if (this.isConnected) {
      const ack = await this.emit('mark_read', { messageId: String(messageId) });
      if (ack?.ok || FINAL_REFUSALS.has(ack?.error)) return ack;
    }
    return api.markRead(messageId);
  }

  // --- notifications -----------------------------------------------------------

  requestNotificationPermission() {
    return notifications.requestPermission();
  }

  // A toast in the page for 4 s, plus a system notification (tag = message id)
  // when the page is in the background; clicking either triggers
  // `notification_click` with data so the page can open the conversation.
  showNotification(message, type = 'info', data = null) {
    const open = data ? (clicked) => this.trigger('notification_click', clicked) : null;
    if (document.hidden || !document.hasFocus()) {
      notifications.showBrowserNotification(message, data, open);
    }
    return notifications.showToast(message, type, data, open);
  }
}
