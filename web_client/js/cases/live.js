// Live case progress: `case:follow {case_id}` over Socket.IO (the session cookie travels with
// the handshake), then every `case:event` for that case.

import { io } from "/vendor/socket.io.js";

/** Follow a case; returns the function that stops following. */
export function followCase(caseId, { onEvent, onStatus }) {
  const socket = io({ transports: ["websocket"], reconnectionDelayMax: 5000 });
  socket.on("connect", () => {
    socket.emit("case:follow", { case_id: caseId }, (answer) => onStatus(answer?.ok ? "on" : "off"));
  });
  socket.on("disconnect", () => onStatus("off"));
  socket.on("case:event", (event) => {
    if (event.case_id === caseId) onEvent(event);
  });
  return () => socket.disconnect();
}
