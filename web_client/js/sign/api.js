// Calls to the signing API: with the signing token from a link's fragment (#token, for signers
// without an account), or signed in (the session cookie) for the agreement named in ?agreement=.

import { ApiFailure, failure } from "../api_failure.js";

export { ApiFailure };

export function tokenFromLocation() {
  const token = decodeURIComponent(window.location.hash.replace(/^#/, ""));
  return token || null;
}

export function agreementFromLocation() {
  return new URLSearchParams(window.location.search).get("agreement");
}

export function client(token, agreementId) {
  async function request(method, path, body) {
    const headers = {};
    let url = path;
    let sent = body;
    if (token) headers["X-Signing-Token"] = token;
    else if (method === "GET") url += `${path.includes("?") ? "&" : "?"}agreement=${encodeURIComponent(agreementId)}`;
    else if (body !== undefined) sent = { ...body, agreement_id: agreementId };
    if (sent !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method, headers, credentials: "same-origin", body: sent === undefined ? undefined : JSON.stringify(sent),
    });
    if (!response.ok) throw await failure(response);
    return response;
  }
  return {
    json: async (method, path, body) => (await request(method, path, body)).json(),
    bytes: async (path) => new Uint8Array(await (await request("GET", path)).arrayBuffer()),
    blob: async (path) => (await request("GET", path)).blob(),
  };
}

export { fromBase64, toBase64 } from "../base64.js";

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
