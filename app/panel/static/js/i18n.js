// Interface text in English and Turkish: chosen from the browser, switchable, remembered.

const STORAGE_KEY = 'lang';
const LANGUAGES = ['en', 'tr'];

const TEXT = {
  en: {
    'app.title': 'WhatsApp Inbox',
    'nav.conversations': 'Conversations',
    'nav.admin': 'Admin',
    'nav.logout': 'Log out',
    'lang.label': 'Language',
    'login.email': 'Email',
    'login.password': 'Password',
    'login.submit': 'Log in',
    'login.failed': 'Wrong email or password.',
    'login.inactive': 'This account is inactive.',
    'login.rateLimited': 'Too many attempts. Try again in a minute.',
    'login.error': 'Login failed. Try again.',
    'connection.connecting': 'Connecting…',
    'connection.connected': 'Connected',
    'connection.reconnecting': 'Reconnecting…',
    'connection.polling': 'Offline: checking every 30 s',
    'connection.disconnected': 'Disconnected',
    'conversations.title': 'Conversations',
    'conversations.empty': 'No conversations yet.',
    'conversations.unread': '{count} unread',
    'conversations.agent': 'Agent #{id}',
    'conversation.select': 'Select a conversation.',
    'conversation.loadFailed': 'Could not load this conversation.',
    'conversation.typing': 'typing…',
    'reply.placeholder': 'Write a reply…',
    'reply.send': 'Send',
    'reply.retry': 'Retry',
    'reply.failed': 'Not delivered',
    'whatsappError.131047': 'Not delivered: more than 24 hours since the customer last wrote. Send a template.',
    'whatsappError.131026': 'Not delivered: the number cannot receive this message (not on WhatsApp, or an old app).',
    'whatsappError.131053': 'Not delivered: the media could not be uploaded (unsupported or too large).',
    'whatsappError.131056': 'Not delivered: too many messages to this customer in a short time. Retry later.',
    'window.left': '{time} left to reply freely',
    'window.hoursMinutes': '{hours} h {minutes} min',
    'window.minutes': '{minutes} min',
    'window.closed': '24-hour window closed: templates only',
    'window.never': 'The customer has not written yet: templates only',
    'template.label': 'Template',
    'template.send': 'Send template',
    'template.none': 'No templates configured',
    'template.parameter': 'Parameter {n}',
    'media.image': 'Photo',
    'media.audio': 'Audio',
    'media.voice': 'Voice message',
    'media.video': 'Video',
    'media.document': 'Document',
    'media.sticker': 'Sticker',
    'media.location': 'Location',
    'media.contacts': 'Contact',
    'media.interactive': 'Interactive message',
    'media.button': 'Button reply',
    'media.unsupported': 'Unsupported message',
    'media.text': 'Message',
    'media.download': 'Download',
    'media.reactions': 'Customer reaction',
    'attach.button': 'Attach a file',
    'attach.drop': 'Drop the file to send it',
    'attach.cancel': 'Cancel',
    'attach.uploading': 'Uploading {name}',
    'attach.resuming': 'Resuming {name}',
    'attach.failed': 'The file could not be sent: {reason}',
    'attach.tooLarge': 'The file is too large.',
    'status.pending': 'Sending',
    'status.sent': 'Sent',
    'status.delivered': 'Delivered',
    'status.read': 'Read',
    'status.failed': 'Failed',
    'notify.newMessage': 'New message: {name}',
    'notify.reconnected': 'Connection restored',
    'notify.connectionError': 'Connection error',
    'admin.connectedUsers': 'Connected users',
    'admin.conversations': 'Conversations',
    'admin.unread': 'Unread messages',
    'admin.agents': 'Agents',
    'admin.agent': 'Agent',
    'admin.presence': 'Status',
    'admin.online': 'Online',
    'admin.offline': 'Offline',
    'admin.you': 'you',
    'admin.allConversations': 'All conversations',
    'admin.customer': 'Customer',
    'admin.lastMessage': 'Last message',
    'admin.lastMessageAt': 'Time',
    'cstatus.open': 'Open',
    'cstatus.pending': 'Pending',
    'cstatus.resolved': 'Resolved',
    'cstatus.snoozed': 'Snoozed',
    'filter.anyStatus': 'Any status',
    'filter.anyLabel': 'Any label',
    'filter.anyOwner': 'Any agent',
    'filter.unread': 'Unread',
    'search.placeholder': 'Search messages…',
    'search.none': 'No messages found.',
    'colleagues.title': 'Colleagues online',
    'colleagues.none': 'No one else online.',
    'conversation.owner': 'Agent: {name}',
    'conversation.typingNamed': '{names} is typing…',
    'actions.status': 'Status',
    'actions.snooze': 'Snooze',
    'actions.labelsPlaceholder': 'Labels, comma separated',
    'actions.saveLabels': 'Save',
    'actions.transfer': 'Transfer to',
    'actions.saved': 'Saved',
    'note.mode': 'Internal note',
    'note.label': 'Internal note',
    'canned.manage': 'Canned responses',
    'canned.hint': 'Type / and the shortcut in the reply box.',
    'canned.shortcut': 'shortcut',
    'canned.content': 'Text',
    'canned.sharedLabel': 'Shared with everyone',
    'canned.add': 'Add',
    'canned.shared': 'shared',
    'canned.delete': 'Delete',
    'dialog.close': 'Close',
    'newConversation.open': 'New',
    'newConversation.title': 'Write to a new number',
    'newConversation.phone': 'Phone, e.g. +905551112233',
    'newConversation.name': 'Customer name (optional)',
    'newConversation.content': 'First message',
    'newConversation.hint': 'WhatsApp delivers a business’s first message only as an approved template.',
    'newConversation.send': 'Send',
    'header.sound': 'Sound',
    'users.title': 'Users',
    'users.name': 'Name',
    'users.email': 'Email',
    'users.password': 'Password (8+ characters)',
    'users.role.USER': 'Agent',
    'users.role.ADMIN': 'Admin',
    'users.roleHeader': 'Role',
    'users.state': 'Account',
    'users.create': 'Create user',
    'users.deactivate': 'Deactivate',
    'users.activate': 'Reactivate',
    'users.active': 'Active',
    'users.inactive': 'Deactivated',
    'reports.title': 'Reports',
    'reports.since': 'From',
    'reports.until': 'To',
    'reports.show': 'Show',
    'reports.opened': 'Opened',
    'reports.resolved': 'Resolved',
    'reports.firstResponseMinutes': 'First response (min)',
    'reports.resolutionMinutes': 'Resolution (min)',
  },
  tr: {
    'app.title': 'WhatsApp Gelen Kutusu',
    'nav.conversations': 'Konuşmalar',
    'nav.admin': 'Yönetim',
    'nav.logout': 'Çıkış yap',
    'lang.label': 'Dil',
    'login.email': 'E-posta',
    'login.password': 'Şifre',
    'login.submit': 'Giriş yap',
    'login.failed': 'E-posta veya şifre hatalı.',
    'login.inactive': 'Bu hesap devre dışı.',
    'login.rateLimited': 'Çok fazla deneme. Bir dakika sonra tekrar deneyin.',
    'login.error': 'Giriş başarısız. Tekrar deneyin.',
    'connection.connecting': 'Bağlanıyor…',
    'connection.connected': 'Bağlı',
    'connection.reconnecting': 'Yeniden bağlanıyor…',
    'connection.polling': 'Çevrimdışı: 30 sn’de bir kontrol ediliyor',
    'connection.disconnected': 'Bağlantı kesildi',
    'conversations.title': 'Konuşmalar',
    'conversations.empty': 'Henüz konuşma yok.',
    'conversations.unread': '{count} okunmamış',
    'conversations.agent': 'Temsilci #{id}',
    'conversation.select': 'Bir konuşma seçin.',
    'conversation.loadFailed': 'Bu konuşma yüklenemedi.',
    'conversation.typing': 'yazıyor…',
    'reply.placeholder': 'Yanıt yazın…',
    'reply.send': 'Gönder',
    'reply.retry': 'Tekrar dene',
    'reply.failed': 'İletilemedi',
    'whatsappError.131047': 'İletilemedi: müşterinin son mesajının üzerinden 24 saatten fazla geçti. Şablon gönderin.',
    'whatsappError.131026': 'İletilemedi: numara bu mesajı alamıyor (WhatsApp kullanmıyor ya da uygulaması eski).',
    'whatsappError.131053': 'İletilemedi: medya yüklenemedi (desteklenmeyen ya da çok büyük dosya).',
    'whatsappError.131056': 'İletilemedi: bu müşteriye kısa sürede çok fazla mesaj gönderildi. Sonra yeniden deneyin.',
    'window.left': 'Serbest yanıt için {time} kaldı',
    'window.hoursMinutes': '{hours} sa {minutes} dk',
    'window.minutes': '{minutes} dk',
    'window.closed': '24 saatlik pencere kapandı: yalnızca şablon',
    'window.never': 'Müşteri henüz yazmadı: yalnızca şablon',
    'template.label': 'Şablon',
    'template.send': 'Şablonu gönder',
    'template.none': 'Tanımlı şablon yok',
    'template.parameter': 'Parametre {n}',
    'media.image': 'Fotoğraf',
    'media.audio': 'Ses',
    'media.voice': 'Sesli mesaj',
    'media.video': 'Video',
    'media.document': 'Belge',
    'media.sticker': 'Çıkartma',
    'media.location': 'Konum',
    'media.contacts': 'Kişi',
    'media.interactive': 'Etkileşimli mesaj',
    'media.button': 'Düğme yanıtı',
    'media.unsupported': 'Desteklenmeyen mesaj',
    'media.text': 'Mesaj',
    'media.download': 'İndir',
    'media.reactions': 'Müşterinin tepkisi',
    'attach.button': 'Dosya ekle',
    'attach.drop': 'Göndermek için dosyayı bırakın',
    'attach.cancel': 'İptal',
    'attach.uploading': '{name} yükleniyor',
    'attach.resuming': '{name} yüklemesi sürüyor',
    'attach.failed': 'Dosya gönderilemedi: {reason}',
    'attach.tooLarge': 'Dosya çok büyük.',
    'status.pending': 'Gönderiliyor',
    'status.sent': 'Gönderildi',
    'status.delivered': 'İletildi',
    'status.read': 'Okundu',
    'status.failed': 'Başarısız',
    'notify.newMessage': 'Yeni mesaj: {name}',
    'notify.reconnected': 'Bağlantı yeniden kuruldu',
    'notify.connectionError': 'Bağlantı hatası',
    'admin.connectedUsers': 'Bağlı kullanıcılar',
    'admin.conversations': 'Konuşmalar',
    'admin.unread': 'Okunmamış mesajlar',
    'admin.agents': 'Temsilciler',
    'admin.agent': 'Temsilci',
    'admin.presence': 'Durum',
    'admin.online': 'Çevrimiçi',
    'admin.offline': 'Çevrimdışı',
    'admin.you': 'siz',
    'admin.allConversations': 'Tüm konuşmalar',
    'admin.customer': 'Müşteri',
    'admin.lastMessage': 'Son mesaj',
    'admin.lastMessageAt': 'Zaman',
    'cstatus.open': 'Açık',
    'cstatus.pending': 'Beklemede',
    'cstatus.resolved': 'Çözüldü',
    'cstatus.snoozed': 'Ertelendi',
    'filter.anyStatus': 'Tüm durumlar',
    'filter.anyLabel': 'Tüm etiketler',
    'filter.anyOwner': 'Tüm temsilciler',
    'filter.unread': 'Okunmamış',
    'search.placeholder': 'Mesajlarda ara…',
    'search.none': 'Mesaj bulunamadı.',
    'colleagues.title': 'Çevrimiçi çalışma arkadaşları',
    'colleagues.none': 'Başka kimse çevrimiçi değil.',
    'conversation.owner': 'Temsilci: {name}',
    'conversation.typingNamed': '{names} yazıyor…',
    'actions.status': 'Durum',
    'actions.snooze': 'Ertele',
    'actions.labelsPlaceholder': 'Etiketler, virgülle ayrılmış',
    'actions.saveLabels': 'Kaydet',
    'actions.transfer': 'Devret',
    'actions.saved': 'Kaydedildi',
    'note.mode': 'Dahili not',
    'note.label': 'Dahili not',
    'canned.manage': 'Hazır yanıtlar',
    'canned.hint': 'Yanıt kutusuna / ve kısayolu yazın.',
    'canned.shortcut': 'kısayol',
    'canned.content': 'Metin',
    'canned.sharedLabel': 'Herkesle paylaş',
    'canned.add': 'Ekle',
    'canned.shared': 'ortak',
    'canned.delete': 'Sil',
    'dialog.close': 'Kapat',
    'newConversation.open': 'Yeni',
    'newConversation.title': 'Yeni bir numaraya yaz',
    'newConversation.phone': 'Telefon, ör. +905551112233',
    'newConversation.name': 'Müşteri adı (isteğe bağlı)',
    'newConversation.content': 'İlk mesaj',
    'newConversation.hint': 'WhatsApp bir işletmenin ilk mesajını yalnızca onaylı şablon olarak iletir.',
    'newConversation.send': 'Gönder',
    'header.sound': 'Ses',
    'users.title': 'Kullanıcılar',
    'users.name': 'Ad',
    'users.email': 'E-posta',
    'users.password': 'Şifre (en az 8 karakter)',
    'users.role.USER': 'Temsilci',
    'users.role.ADMIN': 'Yönetici',
    'users.roleHeader': 'Rol',
    'users.state': 'Hesap',
    'users.create': 'Kullanıcı oluştur',
    'users.deactivate': 'Devre dışı bırak',
    'users.activate': 'Yeniden etkinleştir',
    'users.active': 'Etkin',
    'users.inactive': 'Devre dışı',
    'reports.title': 'Raporlar',
    'reports.since': 'Başlangıç',
    'reports.until': 'Bitiş',
    'reports.show': 'Göster',
    'reports.opened': 'Açılan',
    'reports.resolved': 'Çözülen',
    'reports.firstResponseMinutes': 'İlk yanıt (dk)',
    'reports.resolutionMinutes': 'Çözüm süresi (dk)',
  },
};

// Strings a self-contained module keeps beside its code (e.g. call-view.js): {en: {...}, tr: {...}}.
export function addText(texts) {
  LANGUAGES.forEach((lang) => Object.assign(TEXT[lang], texts[lang] || {}));
}

function browserLanguage() {
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const tag of preferred) {
    const base = String(tag || '').toLowerCase().split('-')[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return 'en';
}

let current = LANGUAGES.includes(localStorage.getItem(STORAGE_KEY))
  ? localStorage.getItem(STORAGE_KEY)
  : browserLanguage();

export function language() {
  return current;
}

// The text for key in the current language, with {name} placeholders filled in.
export function t(key, params = {}) {
  const template = TEXT[current][key] ?? TEXT.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}

// Fill every element marked with data-i18n / data-i18n-placeholder under root.
export function translatePage(root = document) {
  document.documentElement.lang = current;
  root.querySelectorAll('[data-i18n]').forEach((el) => {
    el.textContent = t(el.dataset.i18n);
  });
  root.querySelectorAll('[data-i18n-placeholder]').forEach((el) => {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  });
  root.querySelectorAll('[data-i18n-title]').forEach((el) => {
    el.title = t(el.dataset.i18nTitle);
    el.setAttribute('aria-label', el.title);
  });
}

// Switch language, remember the choice, and tell the page to redraw its dynamic parts.
export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) return;
  current = lang;
  localStorage.setItem(STORAGE_KEY, lang);
  translatePage();
  document.dispatchEvent(new CustomEvent('languagechange', { detail: { language: lang } }));
}

// Wire a <select id="lang-select"> to setLanguage and translate the page once.
export function setUpLanguageSwitch() {
  const select = document.getElementById('lang-select');
  if (select) {
    select.value = current;
    select.addEventListener('change', () => setLanguage(select.value));
  }
  translatePage();
}
