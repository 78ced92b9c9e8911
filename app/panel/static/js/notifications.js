// Browser notifications and in-app toasts; toasts work with or without a socket.

const TOAST_MS = 4000;
const TITLE = 'WhatsApp Inbox';

export async function requestPermission() {
  if (!('Notification' in window)) return 'unsupported';
  if (Notification.permission !== 'default') return Notification.permission;
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

// A system notification when allowed; tag = message id so one message shows once.
export function showBrowserNotification(text, data, onClick) {
  if (!('Notification' in window) || Notification.permission !== 'granted') return null;
  const notification = new Notification(TITLE, { body: text, tag: data?.id != null ? String(data.id) : undefined });
  notification.onclick = () => {
    window.focus();
    onClick?.(data);
    notification.close();
  };
  return notification;
}

// A toast in the page's corner for four seconds; clicking it does what onClick says.
export function showToast(text, type = 'info', data, onClick) {
  const container = document.getElementById('toasts') || document.body;
  const toast = document.createElement('div');
  toast.className = `toast toast-${type}`;
  toast.setAttribute('role', type === 'error' ? 'alert' : 'status');
  toast.textContent = text;
  if (onClick) {
    toast.classList.add('clickable');
    toast.addEventListener('click', () => {
      onClick(data);
      toast.remove();
    });
  }
  container.appendChild(toast);
  setTimeout(() => toast.remove(), TOAST_MS);
  return toast;
}

// --- the tab title and the optional sound -------------------------------------

const SOUND_KEY = 'notificationSound';
let audio = null;

// "(3) WhatsApp Inbox" while 3 inbound messages are unread.
export function showUnreadInTitle(count, base = document.title.replace(/^\(\d+\) /, '')) {
  document.title = count > 0 ? `(${count}) ${base}` : base;
}

export function soundEnabled() {
  return localStorage.getItem(SOUND_KEY) === '1';
}

// Wire the header's sound checkbox to the remembered choice.
export function setUpSoundToggle(checkbox) {
  if (!checkbox) return;
  checkbox.checked = soundEnabled();
  checkbox.addEventListener('change', () => {
    localStorage.setItem(SOUND_KEY, checkbox.checked ? '1' : '0');
    if (checkbox.checked) playSound(); // the click lets the browser start audio
  });
}

// A short two-tone chime made with Web Audio (no sound file to serve); silent when off.
export function playSound() {
  if (!soundEnabled()) return false;
  try {
    audio = audio || new AudioContext();
    const now = audio.currentTime;
    [880, 1320].forEach((frequency, index) => {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, now + index * 0.12);
      gain.gain.exponentialRampToValueAtTime(0.2, now + index * 0.12 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + index * 0.12 + 0.25);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(now + index * 0.12);
      oscillator.stop(now + index * 0.12 + 0.3);
    });
    window.soundsPlayed = (window.soundsPlayed || 0) + 1; // read by the browser tests
    return true;
  } catch {
    return false;
  }
}
