// Calls to the signing API with the signing token from the link's fragment.

import { ApiFailure, failure } from "../api_failure.js";

export { ApiFailure };

export function tokenFromLocation() {
  const token = decodeURIComponent(window.location.hash.replace(/^#/, ""));
  return token || null;
}

export function client(token) {
  async function request(method, path, body) {
    const headers = { "X-Signing-Token": token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!response.ok) throw await failure(response);
    return response;
  }
  return {
    json: async (method, path, body) => (await request(method, path, body)).json(),
    bytes: async (path) => new Uint8Array(await (await request("GET", path)).arrayBuffer()),
    blob: async (path) => (await request("GET", path)).blob(),
  };
}

export function toBase64(bytes) {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

export function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
