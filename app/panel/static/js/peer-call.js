// One WebRTC call's media: the local microphone and camera or screen, the
// RTCPeerConnection, and the SDP/ICE exchange carried by call_signal.
//
// The caller's offer always holds one audio and one video transceiver, both
// sendrecv, even for a voice call: switching between camera and screen, or
// turning video on later, is then a replaceTrack on the video sender and never
// needs a new offer.

import * as api from './api.js';

// The camera fills a small call window: VGA is enough and spares the relay's
// bandwidth. A shared screen keeps its own size, so its text stays legible.
const CAMERA = { width: { ideal: 640 }, height: { ideal: 480 } };

// What each side sends at first, by the call's kind and its role in the call.
function initialVideo(kind, isCaller) {
  if (kind === 'video') return 'camera';
  if (kind === 'screen' && isCaller) return 'screen';
  return null;
}

export class PeerCall {
  // signal(data) sends call_signal; onRemoteStream(stream) shows the other side;
  // onVideoSource(source) tells the view what this side now sends ('camera', 'screen', null).
  constructor({ kind, isCaller, signal, onRemoteStream, onVideoSource, onFailed }) {
    this.kind = kind;
    this.isCaller = isCaller;
    this.signal = signal;
    this.onRemoteStream = onRemoteStream;
    this.onVideoSource = onVideoSource;
    this.onFailed = onFailed;
    this.pc = null;
    this.audioTrack = null;
    this.videoTrack = null;
    this.videoSource = null;
    this.remoteStream = new MediaStream();
    this.pendingCandidates = [];
    this.closed = false;
    // Signalling is handled one message at a time, after the media are ready:
    // an offer can arrive while the callee's camera is still starting.
    this.queue = Promise.resolve();
  }

  // The local stream shown in the small preview (audio excluded: no echo).
  get localStream() {
    return new MediaStream(this.videoTrack ? [this.videoTrack] : []);
  }

  // Get the media and build the connection; signalling waits for this.
  start() {
    this.queue = this.queue.then(() => this.open());
    return this.queue;
  }

  async open() {
    const { iceServers } = await api.iceServers();
    const policy = window.callConfig?.iceTransportPolicy || 'all';
    this.pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: policy });
    this.pc.addEventListener('icecandidate', ({ candidate }) => {
      if (candidate) this.signal({ candidate: candidate.toJSON() });
    });
    this.pc.addEventListener('track', ({ track }) => {
      this.remoteStream.addTrack(track);
      this.onRemoteStream(this.remoteStream);
    });
    this.pc.addEventListener('connectionstatechange', () => {
      if (this.pc.connectionState === 'failed') this.onFailed?.();
    });
    const [microphone] = (await navigator.mediaDevices.getUserMedia({ audio: true })).getAudioTracks();
    this.audioTrack = microphone;
    await this.setVideo(initialVideo(this.kind, this.isCaller));
  }

  // Caller: offer both transceivers once the callee has answered.
  offer() {
    this.queue = this.queue.then(() => this.sendOffer());
    return this.queue;
  }

  async sendOffer() {
    this.pc.addTransceiver(this.audioTrack, { direction: 'sendrecv' });
    this.pc.addTransceiver(this.videoTrack || 'video', { direction: 'sendrecv' });
    await this.pc.setLocalDescription(await this.pc.createOffer());
    this.signal({ description: this.pc.localDescription.toJSON() });
  }

  // Signalling from the other side: its offer or answer, or an ICE candidate.
  receive(data) {
    this.queue = this.queue.then(() => this.handle(data)).catch((error) => {
      console.error('call signalling failed', error);
      this.onFailed?.();
    });
    return this.queue;
  }

  async handle(data) {
    if (this.closed || !this.pc) return;
    if (data?.description) {
      await this.pc.setRemoteDescription(data.description);
      if (data.description.type === 'offer') await this.sendAnswer();
      await this.flushCandidates();
    } else if (data?.candidate) {
      // Events of one socket may be handled out of order by the server: a
      // candidate can come before the description it belongs to.
      if (this.pc.remoteDescription) await this.pc.addIceCandidate(data.candidate);
      else this.pendingCandidates.push(data.candidate);
    }
  }

  async sendAnswer() {
    const [audio, video] = this.transceivers();
    audio.direction = video.direction = 'sendrecv';
    await audio.sender.replaceTrack(this.audioTrack);
    await video.sender.replaceTrack(this.videoTrack);
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.signal({ description: this.pc.localDescription.toJSON() });
  }

  async flushCandidates() {
    const waiting = this.pendingCandidates.splice(0);
    for (const candidate of waiting) await this.pc.addIceCandidate(candidate);
  }

  // [audio, video] transceivers, in the order the offer made them.
  transceivers() {
    const all = this.pc.getTransceivers();
    const ofKind = (kind) => all.find((t) => t.receiver.track.kind === kind);
    return [ofKind('audio'), ofKind('video')];
  }

  get muted() {
    return this.audioTrack ? !this.audioTrack.enabled : false;
  }

  setMuted(muted) {
    if (this.audioTrack) this.audioTrack.enabled = !muted;
  }

  // Send the camera, the screen, or no video; the old track is stopped.
  async setVideo(source) {
    let track = null;
    if (source === 'camera') {
      [track] = (await navigator.mediaDevices.getUserMedia({ video: CAMERA })).getVideoTracks();
    } else if (source === 'screen') {
      [track] = (await navigator.mediaDevices.getDisplayMedia({ video: true })).getVideoTracks();
      // The browser's own "stop sharing" button ends the track: go back to no video.
      track.addEventListener('ended', () => {
        if (this.videoTrack === track) this.setVideo(null);
      });
    }
    const previous = this.videoTrack;
    this.videoTrack = track;
    this.videoSource = track ? source : null;
    const video = this.pc?.getTransceivers().length ? this.transceivers()[1] : null;
    if (video) await video.sender.replaceTrack(track);
    previous?.stop();
    this.onVideoSource?.(this.videoSource);
  }

  // Bytes received so far over the connection (for the view's quality line and tests).
  async bytesReceived() {
    if (!this.pc) return 0;
    let total = 0;
    (await this.pc.getStats()).forEach((report) => {
      if (report.type === 'inbound-rtp') total += report.bytesReceived || 0;
    });
    return total;
  }

  close() {
    this.closed = true;
    [this.audioTrack, this.videoTrack].forEach((track) => track?.stop());
    this.pc?.close();
  }
}
