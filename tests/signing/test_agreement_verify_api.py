"""POST /api/verify: a real agreement passes, damaged and hostile uploads get a clear 4xx, the server lives."""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from pathlib import Path
from typing import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from agreement_server import Server, start_server

from signaling.api import agreement_verification as verification_api
from signaling.api import agreements as agreements_api
from signaling.api.pki import PKI_KEY
from signing.verification import MAX_PDF_BYTES
from tests.recordings.package_builder import build_package, flip_in_first_segment


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = await start_server(tmp_path)
    yield srv
    await srv.close()


async def _still_up(server: Server) -> None:
    status, body = await server.call("GET", "/healthz", key=False)
    assert status == 200 and body["status"] == "ok"


async def _verify(server: Server, data: bytes, content_type: str = "application/pdf") -> tuple[int, dict]:
    return await server.call("POST", "/api/verify", key=False, data=data, headers={"Content-Type": content_type})


def _object_stream_bomb(expanded_bytes: int) -> bytes:
    """A PDF whose catalog sits in a compressed object stream that inflates to ``expanded_bytes``.

    Built in a second: after a full flush a deflate block stands alone, so one compressed MiB of
    zeros is repeated; the zlib checksum is computed over the whole inflated content.
    """
    head = b"1 0 "
    body = b"<< /Type /Catalog /Pages 2 0 R /Pad <"
    tail = b"> >>"
    zeros = b"0" * (1 << 20)
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = raw.compress(head + body) + raw.flush(zlib.Z_FULL_FLUSH)
    block = raw.compress(zeros) + raw.flush(zlib.Z_FULL_FLUSH)
    last = raw.compress(tail) + raw.flush()
    count = expanded_bytes >> 20
    adler = zlib.adler32(head + body)
    for _ in range(count):
        adler = zlib.adler32(zeros, adler)
    adler = zlib.adler32(tail, adler)
    stream = b"\x78\xda" + first + block * count + last + adler.to_bytes(4, "big")
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {2: len(out)}
    out += b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    offsets[5] = len(out)
    out += (b"5 0 obj\n<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
            % (len(head), len(stream))) + stream + b"\nendstream\nendobj\n"
    offsets[6] = len(out)

    def row(kind: int, a: int, b: int) -> bytes:
        return bytes([kind]) + a.to_bytes(4, "big") + b.to_bytes(2, "big")

    rows = (row(0, 0, 65535) + row(2, 5, 0) + row(1, offsets[2], 0) + row(0, 0, 0) + row(0, 0, 0)
            + row(1, offsets[5], 0) + row(1, offsets[6], 0))
    out += (b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(rows)
            + rows + b"\nendstream\nendobj\n")
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[6]
    return bytes(out)


def test_the_bomb_is_a_real_bomb() -> None:
    """The small version of the bomb inflates to exactly what it claims and is a readable PDF."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    small = _object_stream_bomb(3 << 20)
    reader = PdfFileReader(io.BytesIO(small), strict=False)
    assert len(reader.root["/Pad"]) == 3 << 19  # hex string: two digits per byte


async def test_a_fully_signed_agreement_is_valid_and_a_flipped_byte_is_not(server: Server) -> None:
    _, pdf = await server.fully_signed()
    status, report = await _verify(server, pdf)
    assert status == 200, report
    assert report["valid"] is True, report["reasons"]
    assert report["signed_fields"] == report["expected_fields"] and len(report["expected_fields"]) == 5
    assert len(report["document_timestamps"]) == 1
    # Multipart upload of the same file gives the same verdict.
    form = aiohttp.FormData()
    form.add_field("file", pdf, filename="agreement.pdf", content_type="application/pdf")
    status, again = await server.call("POST", "/api/verify", key=False, data=form)
    assert status == 200 and again["valid"] is True
    tampered = bytearray(pdf)
    middle = len(pdf) // 3
    tampered[middle] = tampered[middle] ^ 0x01
    status, report = await _verify(server, bytes(tampered))
    assert (status == 200 and report["valid"] is False) or (status == 422), report


async def test_truncated_pdf(server: Server) -> None:
    _, tokens = await server.locked_agreement()
    status, pdf = await server.call("GET", "/api/sign/document.pdf", token=next(iter(tokens.values())))
    status, body = await _verify(server, pdf[: len(pdf) // 2])
    assert status == 422 and body["error"]["code"] == "unverifiable_pdf"
    assert "truncated" in body["error"]["message"]
    await _still_up(server)


async def test_not_a_pdf(server: Server) -> None:
    status, body = await _verify(server, b"<html>hello</html>" * 10)
    assert status == 422 and "not a PDF" in body["error"]["message"]
    status, body = await _verify(server, b"", "application/pdf")
    assert status == 400 and body["error"]["code"] == "empty_upload"
    status, body = await _verify(server, b"%PDF-1.7", "text/plain")
    assert status == 415 and body["error"]["code"] == "unsupported_media_type"
    form = aiohttp.FormData()
    form.add_field("other", b"x", filename="x.pdf")
    status, body = await server.call("POST", "/api/verify", key=False, data=form)
    assert status == 400 and body["error"]["code"] == "no_file"
    await _still_up(server)


async def test_fifty_megabytes_are_refused_without_being_buffered(server: Server) -> None:
    big = b"%PDF-1.7\n" + b"0" * (50 * 1024 * 1024)
    status, body = await _verify(server, big)
    assert status == 413 and body["error"]["code"] == "too_large"

    async def chunks():  # no Content-Length: the limit is enforced while reading
        yield b"%PDF-1.7\n"
        for _ in range(50):
            yield b"0" * (1024 * 1024)

    try:
        status, body = await _verify(server, chunks())  # type: ignore[arg-type]
        assert status == 413 and body["error"]["code"] == "too_large"
    except aiohttp.ClientError:
        pass  # the server may close the connection while the client is still sending; it answered 413 first
    await _still_up(server)


async def test_pdf_bombs(server: Server) -> None:
    status, body = await _verify(server, _object_stream_bomb(2048 * 1024 * 1024))
    assert status == 422 and body["error"]["code"] == "unverifiable_pdf", body
    nested = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /X " + b"[" * 200_000 + b"]" * 200_000 + \
        b" >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    status, body = await _verify(server, nested)
    assert status == 422 and body["error"]["code"] == "unverifiable_pdf", body
    await _still_up(server)


async def test_a_recording_package_is_recognised_by_its_content(server: Server, tmp_path: Path) -> None:
    """The same public endpoint takes a downloaded recording package (whatever the declared type)
    and answers with its findings; a zip that is no recording package is a clear 422."""
    package = await build_package(server.app[PKI_KEY], tmp_path)
    status, body = await _verify(server, package, "application/octet-stream")
    assert status == 200 and body["kind"] == "recording_package" and body["ok"], body
    flipped, key = flip_in_first_segment(package)
    status, body = await _verify(server, flipped, "application/pdf")
    assert status == 200 and not body["ok"]
    assert [(f["code"], f["where"]) for f in body["findings"]] == [("altered_file",
                                                                     f"track {key.split('/')[1]} segment 0")]
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("notes.txt", "hello")
    status, body = await _verify(server, plain.getvalue(), "application/octet-stream")
    assert status == 422 and body["error"]["code"] == "bad_recording_package"
    await _still_up(server)


def _padded(package: bytes, size: int) -> bytes:
    """The package with one extra, unlisted segment-sized file of ``size`` random bytes (stored)."""
    out = io.BytesIO(package)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("padding/00000.webm", os.urandom(size))
    return out.getvalue()


async def test_a_package_larger_than_the_pdf_limit_is_streamed_to_a_private_file_and_verified(
        server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over 20 MiB (the PDF limit) a package still verifies: the body goes to a 0600 file under the
    data directory's tmp, never through ``request.read``/``post`` (which would hold it in memory)."""
    package = _padded(await build_package(server.app[PKI_KEY], tmp_path), 21 * 1024 * 1024)
    assert len(package) > MAX_PDF_BYTES

    async def no_buffering(*_: object) -> bytes:
        raise AssertionError("the verify body was read into memory")

    monkeypatch.setattr(web.BaseRequest, "read", no_buffering)
    monkeypatch.setattr(web.BaseRequest, "post", no_buffering)
    staged: list[tuple[Path, int, int]] = []
    original = verification_api.verify_recording_upload

    async def spy(path: Path, roots: list) -> dict:
        staged.append((path, path.stat().st_mode & 0o777, path.stat().st_size))
        return await original(path, roots)

    monkeypatch.setattr(verification_api, "verify_recording_upload", spy)
    status, body = await _verify(server, package, "application/zip")
    assert status == 200 and body["kind"] == "recording_package" and body["ok"], body
    ((path, mode, size),) = staged
    tmp = server.app[agreements_api.AGREEMENT_SETTINGS_KEY].data_dir / "tmp"
    assert path.parent == tmp and mode == 0o600 and size == len(package)
    assert list(tmp.iterdir()) == []  # removed after the check


async def test_a_package_over_the_configured_limit_is_413_and_the_server_answers_on(tmp_path: Path) -> None:
    (tmp_path / "small" / "tmp").mkdir(parents=True)
    stale = tmp_path / "small" / "tmp" / "upload-left-by-a-killed-process"
    stale.write_bytes(b"PK\x03\x04")
    srv = await start_server(tmp_path / "small", max_package_bytes=1024 * 1024)
    assert not stale.exists()  # cleared at start-up
    try:
        _, doc = await srv.call("GET", "/api/openapi.json", key=False)
        assert doc["paths"]["/api/verify"]["post"]["x-max-body-bytes"] == MAX_PDF_BYTES + 64 * 1024
        big = b"PK\x03\x04" + bytes(3 * 1024 * 1024)
        status, body = await _verify(srv, big, "application/zip")  # with a Content-Length
        assert status == 413 and body["error"]["code"] == "too_large", body

        async def chunks():  # no Content-Length: refused while streaming, by the zip's own limit
            yield b"PK\x03\x04"
            for _ in range(3):
                yield bytes(1024 * 1024)

        try:
            status, body = await _verify(srv, chunks(), "application/zip")  # type: ignore[arg-type]
            assert status == 413 and body["error"] == {
                "code": "too_large", "message": "the file is larger than 1048576 bytes",
                "details": {"limit": 1024 * 1024}}
        except aiohttp.ClientError:
            pass  # the server may close the connection while the client still sends; it answered 413
        await _still_up(srv)
        assert list((tmp_path / "small" / "tmp").iterdir()) == []
    finally:
        await srv.close()
