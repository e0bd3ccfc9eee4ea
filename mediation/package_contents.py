"""What a case package holds, for showing it in the case page: every member of the zip with its
SHA-256 (from the manifest), size and a readable label, the cheap part of the offline check
(:func:`mediation.package_check.check_structure`), and single members to open in the page's viewer.

The package is the one :class:`mediation.package.CasePackager` exports for this caller, so the page
shows exactly what the download holds and nothing the caller could not download. A member is
served only if it is a PDF or a plain image by its bytes (the viewer shows nothing else) and no
larger than :data:`MAX_MEMBER_BYTES`.
"""

from __future__ import annotations

import posixpath
from dataclasses import asdict, dataclass
from typing import Any

from .errors import InvalidInput, NotFound
from .files import INLINE_SIGNATURES
from .package_check import CASE_FILE, MANIFEST, PackageReport, check_structure, open_package

#: The largest member sent to the viewer (an upload is at most 20 MiB; a sealed agreement or a
#: ruling a few MiB), so one request never holds more than this in memory beyond the package.
MAX_MEMBER_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class PackageMember:
    path: str
    sha256: str
    size: int
    #: What the member is: a document's file name, the agreement, a ruling, or the path's last part.
    label: str
    #: ``manifest``, ``case``, ``document``, ``agreement``, ``ruling``, ``attestation``, ``recording``.
    kind: str
    #: ``application/pdf`` or an image type when the viewer can show it, else ``None``.
    inline_type: str | None


@dataclass(frozen=True)
class PackageContents:
    case_id: str
    exported_at: str | None
    members: list[PackageMember]
    check: PackageReport

    def to_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "exported_at": self.exported_at,
                "members": [asdict(m) for m in self.members], "check": self.check.to_dict()}


def _inline_type(head: bytes) -> str | None:
    return next((media_type for magic, media_type in INLINE_SIGNATURES if head.startswith(magic)), None)


def _labels(case: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Path -> (label, kind) from ``case.json``'s own index of what it carries."""
    labels: dict[str, tuple[str, str]] = {MANIFEST: (MANIFEST, "manifest"), CASE_FILE: (CASE_FILE, "case")}
    for entry in case.get("documents") or []:
        labels[str(entry.get("path"))] = (str(entry.get("name") or entry.get("path")), "document")
    agreement = case.get("agreement")
    if isinstance(agreement, dict) and agreement.get("path"):
        labels[str(agreement["path"])] = (posixpath.basename(str(agreement["path"])), "agreement")
    for entry in case.get("rulings") or []:
        labels[str(entry.get("path"))] = (str(entry.get("name") or entry.get("path")), "ruling")
    return labels


def _kind_by_path(path: str) -> str:
    top = path.split("/", 1)[0]
    return {"attestations": "attestation", "recordings": "recording", "files": "document",
            "agreement": "agreement", "rulings": "ruling"}.get(top, "other")


def read_contents(data: bytes) -> PackageContents:
    """The package's members and the cheap check's report. Reads every byte (the check hashes
    them): call it from a worker thread."""
    archive, manifest, case = open_package(data)
    listed: dict[str, str] = manifest.get("members") or {}
    labels = _labels(case)
    members = []
    for info in archive.infolist():
        name = info.filename
        with archive.open(info) as fh:
            head = fh.read(16)
        label, kind = labels.get(name, (posixpath.basename(name), _kind_by_path(name)))
        members.append(PackageMember(name, listed.get(name, ""), info.file_size, label, kind,
                                     _inline_type(head) if info.file_size <= MAX_MEMBER_BYTES else None))
    members.sort(key=lambda m: (m.kind != "manifest", m.path))
    return PackageContents(str(manifest.get("case_id") or ""), manifest.get("exported_at"), members,
                           check_structure(data))


def read_member(data: bytes, sha256: str) -> tuple[PackageMember, bytes]:
    """The member whose manifest SHA-256 is ``sha256``, if the viewer can show it: 404
    ``package_member_not_found`` for none, 422 ``package_member_not_viewable`` for a member that is
    not a PDF or an image, 422 ``package_member_too_large`` past :data:`MAX_MEMBER_BYTES` (it stays in
    the download). Reads the zip: call it from a worker thread."""
    archive, manifest, case = open_package(data)
    listed: dict[str, str] = manifest.get("members") or {}
    name = next((path for path, digest in sorted(listed.items()) if digest == sha256), None)
    if name is None:
        raise NotFound("package_member_not_found", "the case package has no member with this SHA-256")
    info = archive.getinfo(name)
    if info.file_size > MAX_MEMBER_BYTES:
        raise InvalidInput("package_member_too_large", f"members larger than {MAX_MEMBER_BYTES} bytes are only in "
                                                       f"the download", {"limit": MAX_MEMBER_BYTES})
    body = archive.read(info)
    inline_type = _inline_type(body[:16])
    if inline_type is None:
        raise InvalidInput("package_member_not_viewable", "only the package's PDFs and images open in the page")
    label, kind = _labels(case).get(name, (posixpath.basename(name), _kind_by_path(name)))
    return PackageMember(name, sha256, info.file_size, label, kind, inline_type), body
