// Base64 for bytes the API carries in JSON (keys, signatures, photos): one place for both pages.

/** Bytes (Uint8Array or ArrayBuffer) as base64, in chunks so that a photo does not overflow the stack. */
export function toBase64(bytes) {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let text = "";
  for (let i = 0; i < view.length; i += 0x8000) text += String.fromCharCode(...view.subarray(i, i + 0x8000));
  return btoa(text);
}

export function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
