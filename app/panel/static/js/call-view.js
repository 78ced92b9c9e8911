// The call view: call buttons for any user row, the "call support" button, the
// ringing prompt, and the call window (remote video, own preview, mute, camera,
// screen sharing, hang up). Signalling is the server's call_* events
// (docs/calls.md); the media are in peer-call.js.
//
//   const calls = attachCalls(client, user);
//   row.append(calls.callButtons(userId, name));   // on an admin's user list
//   calls.addSupportButton(header);                 // for users

import * as api from './api.js';
import { element } from './dom.js';
import { addText, t } from './i18n.js';
import { PeerCall } from './peer-call.js';

const ENDED_NOTICE_MS = 4000;
const KINDS = ['video', 'audio', 'screen'];
// Refusals that concern one admin only (gone, or no longer an admin): "call support" tries the next.
const SKIPPABLE = new Set(['User offline', 'Unauthorized', 'User not found']);

addText({
  en: {
    'call.video': 'Video call',
    'call.audio': 'Voice call',
    'call.screen': 'Share screen',
    'call.support': 'Call support',
    'call.column': 'Call',
    'call.short.video': 'Video',
    'call.short.audio': 'Voice',
    'call.short.screen': 'Screen',
    'call.incoming.video': '{name} is video calling you',
    'call.incoming.audio': '{name} is calling you',
    'call.incoming.screen': '{name} wants to share their screen',
    'call.calling': 'Calling {name}…',
    'call.connecting': 'Connecting…',
    'call.inCall': 'In a call with {name}',
    'call.accept': 'Accept',
    'call.reject': 'Decline',
    'call.cancel': 'Cancel',
    'call.hangUp': 'Hang up',
    'call.mute': 'Mute',
    'call.unmute': 'Unmute',
    'call.cameraOn': 'Camera',
    'call.cameraOff': 'Stop camera',
    'call.shareScreen': 'Share screen',
    'call.stopSharing': 'Stop sharing',
    'call.sharingScreen': 'You are sharing your screen',
    'call.ended.ended': 'Call ended',
    'call.ended.rejected': 'Call declined',
    'call.ended.timeout': 'No answer',
    'call.ended.disconnected': 'Call ended: connection lost',
    'call.ended.answered_elsewhere': 'Answered on another device',
    'call.ended.failed': 'The call could not connect',
    'call.refused.User offline': '{name} is offline',
    'call.refused.noSupport': 'No one from support is online',
    'call.refused': 'The call could not start: {error}',
    'call.noMedia': 'Camera, microphone or screen not available',
  },
  tr: {
    'call.video': 'Görüntülü ara',
    'call.audio': 'Sesli ara',
    'call.screen': 'Ekran paylaş',
    'call.support': 'Desteği ara',
    'call.column': 'Ara',
    'call.short.video': 'Görüntülü',
    'call.short.audio': 'Sesli',
    'call.short.screen': 'Ekran',
    'call.incoming.video': '{name} sizi görüntülü arıyor',
    'call.incoming.audio': '{name} sizi arıyor',
    'call.incoming.screen': '{name} ekranını paylaşmak istiyor',
    'call.calling': '{name} aranıyor…',
    'call.connecting': 'Bağlanıyor…',
    'call.inCall': '{name} ile görüşmede',
    'call.accept': 'Kabul et',
    'call.reject': 'Reddet',
    'call.cancel': 'İptal',
    'call.hangUp': 'Kapat',
    'call.mute': 'Sesi kapat',
    'call.unmute': 'Sesi aç',
    'call.cameraOn': 'Kamera',
    'call.cameraOff': 'Kamerayı kapat',
    'call.shareScreen': 'Ekran paylaş',
    'call.stopSharing': 'Paylaşımı durdur',
    'call.sharingScreen': 'Ekranınızı paylaşıyorsunuz',
    'call.ended.ended': 'Görüşme sona erdi',
    'call.ended.rejected': 'Arama reddedildi',
    'call.ended.timeout': 'Yanıt yok',
    'call.ended.disconnected': 'Görüşme bitti: bağlantı koptu',
    'call.ended.answered_elsewhere': 'Başka bir cihazda yanıtlandı',
    'call.ended.failed': 'Görüşme bağlanamadı',
    'call.refused.User offline': '{name} çevrimdışı',
    'call.refused.noSupport': 'Şu anda destek ekibinden kimse çevrimiçi değil',
    'call.refused': 'Arama başlatılamadı: {error}',
    'call.noMedia': 'Kamera, mikrofon veya ekran kullanılamıyor',
  },
});

function stylesheet() {
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = new URL('../css/call-view.css', import.meta.url).href;
  document.head.append(link);
}

function button(className, key, onClick) {
  const el = element('button', `call-control ${className}`, t(key));
  el.type = 'button';
  el.addEventListener('click', onClick);
  return el;
}

export class CallView {
  constructor(client, user) {
    this.client = client;
    this.user = user;
    // {id, kind, peerName, role: 'caller'|'callee', state: 'ringing'|'incoming'|'active', peer}
    this.call = null;
    this.root = element('section', 'call-window');
    this.root.setAttribute('aria-live', 'polite');
    this.root.hidden = true;
    this.endedTimer = null;
  }

  start() {
    stylesheet();
    document.body.append(this.root);
    this.client.on('call_incoming', (event) => this.onIncoming(event));
    this.client.on('call_accepted', (event) => this.onAccepted(event));
    this.client.on('call_signal', (event) => this.onSignal(event));
    this.client.on('call_ended', (event) => this.onEnded(event));
    this.client.on('disconnected', () => this.call && this.finish('disconnected'));
    document.addEventListener('languagechange', () => this.draw());
    return this;
  }

  // --- buttons for the rest of the page -------------------------------------

  // Video, voice and screen-share buttons for one user's row (disabled while the
  // page knows the user to be offline: the server would answer `User offline`).
  callButtons(userId, name, online = true) {
    const group = element('span', 'call-buttons');
    KINDS.forEach((kind) => {
      const el = element('button', `call-button call-${kind}`, t(`call.short.${kind}`));
      el.type = 'button';
      el.title = t(`call.${kind}`);
      el.setAttribute('aria-label', `${t(`call.${kind}`)}: ${name}`);
      el.dataset.userId = userId;
      el.disabled = !online;
      el.addEventListener('click', () => this.invite([{ id: userId, name }], kind));
      group.append(el);
    });
    return group;
  }

  // "Call support" (for users, not admins): rings the first admin who is online.
  addSupportButton(container, before = null) {
    const el = element('button', 'call-support-button', t('call.support'));
    el.type = 'button';
    el.id = 'call-support';
    el.hidden = true;
    el.addEventListener('click', () => this.callSupport());
    document.addEventListener('languagechange', () => {
      el.textContent = t('call.support');
    });
    container.insertBefore(el, before);
    if (this.user.role === 'ADMIN') return el;
    // GET /api/users lists the admins a user may call; without it there is no one to ring.
    this.supportAdmins().then((admins) => {
      el.hidden = admins.length === 0;
    });
    return el;
  }

  async supportAdmins() {
    try {
      const users = await api.call('/api/users');
      return (Array.isArray(users) ? users : users.users || []).filter((u) => u.id !== this.user.id);
    } catch {
      return [];
    }
  }

  async callSupport() {
    const admins = await this.supportAdmins();
    if (!admins.length) this.client.showNotification(t('call.refused.noSupport'), 'error');
    else this.invite(admins.map((a) => ({ id: a.id, name: a.name || t('call.support') })), 'audio', true);
  }

  // --- placing a call ---------------------------------------------------------

  // Ring the first of `targets` who is online (one target for a row's button).
  async invite(targets, kind, support = false) {
    if (this.call) return;
    for (const target of targets) {
      const ack = await this.client.emit('call_invite', { toUserId: target.id, kind });
      if (ack?.ok) {
        this.call = { id: ack.callId, kind, peerName: target.name, role: 'caller', state: 'ringing', peer: null };
        this.draw();
        return;
      }
      // Support: try the next admin unless the call could not go out at all.
      const next = ack?.error === 'User offline' || (support && SKIPPABLE.has(ack?.error));
      if (!next) {
        this.client.showNotification(t('call.refused', { error: ack?.error }), 'error');
        return;
      }
    }
    const key = support ? 'call.refused.noSupport' : 'call.refused.User offline';
    this.client.showNotification(t(key, { name: targets[0]?.name }), 'error');
  }

  async onAccepted({ callId }) {
    if (this.call?.id !== callId || this.call.role !== 'caller') return;
    this.call.state = 'active';
    if (await this.startMedia()) this.call?.peer?.offer();
  }

  // --- answering ----------------------------------------------------------------

  onIncoming({ callId, fromName, kind }) {
    if (this.call) return; // busy: the caller hears it ring out, or another socket answers
    this.call = { id: callId, kind, peerName: fromName, role: 'callee', state: 'incoming', peer: null };
    this.draw();
  }

  async accept() {
    const call = this.call;
    const ack = await this.client.emit('call_accept', { callId: call.id });
    if (this.call !== call) return;
    if (!ack?.ok) {
      this.finish(ack?.error === 'Call already answered' ? 'answered_elsewhere' : 'ended');
      return;
    }
    call.state = 'active';
    await this.startMedia();
  }

  reject() {
    this.client.emit('call_reject', { callId: this.call.id });
    this.finish('rejected');
  }

  // --- during the call ------------------------------------------------------

  async startMedia() {
    const call = this.call;
    call.peer = new PeerCall({
      kind: call.kind,
      isCaller: call.role === 'caller',
      signal: (data) => this.client.emit('call_signal', { callId: call.id, data }),
      onRemoteStream: (stream) => this.onRemoteStream(stream),
      onVideoSource: () => this.draw(),
      onFailed: () => this.hangUp('failed'),
    });
    window.currentCall = call; // for the browser tests' getStats()
    this.draw();
    try {
      await call.peer.start();
      this.draw();
      return true;
    } catch (error) {
      console.error('starting the call media failed', error);
      this.client.showNotification(t('call.noMedia'), 'error');
      this.hangUp('failed');
      return false;
    }
  }

  onSignal({ callId, data }) {
    if (this.call?.id === callId) this.call.peer?.receive(data);
  }

  // A remote video track is muted until its first frames arrive (and when the other
  // side sends none): the video area shows only while one of the two sides has video.
  onRemoteStream(stream) {
    stream.getVideoTracks().forEach((track) => {
      track.onmute = track.onunmute = () => this.draw();
    });
    this.showRemote(stream);
    this.draw();
  }

  showRemote(stream) {
    const video = this.root.querySelector('.call-remote');
    if (video && video.srcObject !== stream) video.srcObject = stream;
  }

  async toggleScreen() {
    const peer = this.call.peer;
    try {
      await peer.setVideo(peer.videoSource === 'screen' ? (this.call.kind === 'video' ? 'camera' : null) : 'screen');
    } catch (error) {
      console.warn('switching the video source failed', error);
      this.client.showNotification(t('call.noMedia'), 'error');
    }
  }

  async toggleCamera() {
    const peer = this.call.peer;
    try {
      await peer.setVideo(peer.videoSource === 'camera' ? null : 'camera');
    } catch (error) {
      console.warn('starting the camera failed', error);
      this.client.showNotification(t('call.noMedia'), 'error');
    }
  }

  toggleMute() {
    this.call.peer.setMuted(!this.call.peer.muted);
    this.draw();
  }

  hangUp(reason = 'ended') {
    if (!this.call) return;
    this.client.emit('call_end', { callId: this.call.id });
    this.finish(reason);
  }

  onEnded({ callId, reason }) {
    if (this.call?.id === callId) this.finish(reason);
  }

  // Tear the call down and say why for a few seconds.
  finish(reason) {
    this.call?.peer?.close();
    this.call = null;
    window.currentCall = null;
    this.ended = reason;
    this.draw();
    clearTimeout(this.endedTimer);
    this.endedTimer = setTimeout(() => {
      this.ended = null;
      this.draw();
    }, ENDED_NOTICE_MS);
  }

  // --- drawing --------------------------------------------------------------

  draw() {
    const call = this.call;
    this.root.hidden = !call && !this.ended;
    this.root.dataset.state = call ? call.state : 'ended';
    if (!call) {
      this.root.replaceChildren(element('p', 'call-status', this.ended ? t(`call.ended.${this.ended}`) : ''));
      return;
    }
    if (call.state === 'incoming') this.root.replaceChildren(...this.incomingParts(call));
    else if (call.state === 'ringing') this.root.replaceChildren(...this.ringingParts(call));
    else this.drawActive(call);
  }

  incomingParts(call) {
    const controls = element('div', 'call-controls');
    controls.append(
      button('call-accept', 'call.accept', () => this.accept()),
      button('call-reject danger', 'call.reject', () => this.reject()),
    );
    return [element('p', 'call-status', t(`call.incoming.${call.kind}`, { name: call.peerName })), controls];
  }

  ringingParts(call) {
    const controls = element('div', 'call-controls');
    controls.append(button('call-hangup danger', 'call.cancel', () => this.hangUp()));
    return [element('p', 'call-status', t('call.calling', { name: call.peerName })), controls];
  }

  // The videos stay in place across redraws (re-attaching would blink), the rest is redrawn.
  drawActive(call) {
    let stage = this.root.querySelector('.call-stage');
    if (!stage) {
      stage = element('div', 'call-stage');
      const remote = element('video', 'call-remote');
      const local = element('video', 'call-local');
      remote.autoplay = local.autoplay = remote.playsInline = local.playsInline = true;
      local.muted = true;
      stage.append(remote, local);
    }
    const peer = call.peer;
    const local = stage.querySelector('.call-local');
    const source = peer?.videoSource ?? null;
    if (peer && local.dataset.source !== String(source)) {
      local.srcObject = peer.localStream;
      local.dataset.source = String(source);
    }
    local.hidden = !source;
    const remoteVideo = peer?.remoteStream.getVideoTracks().some((track) => !track.muted);
    stage.classList.toggle('voice-only', !remoteVideo && !source);
    if (peer) this.showRemote(peer.remoteStream);
    const status = element('p', 'call-status', peer?.pc ? t('call.inCall', { name: call.peerName }) : t('call.connecting'));
    const parts = [status, stage];
    if (source === 'screen') parts.push(element('p', 'call-sharing', t('call.sharingScreen')));
    parts.push(this.activeControls(peer, source));
    this.root.replaceChildren(...parts);
  }

  activeControls(peer, source) {
    const controls = element('div', 'call-controls');
    const muted = peer?.muted;
    controls.append(
      button(`call-mute${muted ? ' active' : ''}`, muted ? 'call.unmute' : 'call.mute', () => this.toggleMute()),
      button(`call-camera${source === 'camera' ? ' active' : ''}`, source === 'camera' ? 'call.cameraOff' : 'call.cameraOn', () => this.toggleCamera()),
      button(`call-screen${source === 'screen' ? ' active' : ''}`, source === 'screen' ? 'call.stopSharing' : 'call.shareScreen', () => this.toggleScreen()),
      button('call-hangup danger', 'call.hangUp', () => this.hangUp()),
    );
    controls.querySelectorAll('button').forEach((b) => {
      b.disabled = !peer?.pc;
    });
    controls.querySelector('.call-hangup').disabled = false;
    return controls;
  }
}

// The page's call view (also window.callView, for the browser tests).
export function attachCalls(client, user) {
  const view = new CallView(client, user).start();
  window.callView = view;
  return view;
}
