// Calls to the case API. The session is the HttpOnly `accord_session` cookie that
// `POST /api/auth/login` sets: this script never sees it, the browser sends it.

/** The window event fired when a call finds the session gone. */
export const SIGNED_OUT = "case-pages:signed-out";

import { ApiFailure, failure } from "../api_failure.js";

export { ApiFailure };

async function send(method, path, { json, body, contentType } = {}) {
  const headers = {};
  if (json !== undefined) headers["Content-Type"] = "application/json";
  else if (contentType) headers["Content-Type"] = contentType;
  let response;
  try {
    response = await fetch(path, {
      method, headers, credentials: "same-origin", body: json !== undefined ? JSON.stringify(json) : body,
    });
  } catch {
    throw new ApiFailure(0, "network", "network error");
  }
  if (!response.ok) {
    // A session that ended (expiry, sign-out elsewhere) sends the page back to the sign-in form.
    if (response.status === 401 && !path.startsWith("/api/auth/")) window.dispatchEvent(new Event(SIGNED_OUT));
    throw await failure(response);
  }
  return response.status === 204 ? null : response.json();
}

export const api = {
  get: (path) => send("GET", path),
  post: (path, json = {}) => send("POST", path, { json }),
  put: (path, json) => send("PUT", path, { json }),
  del: (path) => send("DELETE", path),
  upload: (path, file) => send("POST", path, { body: file, contentType: file.type || "application/octet-stream" }),
};

/** `POST /api/auth/login` through a role's channel; returns the account. */
export async function signIn(channel, login, password) {
  return (await api.post("/api/auth/login", { channel, login, password })).account;
}

/** The signed-in account, or null when there is no (valid) session. */
export async function whoAmI() {
  try {
    return await api.get("/api/auth/me");
  } catch (error) {
    if (error instanceof ApiFailure && error.status === 401) return null;
    throw error;
  }
}

/** Text a one-time code to `phone` (`POST /api/auth/code`). */
export const sendCode = (phone) => api.post("/api/auth/code", { phone });

/** Self-registration of a party with the texted code, then sign-in through the party channel. */
export async function register(fields) {
  await api.post("/api/accounts/register", { role: "party", ...fields });
  return signIn("party", fields.login, fields.password);
}

export const signOut = () => api.post("/api/auth/logout");
