"""The issue's 'done when', scripted: submissions, hash matches, user reports, a removal order
met in time, one late and one that cannot be met, an appeal overturned and a lawful request.
The transparency report's every figure is checked against the script; every restrictive
decision has a valid statement of reasons; `audit verify` is clean, and tampering fails it."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, delete, func, select

from takedown.config import Settings
from takedown.core.banks import Bank
from takedown.core.content import ContentKind, make_submission
from takedown.core.taxonomy import TvecLabel
from takedown.legal.orders import NewOrder
from takedown.reports.sor import validate
from takedown.reports.sor_records import restrictive_decisions
from takedown.review.appeals import AppealService
from takedown.review.service import Reviewer
from takedown.services.ingest import accept
from takedown.services.runtime import Runtime
from takedown.storage import banks as bank_store
from takedown.storage.keys import Role, authenticate, create_key
from takedown.storage.ledger import append_event
from takedown.storage.legal_tables import sor_statements
from takedown.storage.reviews import SqlReviewStore
from takedown.storage.tables import cases, events, submissions

IMAGE_A = b"benign-test-image-A" * 50
IMAGE_B = b"benign-test-image-B" * 50


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(Settings(data_dir=tmp_path / "data", classifier=False))
    yield rt
    rt.close()


def _reviewer(rt: Runtime, name: str) -> Reviewer:
    with rt.engine.begin() as conn:
        token = create_key(conn, Role.REVIEWER, name=name)
        principal = authenticate(conn, token)
    return Reviewer(key_id=principal.key_id, actor=principal.actor)


def _case_of(conn: Connection, item_id: str) -> int:
    return int(
        conn.execute(
            select(func.max(cases.c.id))
            .join(submissions, submissions.c.id == cases.c.submission_id)
            .where(submissions.c.item_id == item_id)
        ).scalar_one()
    )


def _script(rt: Runtime, out: Path) -> None:
    now = datetime.now(UTC)
    with rt.engine.begin() as conn:
        bank_store.upsert_bank(conn, Bank("tvec", TvecLabel("TVEC1"), severity=4), actor="admin")
        bank_store.add_entries(
            conn,
            "tvec",
            [
                ("md5", hashlib.md5(IMAGE_A).hexdigest(), None),  # noqa: S324 - a bank format
                ("md5", hashlib.md5(IMAGE_B).hexdigest(), None),
            ],  # noqa: S324
            actor="admin",
        )
    rt.follower.load_all()
    items = [
        make_submission(item_id="a1", kind=ContentKind.IMAGE, content=IMAGE_A, account_id="u1"),
        make_submission(item_id="a2", kind=ContentKind.IMAGE, content=IMAGE_B, account_id="u2"),
        make_submission(item_id="t1", kind=ContentKind.TEXT, text="hello world"),
        make_submission(item_id="t2", kind=ContentKind.TEXT, text="a reported post"),
        make_submission(item_id="t3", kind=ContentKind.TEXT, text="a harmless reported post"),
        make_submission(item_id="o1", kind=ContentKind.TEXT, text="an ordered post"),
    ]
    accept(rt.engine, rt.queue, items)
    while rt.worker.run_once():
        pass
    ann, bob = _reviewer(rt, "ann"), _reviewer(rt, "bob")
    with rt.engine.begin() as conn:
        service = AppealService(SqlReviewStore(conn))
        service.report("t2", reporter="r1", reason="recruiting", actor="forum")
        service.report("t3", reporter="r2", reason="looks bad", actor="forum")
        service.decide(
            _case_of(conn, "t2"), ann, action="remove", label="TVEC7", reason="praise of an attack"
        )
        service.decide(
            _case_of(conn, "t3"), ann, action="none", label="TVEC0", reason="not terrorist content"
        )
        service.decide(
            _case_of(conn, "a1"), ann, action="remove", label="TVEC1", reason="confirmed copy"
        )
        service.decide(
            _case_of(conn, "a2"), ann, action="remove", label="TVEC1", reason="confirmed copy"
        )
        appeal = service.appeal(
            "a2", appellant="u2", reason="this is my news report", actor="forum"
        )
        service.decide_appeal(
            appeal["appeal_id"], bob, outcome="overturn", reason="news reporting", label="TVEC.01"
        )
        orders = rt.accountability.orders(conn)
        met = orders.receive(
            NewOrder(
                "Europol IRU",
                "TCO Art 3",
                "iru@example.org",
                item_id="o1",
                received_at=now - timedelta(minutes=20),
            ),
            actor="lead",
        )
        orders.action(met["id"], actor="reviewer:ann", reviewer_key_id=ann.key_id)
        orders.confirm(met["id"], reference="Annex II sent by e-mail", actor="ann")
        late = orders.receive(
            NewOrder(
                "DSC FR",
                "TCO Art 3",
                "dsc@example.fr",
                url="https://forum.example/t/2",
                received_at=now - timedelta(minutes=70),
            ),
            actor="lead",
        )
        orders.action(late["id"], actor="ops")
        stuck = orders.receive(
            NewOrder("DSC DE", "TCO Art 3", "dsc@example.de", url="https://forum.example/t/3"),
            actor="lead",
        )
        orders.unmet(stuck["id"], reason="force_majeure", detail="data centre flooded", actor="ops")
        append_event(
            conn,
            "account.decided",
            "account:u1",
            {
                "account_id": "u1",
                "action": "suspend",
                "proactive": True,
                "label": "TVEC1",
                "decision_id": None,
            },
        )
        append_event(
            conn,
            "account.decided",
            "account:u9",
            {
                "account_id": "u9",
                "action": "suspend",
                "proactive": False,
                "label": "TVEC6",
                "decision_id": None,
            },
        )
        append_event(conn, "exchange.received", "exchange:hub", {"source": "hub", "count": 5})
        append_event(conn, "exchange.published", "exchange:hub", {"count": 2})
    rt.accountability.housekeeping()
    with rt.engine.begin() as conn:
        requests = rt.accountability.requests(conn)
        req = requests.receive(
            authority="BKA",
            legal_basis="StPO",
            contact="bka@example.de",
            item_ids=["a1"],
            actor="lead",
        )
        requests.decide(req["id"], approve=True, reason="valid", actor="lead", is_lead=True)
    rt.accountability.export_request(req["id"], out, actor="lead")


def test_scripted_run(runtime: Runtime, tmp_path: Path) -> None:
    _script(runtime, tmp_path / "exports")
    day = datetime.now(UTC).date()
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    report = runtime.accountability.build_report(
        start, start + timedelta(days=1), "json", tmp_path / "report"
    )
    figures = json.loads((tmp_path / "report" / "transparency.json").read_text())
    assert figures["items_actioned"] == {
        "total": 4,
        "by_label": {"TVEC1": {"remove": 3}, "TVEC7": {"remove": 1}},
    }
    assert figures["proactive"] == {
        "items": 2,
        "items_share": 0.5,
        "accounts_actioned": 2,
        "accounts_proactive": 1,
        "accounts_share": 0.5,
    }
    assert figures["notices"] == {"received": 2, "actioned": 1}
    tta = figures["time_to_action_seconds"]
    assert {k: v["count"] for k, v in tta.items()} == {
        "proactive": 2,
        "removal_order": 1,
        "user_notice": 1,
    }
    assert 20 * 60 <= tta["removal_order"]["median"] < 25 * 60
    assert tta["proactive"]["p90"] < 120
    assert figures["removal_orders"] == {
        "received": 3,
        "met_within_one_hour": 1,
        "actioned_late": 1,
        "not_acted_on": 1,
        "not_acted_on_reasons": {"force_majeure": 1},
    }
    assert figures["appeals"] == {"filed": 1, "upheld": 0, "overturned": 1}
    assert figures["reinstatements"] == {"after_complaint": 1, "after_review": 0, "accounts": 0}
    assert figures["lawful_requests"] == {
        "received": 1,
        "approved": 1,
        "refused": 0,
        "answered": 1,
    }
    assert figures["exchange"] == {
        "hashes_received": 5,
        "hashes_contributed": 2,
        "feedback_sent": 0,
    }
    assert figures["evidence"] == {"preserved": 4, "purged": 0}
    assert report.checkpoint is not None
    assert figures["ledger_head"]["seq"] == report.checkpoint.seq

    with runtime.engine.connect() as conn:
        needed = {d for d, _ in restrictive_decisions(conn)}
        stored = {int(r.decision_id): dict(r.body) for r in conn.execute(select(sor_statements))}
    assert set(stored) == needed and len(needed) == 6  # 2 auto, 3 review, 1 order
    assert all(validate(body, terrorist=True) == [] for body in stored.values())
    ordered = [b for b in stored.values() if b.get("source_identity") == "Europol IRU"]
    assert ordered and ordered[0]["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"

    assert runtime.accountability.verify().ok
    with runtime.engine.begin() as conn:
        last = conn.execute(select(func.max(events.c.seq))).scalar_one()
        conn.execute(delete(events).where(events.c.seq == last))
    result = runtime.accountability.verify()
    assert not result.ok and result.first_bad_seq == last


def test_report_formats(runtime: Runtime, tmp_path: Path) -> None:
    _script(runtime, tmp_path / "exports")
    start = datetime.now(UTC) - timedelta(days=1)
    end = datetime.now(UTC) + timedelta(days=1)
    csv_report = runtime.accountability.build_report(start, end, "csv", tmp_path / "csv")
    names = sorted(p.name for p in csv_report.paths)
    assert "transparency.csv" in names and "template_1_orders.csv" in names
    with (tmp_path / "csv" / "template_1_orders.csv").open() as f:
        row = next(csv.DictReader(f))
    assert (row["orders_received"], row["orders_given_effect_within_1h"]) == ("3", "1")
    html = runtime.accountability.build_report(start, end, "html", tmp_path / "html")
    text = html.paths[0].read_text()
    assert "TCO Article 7(3)" in text and text.count("<svg") == 3
    assert re.search(r"""(src|href)=["']?(https?:)?//""", text) is None  # nothing fetched
    assert "<script" not in text


def test_cli_exports_and_reports(
    runtime: Runtime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from takedown.cli.main import main

    _script(runtime, tmp_path / "exports")
    monkeypatch.setenv("TAKEDOWN_DATA_DIR", str(runtime.settings.data_dir))
    monkeypatch.delenv("TAKEDOWN_DATABASE_URL", raising=False)
    today = datetime.now(UTC).date().isoformat()
    out = tmp_path / "sor.jsonl"
    assert main(["sor", "export", "--from", today, "--to", today, "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 6 and all(validate(json.loads(line)) == [] for line in lines)
    assert main(["sor", "validate", str(out)]) == 0
    assert (
        main(["sor", "export", "--from", "2020-01-01", "--to", "2020-01-02", "--out", str(out)])
        == 0
    )
    assert out.read_text() == ""
    assert (
        main(
            [
                "report",
                "build",
                "--from",
                today,
                "--to",
                today,
                "--format",
                "json",
                "--out",
                str(tmp_path / "r"),
            ]
        )
        == 0
    )
    built = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert built["items_actioned"] == 4
    assert (
        main(["report", "build", "--from", "tomorrow", "--to", today, "--out", str(tmp_path / "r")])
        == 2
    )
    assert main(["audit", "verify"]) == 0


def test_cli_order_and_request_workflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from takedown.cli.main import main

    monkeypatch.setenv("TAKEDOWN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TAKEDOWN_DATABASE_URL", raising=False)

    def run(*argv: str) -> dict[str, object]:
        assert main(list(argv)) == 0, argv
        return json.loads(capsys.readouterr().out.splitlines()[-1])  # type: ignore[no-any-return]

    order = run(
        "order",
        "receive",
        "--authority",
        "Europol IRU",
        "--legal-basis",
        "TCO Art 3",
        "--contact",
        "iru@example.org",
        "--url",
        "https://forum.example/t/8",
    )
    oid = str(order["id"])
    assert (
        run(
            "order",
            "unmet",
            oid,
            "--reason",
            "missing_information",
            "--detail",
            "which post?",
            "--by",
            "ops",
        )["state"]
        == "paused"
    )
    assert main(["order", "action", oid, "--by", "ops"]) == 4  # paused: a conflict
    capsys.readouterr()
    assert run("order", "resume", oid, "--by", "ops")["state"] == "received"
    assert run("order", "action", oid, "--by", "ops")["state"] == "actioned"
    assert run("order", "confirm", oid, "--reference", "Annex II", "--by", "ops")["state"] == (
        "confirmed"
    )
    assert run("order", "list", "--open")["orders"] == []
    req = run(
        "request",
        "receive",
        "--authority",
        "BKA",
        "--legal-basis",
        "StPO",
        "--contact",
        "bka@example.de",
        "--item",
        "nothing-here",
        "--by",
        "kim",
    )
    assert main(["request", "export", str(req["id"]), "--out", str(tmp_path), "--by", "kim"]) == 4
    capsys.readouterr()
    run("request", "decide", str(req["id"]), "--approve", "--reason", "ok", "--lead", "kim")
    package = Path(
        str(
            run("request", "export", str(req["id"]), "--out", str(tmp_path), "--by", "kim")[
                "package"
            ]
        )
    )
    assert (package / "manifest.sig").exists()
    assert main(["audit", "checkpoint"]) == 0 and main(["audit", "verify"]) == 0
