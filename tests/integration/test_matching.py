"""Perceptual matching through the whole system: PDQ banks, rotations, batch lookup."""

from __future__ import annotations

import base64
import io
import random
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageOps

from takedown.api.app import create_app
from takedown.config import Settings
from takedown.signals.pdq import example_png, pdq_hash
from takedown.storage.keys import Role, create_key


def _flip_bits(hex_hash: str, count: int, seed: int = 1) -> str:
    value = int(hex_hash, 16)
    for bit in random.Random(seed).sample(range(256), count):
        value ^= 1 << bit
    return f"{value:064x}"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, start_workers=False)) as test_client:
        yield test_client


def _headers(client: TestClient, role: Role) -> dict[str, str]:
    with client.app.state.runtime.engine.begin() as conn:  # type: ignore[attr-defined]
        return {"Authorization": f"Bearer {create_key(conn, role)}"}


def _process(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    while runtime.worker.run_once():
        pass


def test_image_near_a_banked_pdq_and_its_mirror_are_found(client: TestClient) -> None:
    admin, integrator = _headers(client, Role.ADMIN), _headers(client, Role.INTEGRATOR)
    banked = _flip_bits(pdq_hash(example_png()).hash, 20)
    client.put("/v1/banks/pdq-bank", headers=admin, json={"name": "pdq-bank", "label": "TVEC7"})
    added = client.post(
        "/v1/banks/pdq-bank/entries",
        headers=admin,
        json={"entries": [{"signal_type": "pdq", "value": banked}]},
    )
    assert added.status_code == 201, added.text
    mirrored = io.BytesIO()
    ImageOps.mirror(Image.open(io.BytesIO(example_png()))).save(mirrored, format="PNG")
    items = [
        {"id": "orig", "kind": "image", "content_base64": base64.b64encode(example_png()).decode()},
        {
            "id": "mirror",
            "kind": "image",
            "content_base64": base64.b64encode(mirrored.getvalue()).decode(),
        },
    ]
    assert (
        client.post("/v1/submissions", headers=integrator, json={"items": items}).status_code == 202
    )
    _process(client)
    for item_id in ("orig", "mirror"):
        body = client.get(f"/v1/submissions/{item_id}", headers=integrator).json()
        pdq = [f for f in body["findings"] if f["signal_type"] == "pdq"]
        assert pdq and pdq[0]["distance"] == 20, (item_id, body["findings"])
        assert pdq[0]["bank"] == "pdq-bank"


def test_batch_lookup_of_ten_thousand_hashes(client: TestClient) -> None:
    admin, integrator = _headers(client, Role.ADMIN), _headers(client, Role.INTEGRATOR)
    rng = random.Random(7)
    stored = [f"{rng.getrandbits(256):064x}" for _ in range(50)]
    client.put("/v1/banks/b", headers=admin, json={"name": "b", "label": "TVEC1"})
    client.post(
        "/v1/banks/b/entries",
        headers=admin,
        json={"entries": [{"signal_type": "pdq", "value": v} for v in stored]},
    )
    queries = [f"{rng.getrandbits(256):064x}" for _ in range(10_000)]
    queries[17] = _flip_bits(stored[3], 31)
    queries[9_999] = stored[49]
    queries[500] = _flip_bits(stored[5], 40)
    response = client.post(
        "/v1/lookup", headers=integrator, json={"signal_type": "pdq", "values": queries}
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    hits = {n: r["matches"] for n, r in enumerate(results) if r["matches"]}
    assert set(hits) == {17, 9_999}
    assert hits[17][0]["distance"] == 31 and hits[9_999][0]["distance"] == 0
    bad = client.post(
        "/v1/lookup", headers=integrator, json={"signal_type": "pdq", "values": ["zz"]}
    )
    assert bad.status_code == 400
