// "What you see is what you sign": before the key signs anything, check that the signed
// attributes commit to the very PDF bytes this page downloaded, that those bytes are the shown
// document plus one incremental update, and that the document starts with the locked text
// whose SHA-256 the mediator fixed.

import { messageDigestOf } from "./der.js";

export class MismatchError extends Error {
  constructor(code, detail) {
    super(detail);
    this.code = code;
  }
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= a[i] ^ b[i];
  return diff === 0;
}

function startsWith(bytes, prefix) {
  return bytes.length >= prefix.length && equal(bytes.subarray(0, prefix.length), prefix);
}

/** The byte range must cover the whole file except the hex placeholder of the signature. */
export function checkByteRange(pdf, range) {
  const [start1, length1, start2, length2] = range;
  if (start1 !== 0 || start2 + length2 !== pdf.length || start2 <= length1) {
    throw new MismatchError("byte_range", `byte range ${range.join(" ")} does not cover the whole file`);
  }
  const hole = pdf.subarray(length1, start2);
  const inner = hole.subarray(1, hole.length - 1);
  if (hole[0] !== 0x3c || hole[hole.length - 1] !== 0x3e || inner.some((b) => b !== 0x30)) {
    throw new MismatchError("byte_range", "the uncovered bytes are not an empty signature placeholder");
  }
}

export async function digestOfRanges(pdf, range) {
  const [start1, length1, start2, length2] = range;
  const covered = new Uint8Array(length1 + length2);
  covered.set(pdf.subarray(start1, start1 + length1), 0);
  covered.set(pdf.subarray(start2, start2 + length2), length1);
  return sha256(covered);
}

/**
 * Throw MismatchError unless everything holds. `shown` is the revision whose pages were
 * displayed, `locked` revision 0 and `lockedSha256` its hash as published by the mediator.
 * Returns the document digest (hex) for the page to display.
 */
export async function checkPrepared({ signedAttrs, byteRange, prepared, shown, locked, lockedSha256 }) {
  if (hex(await sha256(locked)) !== lockedSha256) {
    throw new MismatchError("locked_hash", "the locked document's SHA-256 is not the published one");
  }
  if (!startsWith(shown, locked)) {
    throw new MismatchError("not_incremental", "the shown document does not start with the locked text");
  }
  if (!startsWith(prepared, shown)) {
    throw new MismatchError("not_incremental", "the prepared PDF is not the shown document plus an update");
  }
  checkByteRange(prepared, byteRange);
  const claimed = messageDigestOf(signedAttrs);
  const actual = await digestOfRanges(prepared, byteRange);
  if (!equal(claimed, actual)) {
    throw new MismatchError("digest", `messageDigest ${hex(claimed)} ≠ SHA-256 of the prepared PDF ${hex(actual)}`);
  }
  return hex(actual);
}
