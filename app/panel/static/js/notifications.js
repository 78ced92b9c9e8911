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
