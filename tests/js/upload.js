// An agent's attachment sent with the official socket.io-client 4.x, as the panel does:
// upload_start, binary upload_chunk events, the socket cut halfway, a new socket
// resuming with the uploadId, upload_finish.
// Usage: node upload.js URL TOKEN CONVERSATION_ID FILE MIME
// Prints one JSON line per step: {"type": "start"|"progress"|"resumed"|"finish"|"error", ...}.
const { io } = require("socket.io-client");
const fs = require("fs");
const path = require("path");

const [url, token, conversationId, file, mimeType] = process.argv.slice(2);
const data = fs.readFileSync(file);
const print = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

function connect() {
  const socket = io(url, { auth: { token }, transports: ["websocket"], reconnection: false });
  socket.on("upload_progress", (progress) => print({ type: "progress", progress }));
  return new Promise((resolve, reject) => {
    socket.on("connect", () => resolve(socket));
    socket.on("connect_error", reject);
  });
}

const call = (socket, name, payload) =>
  new Promise((resolve) => socket.emit(name, payload, resolve));

async function sendUntil(socket, uploadId, offset, chunkSize, stop) {
  while (offset < stop) {
    const chunk = data.subarray(offset, Math.min(offset + chunkSize, stop));
    const ack = await call(socket, "upload_chunk", { uploadId, offset, data: chunk });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    offset = ack.received;
  }
  return offset;
}

async function main() {
  const declared = {
    conversationId: Number(conversationId),
    filename: path.basename(file),
    mimeType,
    size: data.length,
  };
  let socket = await connect();
  const started = await call(socket, "upload_start", declared);
  print({ type: "start", ack: started });
  const half = await sendUntil(socket, started.uploadId, 0, started.chunkSize, data.length >> 1);
  socket.disconnect();
  socket = await connect();
  const resumed = await call(socket, "upload_start", { ...declared, uploadId: started.uploadId });
  print({ type: "resumed", ack: resumed, sentBefore: half });
  await sendUntil(socket, started.uploadId, resumed.received, resumed.chunkSize, data.length);
  const finished = await call(socket, "upload_finish", { uploadId: started.uploadId, caption: "js" });
  print({ type: "finish", ack: finished });
  socket.disconnect();
}

main().catch((err) => {
  print({ type: "error", message: String(err.message || err) });
  process.exit(1);
});
