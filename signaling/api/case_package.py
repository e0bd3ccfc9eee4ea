"""The case package over HTTP: the download, and for the case page its contents with the cheap
offline check and its PDFs and images one at a time for the page's viewer. One set of callers and
one ownership check for all three: each goes through :class:`CasePackager`, which builds the
package this caller may have."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mediation.package import CasePackager

from ..openapi import api
from ..recordings_setup import RECORDING_ACCESS_KEY
from .accounts import actor_of, domain_errors, services_of
from .cases import PARTIES, TAG, content_disposition

#: Who receives the case package (the packager then checks their relation to the case).
PACKAGE_READERS = PARTIES | {"court_clerk", "judge", "platform_admin", "service"}


def packager(request: web.Request) -> CasePackager:
    services = services_of(request)
    access = request.app.get(RECORDING_ACCESS_KEY)
    return CasePackager(services.cases, services.court, None if access is None else access.stored_manifest)


@api.route("GET", "/api/cases/{case_id}/package",
           summary="Export the case: JSON, documents and a manifest of SHA-256 hashes, as a zip",
           allow=PACKAGE_READERS, tag=TAG)
@domain_errors
async def export_package(request: web.Request, _: None) -> web.Response:
    case_id = request.match_info["case_id"]
    data = await packager(request).export(actor_of(request), case_id)
    return web.Response(body=data, content_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{case_id}.zip"'})


@api.route("GET", "/api/cases/{case_id}/package/contents",
           summary="The case package's members (SHA-256, size, what each is) and its offline check without "
                   "the signatures", allow=PACKAGE_READERS, tag=TAG)
@domain_errors
async def package_contents(request: web.Request, _: None) -> Any:
    return (await packager(request).contents(actor_of(request), request.match_info["case_id"])).to_dict()


@api.route("GET", "/api/cases/{case_id}/package/members/{sha256}",
           summary="Open one PDF or image of the case package, named by its SHA-256 in the manifest",
           allow=PACKAGE_READERS, tag=TAG)
@domain_errors
async def package_member(request: web.Request, _: None) -> web.Response:
    """422 ``package_member_not_viewable`` for members that are neither (the JSON files, the
    attestations: they are in the download), ``package_member_too_large`` past 32 MiB."""
    member, body = await packager(request).member(actor_of(request), request.match_info["case_id"],
                                                  request.match_info["sha256"].lower())
    return web.Response(body=body, headers={
        "Content-Type": member.inline_type or "application/octet-stream",
        "Content-Disposition": content_disposition("inline", member.label, member.label),
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
