"""Banking pictures end to end: degenerate signals refused, feature sets stored by digest and
found again by a fresh process, and a cropped re-post queued for review with its evidence."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from media_pictures import caption_band, clip, crop, flat, mp4, png, scene, with_logo
from takedown.api.app import create_app
from takedown.config import Settings
from takedown.core.errors import InvalidInput
from takedown.services.media_banking import bank_picture
from takedown.storage.keys import Role, create_key
from takedown.storage.media_tables import feature_sets


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, classifier=False)  # bank matching is what is tested


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, start_workers=False)) as test_client:
        yield test_client


def _headers(client: TestClient, role: Role) -> dict[str, str]:
    with client.app.state.runtime.engine.begin() as conn:  # type: ignore[attr-defined]
        return {"Authorization": f"Bearer {create_key(conn, role)}"}


def test_flat_pictures_are_refused_and_nothing_is_stored(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    client.put("/v1/banks/b", headers=_headers(client, Role.ADMIN),
               json={"name": "b", "label": "TVEC1"})
    with pytest.raises(InvalidInput, match="too flat"):
        bank_picture(runtime.engine, "b", png(flat((30, 30, 30))), actor="test")
    with runtime.engine.connect() as conn:
        assert conn.execute(select(feature_sets)).first() is None


def test_a_cropped_repost_is_queued_with_local_feature_evidence(
    client: TestClient, settings: Settings
) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    client.put("/v1/banks/b", headers=_headers(client, Role.ADMIN),
               json={"name": "b", "label": "TVEC1"})
    original = scene(88)
    first = bank_picture(runtime.engine, "b", png(original), actor="test")
    again = bank_picture(runtime.engine, "b", png(original), actor="test")
    assert (first.added, again.already_present, again.orb) == (2, 2, first.orb)
    with runtime.engine.connect() as conn:
        assert len(conn.execute(select(feature_sets)).all()) == 1

    # A new process loads the bank from storage: the digest resolves to the stored set.
    with TestClient(create_app(settings, start_workers=False)) as fresh:
        integrator = _headers(fresh, Role.INTEGRATOR)
        item = {"id": "repost", "kind": "image",
                "content_base64": base64.b64encode(png(caption_band(crop(original, 0.2),
                                                                     top=False))).decode()}
        assert fresh.post("/v1/submissions", headers=integrator,
                          json={"items": [item]}).status_code == 202
        fresh_runtime = fresh.app.state.runtime  # type: ignore[attr-defined]
        while fresh_runtime.worker.run_once():
            pass
        body = fresh.get("/v1/submissions/repost", headers=integrator).json()
    [finding] = [f for f in body["findings"] if f.get("bank")]
    assert finding["signal_type"] == "orb" and finding["bank"] == "b"
    assert finding["evidence"]["local_match"]["inliers"] >= 14
    assert body["decision"]["action"] == "queue"


def test_the_api_banks_an_uploaded_picture_and_refuses_bad_ones(client: TestClient) -> None:
    admin = _headers(client, Role.ADMIN)
    client.put("/v1/banks/b", headers=admin, json={"name": "b", "label": "TVEC1"})
    picture = png(scene(91))
    raw = client.post("/v1/banks/b/media?note=poster", headers=admin | {
        "Content-Type": "image/png"}, content=picture)
    assert raw.status_code == 201, raw.text
    assert raw.json()["added"] == 2 and len(raw.json()["orb"]) == 64
    upload = client.post("/v1/banks/b/media", headers=admin,
                         files={"file": ("p.png", picture, "image/png")})
    assert upload.status_code == 201 and upload.json()["already_present"] == 2
    with client.app.state.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        assert len(conn.execute(select(feature_sets)).all()) == 1

    flat_picture = client.post("/v1/banks/b/media", headers=admin | {
        "Content-Type": "image/png"}, content=png(flat((30, 30, 30))))
    assert flat_picture.status_code == 400 and "too flat" in flat_picture.text
    garbage = client.post("/v1/banks/b/media", headers=admin | {
        "Content-Type": "image/jpeg"}, content=b"not a picture at all")
    assert garbage.status_code == 400
    wrong_type = client.post("/v1/banks/b/media", headers=admin, json={"x": 1})
    assert wrong_type.status_code == 415
    reviewer = client.post("/v1/banks/b/media", headers=_headers(client, Role.REVIEWER) | {
        "Content-Type": "image/png"}, content=picture)
    assert reviewer.status_code == 403
    with client.app.state.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        assert len(conn.execute(select(feature_sets)).all()) == 1


def test_a_banked_clip_catches_a_logo_covered_repost_on_its_key_frames(
    client: TestClient,
) -> None:
    admin, integrator = _headers(client, Role.ADMIN), _headers(client, Role.INTEGRATOR)
    client.put("/v1/banks/clips", headers=admin, json={"name": "clips", "label": "TVEC1"})
    banked = client.post("/v1/banks/clips/media?note=release", headers=admin | {
        "Content-Type": "video/mp4"}, content=mp4(clip(71)))
    assert banked.status_code == 201, banked.text
    assert banked.json()["key_frames"] == 6
    assert banked.json()["added"] == 6 + banked.json()["vpdq"]
    garbage = client.post("/v1/banks/clips/media", headers=admin | {
        "Content-Type": "video/mp4"}, content=b"\x00\x00\x00\x18ftypisom not a video")
    assert garbage.status_code == 400

    items = [{"id": name, "kind": "video", "content_base64": base64.b64encode(data).decode()}
             for name, data in (("logo", mp4(with_logo(clip(71)))), ("other", mp4(clip(72))))]
    assert client.post("/v1/submissions", headers=integrator,
                       json={"items": items}).status_code == 202
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    while runtime.worker.run_once():
        pass
    logo = client.get("/v1/submissions/logo", headers=integrator).json()
    local = [f for f in logo["findings"] if f.get("signal_type") == "orb"]
    assert local and local[0]["bank"] == "clips"
    assert local[0]["evidence"]["key_frames"]["verified"] >= 4
    assert logo["decision"]["action"] == "queue"
    other = client.get("/v1/submissions/other", headers=integrator).json()
    assert not [f for f in other["findings"] if f.get("bank")]
    assert other["decision"]["action"] == "none"
