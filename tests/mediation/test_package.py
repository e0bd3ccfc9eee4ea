"""The case package a court imports: every member listed in the manifest with its hash, the
documents byte for byte, the audit trail verifiable; and not for mediators or strangers."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from .api_client import Api
from .scenario import case_with_filed_confirmation, cast_of_characters


async def test_package_is_complete_and_checkable(api: Api) -> None:
    c = await cast_of_characters(api)
    cid, application_id = await case_with_filed_confirmation(api, c)
    response = await api.client.get(f"/api/cases/{cid}/package", headers={"Authorization": f"Bearer {c['clerk'].token}"})
    assert response.status == 200 and response.content_type == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    manifest = json.loads(archive.read("manifest.json"))
    assert set(manifest["members"]) | {"manifest.json"} == set(archive.namelist())
    for name, digest in manifest["members"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name
    content = json.loads(archive.read("case.json"))
    (doc,) = content["documents"]
    assert archive.read(doc["path"]) == b"%PDF IOU"
    assert content["audit"]["verification"]["ok"] is True
    assert len(content["audit"]["entries"]) == content["audit"]["verification"]["entries"]
    assert [a["id"] for a in content["court_applications"]] == [application_id]
    assert content["case"]["id"] == cid

    refused = await api.call("GET", f"/api/cases/{cid}/package", c["mediator"], expect=403)
    assert refused["error"]["code"] == "forbidden"
    carol = await api.register("carol", 3)
    await api.call("GET", f"/api/cases/{cid}/package", carol, expect=404)
