// The mediator's credentials and calls to the agreement API.
//
// Two ways in, both accepted by the server's auth middleware: an API key (kept in
// sessionStorage, so it leaves with the tab and never reaches localStorage or a URL) sent as
// `Authorization: Bearer`, or the `accord_session` cookie set by `POST /api/auth/login`
// (HttpOnly: this script never sees it, the browser sends it).

const KEY_STORAGE = "accord.editor.apiKey";
const SESSION_STORAGE = "accord.editor.session";

import { ApiFailure, failure } from "../api_failure.js";

export { ApiFailure };

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: credentials live for this page only
  }
}

let memoryKey = null;

export const credentials = {
  apiKey() {
    return storage()?.getItem(KEY_STORAGE) ?? memoryKey;
  },
  sessionName() {
    return storage()?.getItem(SESSION_STORAGE) ?? null;
  },
  useKey(key) {
    memoryKey = key;
    storage()?.setItem(KEY_STORAGE, key);
  },
  useSession(name) {
    storage()?.setItem(SESSION_STORAGE, name);
  },
  clear() {
    memoryKey = null;
    storage()?.removeItem(KEY_STORAGE);
    storage()?.removeItem(SESSION_STORAGE);
  },
  present() {
    return Boolean(this.apiKey() || this.sessionName());
  },
};

async function request(method, path, body) {
  const headers = {};
  const key = credentials.apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiFailure(0, "network", "network error");
  }
  if (!response.ok) throw await failure(response);
  return response;
}

export const api = {
  json: async (method, path, body) => (await request(method, path, body)).json(),
  blob: async (path) => (await request("GET", path)).blob(),
};

/** `POST /api/auth/login` through the mediator channel; the server sets the session cookie. */
export async function signIn(login, password) {
  const body = await api.json("POST", "/api/auth/login", { channel: "mediator", login, password });
  const name = body.account?.display_name ?? login;
  credentials.useSession(name);
  return name;
}

/** Checks a credential with a call only drafters may make; returns the clause templates. */
export function templates() {
  return api.json("GET", "/api/agreement-templates");
}
