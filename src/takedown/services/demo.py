"""Demo data for `takedown serve --demo`: a bank, stand-in files and a few submissions.

Everything is benign: a generated picture and a placeholder sentence *stand in* for known
propaganda, so a new user can watch a match become a removal without handling real material.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import Connection

from takedown.core.banks import Bank
from takedown.core.content import ContentKind, make_submission
from takedown.core.errors import AuthError
from takedown.core.taxonomy import TvecLabel
from takedown.services import ingest
from takedown.services.runtime import Runtime
from takedown.signals.exact import text_sha256
from takedown.storage import banks as bank_store
from takedown.storage.keys import Role, authenticate, create_key

DEMO_BANK = "demo-known-tvec"
KEYS_FILE = "keys.json"
DEMO_ROLES = (Role.ADMIN, Role.INTEGRATOR, Role.REVIEWER, Role.LEAD, Role.AUDITOR)
DEMO_TEXT = "DEMO stand-in: this sentence plays the part of a known propaganda text."


@dataclass(frozen=True)
class DemoInfo:
    keys: dict[str, str]
    image_path: Path
    text: str

    def describe(self, base_url: str) -> str:
        integrator = self.keys["integrator"]
        return "\n".join(
            [
                "Takedown demo loaded.",
                *(f"  {role:<10} key: {key}" for role, key in self.keys.items()),
                f"  demo bank {DEMO_BANK!r} holds the MD5/SHA-256 of {self.image_path}",
                "  and the normalised-text hash of the demo sentence. Try:",
                f"  curl -s -H 'Authorization: Bearer {integrator}' -H 'Content-Type: "
                f'application/json\' -d \'{{"id":"t1","kind":"text","text":"{self.text}"}}\''
                f" {base_url}/v1/submissions",
                f"  curl -s -H 'Authorization: Bearer {integrator}' -F id=f1 -F "
                f"file=@{self.image_path} {base_url}/v1/submissions",
                f"  Review workbench: {base_url}/review/ (sign in with the reviewer key)",
                f"  API docs: {base_url}/docs",
            ]
        )


def demo_image_bytes() -> bytes:
    image = Image.new("RGB", (320, 240), (24, 24, 24))
    draw = ImageDraw.Draw(image)
    for n in range(12):
        draw.rectangle((n * 24, n * 16, n * 24 + 60, n * 16 + 40), outline=(200, 40 + n * 16, 40))
    draw.text((20, 200), "TAKEDOWN DEMO STAND-IN", fill=(240, 240, 240))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _demo_keys(conn: Connection, path: Path) -> dict[str, str]:
    """The demo keys of an earlier start if they still work, else new ones, kept in a file
    only the owner can read: restarting `serve --demo` must not leave five more valid keys
    behind each time. The integrator key uses the default tenant, which the demo items are in."""
    saved: dict[str, str] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            saved = {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            saved = {}
    keys: dict[str, str] = {}
    for role in DEMO_ROLES:
        key = saved.get(role.value)
        if key is not None:
            try:
                if authenticate(conn, key).role is role:
                    keys[role.value] = key
                    continue
            except AuthError:
                pass
        keys[role.value] = create_key(
            conn, role, name="demo", actor="demo", tenant="" if role is Role.INTEGRATOR else None
        )
    if keys != saved:
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text(json.dumps(keys, indent=2), encoding="utf-8")
    return keys


def load_demo(runtime: Runtime) -> DemoInfo:
    demo_dir = runtime.settings.data_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    image_path = demo_dir / "known-stand-in.png"
    if not image_path.exists():
        image_path.write_bytes(demo_image_bytes())
    content = image_path.read_bytes()
    entries = [
        ("md5", hashlib.md5(content, usedforsecurity=False).hexdigest(), "demo image"),
        ("sha256", hashlib.sha256(content).hexdigest(), "demo image"),
        ("text_sha256", text_sha256(DEMO_TEXT), "demo sentence"),
    ]
    with runtime.engine.begin() as conn:
        bank_store.upsert_bank(
            conn,
            Bank(name=DEMO_BANK, label=TvecLabel.BRANDED, severity=4, source="demo"),
            actor="demo",
        )
        bank_store.add_entries(conn, DEMO_BANK, entries, actor="demo")
        keys = _demo_keys(conn, demo_dir / KEYS_FILE)
    runtime.follower.poll()
    items = [
        make_submission(
            item_id="demo-1",
            kind=ContentKind.TEXT,
            account_id="demo-account-1",
            text=DEMO_TEXT.upper(),
        ),
        make_submission(
            item_id="demo-2", kind=ContentKind.IMAGE, account_id="demo-account-1", content=content
        ),
        make_submission(
            item_id="demo-3",
            kind=ContentKind.TEXT,
            account_id="demo-account-2",
            text="Reporting from the city council meeting on new bike lanes.",
        ),
    ]
    ingest.accept(runtime.engine, runtime.queue, items, source="demo", actor="demo")
    return DemoInfo(keys=keys, image_path=image_path.resolve(), text=DEMO_TEXT)
