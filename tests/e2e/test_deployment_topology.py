"""The documented production topology, run on loopback without Docker: two API processes and
two workers (each worker is also a matcher) as separate `takedown` processes on PostgreSQL and
Redis Streams, the way deploy/docker-compose.yml lays them out.

Items go in through both API processes; every item must be decided exactly once and every
decision reach the receiver. The workers start their PDQ index from the snapshot file
(`takedown index snapshot`, run as the operator would before scaling out) and must also match a
picture banked after they started, by another process, through the change feed.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import func, select, text

from media_pictures import png, scene
from takedown.core.banks import Bank
from takedown.core.content import ContentKind, Submission
from takedown.core.taxonomy import TvecLabel
from takedown.signals.exact import text_sha256
from takedown.signals.pdq import PdqSignal
from takedown.storage import banks as bank_store
from takedown.storage.db import make_engine, migrate
from takedown.storage.keys import Role, create_key
from takedown.storage.tables import decisions, metadata, submissions
from topology import Deployment, Receiver, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]
ITEMS = 400


@pytest.fixture
def fresh_db(pg_database_url: str) -> Iterator[str]:
    engine = make_engine(pg_database_url)
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    yield pg_database_url


def _pdq(picture: bytes) -> str:
    return PdqSignal().extract(Submission("x", ContentKind.IMAGE, content=picture))[0].value


def test_two_apis_and_two_workers_decide_every_item_exactly_once(
    fresh_db: str, redis_url: str, tmp_path: Path
) -> None:
    stream = f"topology:{uuid.uuid4().hex}"
    before, after = png(scene(101)), png(scene(102))
    engine = make_engine(fresh_db)
    migrate(engine)
    with engine.begin() as conn:
        key = create_key(conn, Role.INTEGRATOR)
        bank_store.upsert_bank(conn, Bank("known", TvecLabel.PRAISE), actor="test")
        bank_store.add_entries(conn, "known", [("text_sha256", text_sha256(f"post {n}"), None)
                                               for n in range(0, ITEMS, 4)], actor="test")
        bank_store.add_entries(conn, "known", [("pdq", _pdq(before), None)], actor="test")
    receiver = Receiver()
    env = {
        **os.environ,
        "TAKEDOWN_DATA_DIR": str(tmp_path / "data"),
        "TAKEDOWN_DATABASE_URL": fresh_db,
        "TAKEDOWN_QUEUE_URL": f"{redis_url}?stream={stream}",
        "TAKEDOWN_WEBHOOK_URLS": receiver.url,
        "TAKEDOWN_WEBHOOK_BACKOFF_SECONDS": "0.2",
        "TAKEDOWN_PDQ_INDEX_FILE": str(tmp_path / "shared" / "pdq-index.tdx"),
        "TAKEDOWN_CLASSIFIER": "off",
        "TAKEDOWN_JSON_LOGS": "on",  # INFO lines: the workers say where their index came from
    }
    snapshot = subprocess.run([sys.executable, "-m", "takedown.cli.main", "index", "snapshot"],
                              env=env, capture_output=True, text=True, timeout=120)
    assert snapshot.returncode == 0, snapshot.stderr
    assert '"count": 1' in snapshot.stdout
    deployment = Deployment(env, tmp_path / "processes.log")
    try:
        for n in (0, 1):
            deployment.start_api(n)
            deployment.start_worker()
        wait_for("both API processes", lambda: deployment.ready(0) and deployment.ready(1), 120)
        with engine.begin() as conn:  # banked by this process after the workers started
            bank_store.add_entries(conn, "known", [("pdq", _pdq(after), None)], actor="test")
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(headers=headers, timeout=30) as http:
            for start in range(0, ITEMS, 20):
                batch = [{"id": f"t-{n}", "kind": "text", "text": f"post {n}"}
                         for n in range(start, start + 20)]
                url = deployment.urls[(start // 20) % 2]
                assert http.post(f"{url}/v1/submissions", json={"items": batch}).status_code == 202
            def _decided() -> int:
                with engine.connect() as conn:
                    return int(conn.execute(
                        select(func.count()).select_from(decisions)).scalar_one())

            wait_for("the text items decided", lambda: _decided() >= ITEMS, 120)
            # The picture banked after start-up was committed before the text load began, and
            # the followers poll the feed each second: by now both workers have it.
            for n, picture in enumerate((before, after)):
                item = {"id": f"img-{n}", "kind": "image",
                        "content_base64": base64.b64encode(picture).decode()}
                response = http.post(f"{deployment.urls[n]}/v1/submissions", json=item)
                assert response.status_code == 202, response.text

            def image_actions() -> list[str]:
                bodies = [http.get(f"{deployment.urls[0]}/v1/submissions/img-{n}").json()
                          for n in (0, 1)]
                return [str((body.get("decision") or {}).get("action")) for body in bodies]

            wait_for("both pictures decided", lambda: "None" not in image_actions(), 60)
            wait_for("every decision delivered", lambda: len(receiver.delivered()) >= ITEMS + 2,
                     60)
    finally:
        deployment.stop()
        receiver.down()
        client = redis.Redis.from_url(redis_url)
        client.delete(stream, f"{stream}:dead")
        client.close()
    log = (tmp_path / "processes.log").read_text(errors="replace")
    with engine.connect() as conn:
        per_item = dict(conn.execute(
            select(submissions.c.item_id, func.count(decisions.c.id))
            .join(decisions, decisions.c.submission_id == submissions.c.id)
            .group_by(submissions.c.item_id)).all())
        removed = set(conn.execute(
            select(submissions.c.item_id).join(decisions, decisions.c.submission_id
                                               == submissions.c.id)
            .where(decisions.c.action == "remove")).scalars())
    engine.dispose()
    assert len(per_item) == ITEMS + 2 and set(per_item.values()) == {1}, "each decided once"
    assert {f"t-{n}" for n in range(0, ITEMS, 4)} | {"img-0"} <= removed
    assert "img-1" in removed, "a picture banked after start-up matched through the feed"
    assert log.count("PDQ entries from") >= 2, "both workers started from the snapshot file"
    assert len(receiver.delivered()) == ITEMS + 2
