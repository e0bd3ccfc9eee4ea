// The invitation in the URL fragment (`/join#<token>`). The browser only reads the claims to
// greet the person by name and role before joining; the server alone decides whether the
// token is genuine, current and for this room.

/** @returns {{token: string|null, claims: object|null, errorCode: string|null}} */
export function readInvitation(hash) {
  const raw = (hash || "").replace(/^#/, "").trim();
  if (!raw) return { token: null, claims: null, errorCode: "noToken" };
  let token;
  try {
    token = decodeURIComponent(raw);
  } catch {
    return { token: raw, claims: null, errorCode: "token_invalid" }; // a stray "%" from copy-paste
  }
  const [body, mac] = token.split(".");
  if (!body || !mac) return { token, claims: null, errorCode: "token_invalid" };
  try {
    const base64 = body.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof claims !== "object" || claims === null || typeof claims.name !== "string") {
      return { token, claims: null, errorCode: "token_invalid" };
    }
    return { token, claims, errorCode: null };
  } catch {
    return { token, claims: null, errorCode: "token_invalid" };
  }
}

/** A short, non-secret key for remembering "this tab had joined with this invitation". */
export function invitationKey(token) {
  return `accord.joined.${token.slice(-16)}`;
}
