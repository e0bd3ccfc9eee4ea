"""RTP header fields read and written on raw bytes (RFC 3550, RFC 8285, RFC 7741).

The packet plane never builds an ``RtpPacket`` per forwarded packet: parsing the header
extensions into objects and serialising them again costs more than the SRTP itself.
"""

from __future__ import annotations

import struct
import time

HEADER = struct.Struct("!BBHII")  # V/P/X/CC, M/PT, sequence number, timestamp, SSRC
SEQ_TS_SSRC = struct.Struct("!HII")
UINT16 = struct.Struct("!H")
ONE_BYTE_PROFILE = b"\xbe\xde"


def header_length(data: bytes) -> int:
    """Bytes before the payload: fixed header, CSRCs and the extension block."""
    position = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:
        position += 4 + 4 * UINT16.unpack_from(data, position + 2)[0]
    return position


def find_extension(data: bytes, extension_id: int) -> bytes | None:
    """The value of a one-byte-form header extension element, if present."""
    if not data[0] & 0x10:
        return None
    position = 12 + 4 * (data[0] & 0x0F)
    if data[position : position + 2] != ONE_BYTE_PROFILE:
        return None
    end = position + 4 + 4 * UINT16.unpack_from(data, position + 2)[0]
    position += 4
    while position < end:
        byte = data[position]
        if byte == 0:  # padding between elements
            position += 1
            continue
        element_id, length = byte >> 4, (byte & 0x0F) + 1
        if element_id == 15:
            return None
        if element_id == extension_id:
            return data[position + 1 : position + 1 + length]
        position += 1 + length
    return None


def extension_block(elements: bytes) -> bytes:
    """A one-byte-form extension block holding ``elements``, padded to 32 bits."""
    if not elements:
        return b""
    padding = -len(elements) % 4
    return ONE_BYTE_PROFILE + UINT16.pack((len(elements) + padding) // 4) + elements + b"\x00" * padding


def element(extension_id: int, value: bytes) -> bytes:
    return bytes([(extension_id << 4) | (len(value) - 1)]) + value


def abs_send_time() -> bytes:
    """24-bit 6.18 fixed-point seconds; receivers only use differences, any epoch will do."""
    return (int(time.monotonic() * 262144) & 0xFFFFFF).to_bytes(3, "big")


# -- VP8 payload descriptor (RFC 7741 §4.2) -------------------------------------------------


def vp8_descriptor(payload: bytes) -> tuple[int, int, int, int, int] | None:
    """(picture id offset, picture id bits, tl0picidx offset, payload header offset, S|PID byte)

    Offsets are -1 when the field is absent. ``None`` when the descriptor is truncated.
    """
    if not payload:
        return None
    first = payload[0]
    position = 1
    picture_id_at, picture_id_bits, tl0_at = -1, 0, -1
    if first & 0x80:
        if len(payload) < 2:
            return None
        flags = payload[1]
        position = 2
        if flags & 0x80:
            if len(payload) <= position:
                return None
            picture_id_at = position
            picture_id_bits = 15 if payload[position] & 0x80 else 7
            position += 2 if picture_id_bits == 15 else 1
        if flags & 0x40:
            tl0_at = position
            position += 1
        if flags & 0x30:
            position += 1
    if len(payload) <= position:
        return None
    return picture_id_at, picture_id_bits, tl0_at, position, first


def is_vp8_keyframe_start(payload: bytes) -> bool:
    """The first packet of a VP8 key frame: S=1, partition 0, and P=0 in the frame tag."""
    if not payload or payload[0] & 0x1F != 0x10:
        return False
    described = vp8_descriptor(payload)
    return described is not None and payload[described[3]] & 0x01 == 0


def vp8_ids(payload: bytes) -> tuple[int | None, int | None]:
    """(picture id, TL0PICIDX) of a VP8 packet, each ``None`` when absent."""
    described = vp8_descriptor(payload)
    if described is None:
        return None, None
    picture_id_at, bits, tl0_at, _, _ = described
    picture_id = None
    if picture_id_at >= 0:
        picture_id = (UINT16.unpack_from(payload, picture_id_at)[0] & 0x7FFF) if bits == 15 else payload[picture_id_at]
    return picture_id, (payload[tl0_at] if tl0_at >= 0 else None)


def rewrite_vp8_ids(payload: bytes, picture_id_offset: int, tl0_offset: int) -> bytes:
    """The payload with picture id and TL0PICIDX shifted (each keeps its field width)."""
    described = vp8_descriptor(payload)
    if described is None:
        return payload
    picture_id_at, bits, tl0_at, _, _ = described
    if picture_id_at < 0 and tl0_at < 0:
        return payload
    out = bytearray(payload)
    if picture_id_at >= 0:
        if bits == 15:
            value = ((UINT16.unpack_from(out, picture_id_at)[0] & 0x7FFF) + picture_id_offset) & 0x7FFF
            UINT16.pack_into(out, picture_id_at, 0x8000 | value)
        else:
            out[picture_id_at] = (out[picture_id_at] + picture_id_offset) & 0x7F
    if tl0_at >= 0:
        out[tl0_at] = (out[tl0_at] + tl0_offset) & 0xFF
    return bytes(out)
