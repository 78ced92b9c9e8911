// A socket.io-client 4.x listener driven by the integration tests.
// Usage: node listen.js URL TOKEN [LAST_EVENT_ID]
// Prints one JSON line per happening: {"type":"connect"|"connect_error"|"event"|"ack", ...}.
// Reads JSON commands on stdin: {"emit": name, "data": ..., "ack": true} or {"exit": true}.
const { io } = require("socket.io-client");
const readline = require("readline");

const [url, token, lastEventId] = process.argv.slice(2);
const auth = { token };
if (lastEventId !== undefined) auth.lastEventId = Number(lastEventId);

const print = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const socket = io(url, { auth, transports: ["websocket"], reconnection: false });

socket.on("connect", () => print({ type: "connect", id: socket.id }));
socket.on("connect_error", (err) => print({ type: "connect_error", message: err.message }));
socket.on("disconnect", (reason) => print({ type: "disconnect", reason }));
socket.onAny((event, data) => print({ type: "event", event, data }));

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line);
  if (command.exit) {
    socket.close();
    process.exit(0);
  }
  if (command.ack) {
    socket.emit(command.emit, command.data, (reply) => print({ type: "ack", event: command.emit, reply }));
  } else {
    socket.emit(command.emit, command.data);
  }
});
