'use strict';
// The benchmark peer: a minimal socket.io 4.8 server with the same webhook -> room
// emit and the same rooms as our server, so every figure of bench/ can be given as
// a ratio to it. It has no database and no user table: messages live in memory and
// a handshake token is accepted when it reads `bench:<userId>:<ADMIN|USER>`.
//
// Usage: node server.js [PORT]   (or PORT=...; N8N_WEBHOOK_SECRET, default "bench-secret")

const crypto = require('crypto');
const http = require('http');
const { Server } = require('socket.io');

const PORT = Number(process.argv[2] || process.env.PORT || 5100);
const SECRET = Buffer.from(process.env.N8N_WEBHOOK_SECRET || 'bench-secret');
const MAX_BODY = 64 * 1024;
const WEBHOOK_PATH = '/api/webhooks/n8n/message';

const conversations = new Map(); // "<userId>|<phone>" -> conversation id
const seenMessageIds = new Map(); // WhatsApp message_id -> our message id
let lastMessageId = 0;
let lastEventId = 0;

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendError(res, status, code, message) {
  sendJson(res, status, { error: { code, message } });
}

function secretMatches(header) {
  const given = Buffer.from(header || '');
  return given.length === SECRET.length && crypto.timingSafeEqual(given, SECRET);
}

function validationError(body) {
  if (!body || typeof body !== 'object') return 'body';
  if (!Number.isInteger(body.user_id) || body.user_id <= 0) return 'user_id';
  for (const field of ['customer_name', 'customer_phone', 'message_content']) {
    if (typeof body[field] !== 'string' || body[field] === '') return field;
  }
  return null;
}

function conversationId(userId, phone) {
  const key = `${userId}|${phone}`;
  if (!conversations.has(key)) conversations.set(key, conversations.size + 1);
  return conversations.get(key);
}

function storeAndEmit(body) {
  const id = ++lastMessageId;
  if (body.message_id) seenMessageIds.set(body.message_id, id);
  const message = {
    id,
    conversationId: conversationId(body.user_id, body.customer_phone),
    userId: body.user_id,
    customerName: body.customer_name,
    customerPhone: body.customer_phone,
    messageContent: body.message_content,
    messageType: body.message_type || 'text',
    direction: body.direction || 'INBOUND',
    timestamp: body.timestamp || new Date().toISOString(),
    isRead: false,
    eventId: ++lastEventId,
  };
  // One emit to both rooms: socket.io delivers it once to a socket that is in both.
  io.to([`user:${body.user_id}`, 'admin']).emit('new_message', message);
  return message;
}

function handleWebhook(req, res, raw) {
  if (!secretMatches(req.headers['x-webhook-secret'])) {
    return sendError(res, 401, 'unauthorized', 'Invalid webhook secret');
  }
  let body;
  try {
    body = JSON.parse(raw);
  } catch (err) {
    return sendError(res, 400, 'invalid_json', 'Body is not valid JSON');
  }
  const bad = validationError(body);
  if (bad) return sendError(res, 400, 'validation_error', `Invalid field: ${bad}`);
  if (body.message_id && seenMessageIds.has(body.message_id)) {
    const id = seenMessageIds.get(body.message_id);
    return sendJson(res, 200, { success: true, duplicate: true, data: { id } });
  }
  const message = storeAndEmit(body);
  return sendJson(res, 201, {
    success: true,
    data: { id: message.id, conversationId: message.conversationId },
  });
}

function readBody(req, res, onBody) {
  const chunks = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) tooLarge = true;
    else chunks.push(chunk);
  });
  req.on('end', () => {
    if (tooLarge) return sendError(res, 413, 'payload_too_large', 'Body over 64 KiB');
    return onBody(Buffer.concat(chunks).toString('utf8'));
  });
}

function route(req, res) {
  const path = req.url.split('?')[0];
  if (req.method === 'GET' && path === '/health') {
    return sendJson(res, 200, { status: 'ok', database: 'ok', messageQueue: 'local' });
  }
  if (req.method === 'POST' && path === WEBHOOK_PATH) {
    return readBody(req, res, (raw) => handleWebhook(req, res, raw));
  }
  return sendError(res, 404, 'not_found', 'Not found');
}

function parseBenchToken(token) {
  const match = /^bench:(\d+):(ADMIN|USER)$/.exec(typeof token === 'string' ? token : '');
  return match ? { id: Number(match[1]), role: match[2] } : null;
}

const httpServer = http.createServer(route);
// Same ping settings as our server (contract: ping every 25 s, timeout 60 s).
const io = new Server(httpServer, { pingInterval: 25000, pingTimeout: 60000, maxHttpBufferSize: MAX_BODY });

io.use((socket, next) => {
  const user = parseBenchToken(socket.handshake.auth && socket.handshake.auth.token);
  if (!user) return next(new Error('Authentication failed'));
  socket.data.user = user;
  return next();
});

io.on('connection', (socket) => {
  const { id, role } = socket.data.user;
  socket.join(role === 'ADMIN' ? [`user:${id}`, 'admin'] : `user:${id}`);
});

httpServer.listen(PORT, '127.0.0.1', () => {
  console.log(`bench peer listening on 127.0.0.1:${PORT}`);
});

function shutdown() {
  io.close();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
