// A minimal DER reader: just enough to find the messageDigest attribute inside the CMS signed
// attributes the server asks us to sign. Strict on purpose: anything unexpected is an error,
// because a lenient parser is how a different document could be slipped past the check.

export class DerError extends Error {}

const MESSAGE_DIGEST_OID = "1.2.840.113549.1.9.4";
const TAG_SET = 0x31;
const TAG_SEQUENCE = 0x30;
const TAG_OID = 0x06;
const TAG_OCTET_STRING = 0x04;

/** One TLV at `offset`: `{tag, contentStart, end}` (end exclusive). */
export function readTlv(bytes, offset) {
  if (offset + 2 > bytes.length) throw new DerError("truncated DER header");
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte tags are not expected here");
  let length = bytes[offset + 1];
  let pos = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError("unsupported DER length");
    if (pos + count > bytes.length) throw new DerError("truncated DER length");
    length = 0;
    for (let i = 0; i < count; i += 1) length = length * 256 + bytes[pos + i];
    pos += count;
    if (length < 0x80 || bytes[offset + 2] === 0) throw new DerError("non-minimal DER length");
  }
  const end = pos + length;
  if (end > bytes.length) throw new DerError("DER value runs past the end");
  return { tag, contentStart: pos, end };
}

/** The TLVs directly inside a constructed TLV. */
export function children(bytes, tlv) {
  const out = [];
  let pos = tlv.contentStart;
  while (pos < tlv.end) {
    const child = readTlv(bytes, pos);
    if (child.end > tlv.end) throw new DerError("child runs past its parent");
    out.push(child);
    pos = child.end;
  }
  return out;
}

export function decodeOid(bytes, tlv) {
  if (tlv.tag !== TAG_OID || tlv.end === tlv.contentStart) throw new DerError("not an OID");
  const parts = [];
  let value = 0;
  for (let i = tlv.contentStart; i < tlv.end; i += 1) {
    value = value * 128 + (bytes[i] & 0x7f);
    if (!(bytes[i] & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift();
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join(".");
}

/** The messageDigest value (bytes) inside DER signed attributes (a SET OF Attribute). */
export function messageDigestOf(signedAttrs) {
  const top = readTlv(signedAttrs, 0);
  if (top.tag !== TAG_SET || top.end !== signedAttrs.length) {
    throw new DerError("signed attributes must be exactly one DER SET");
  }
  let found = null;
  for (const attribute of children(signedAttrs, top)) {
    if (attribute.tag !== TAG_SEQUENCE) throw new DerError("an attribute is not a SEQUENCE");
    const parts = children(signedAttrs, attribute);
    if (parts.length !== 2 || parts[1].tag !== TAG_SET) throw new DerError("malformed attribute");
    if (decodeOid(signedAttrs, parts[0]) !== MESSAGE_DIGEST_OID) continue;
    if (found !== null) throw new DerError("messageDigest appears twice");
    const values = children(signedAttrs, parts[1]);
    if (values.length !== 1 || values[0].tag !== TAG_OCTET_STRING) {
      throw new DerError("messageDigest must hold exactly one OCTET STRING");
    }
    found = signedAttrs.slice(values[0].contentStart, values[0].end);
  }
  if (found === null) throw new DerError("no messageDigest attribute");
  return found;
}
