"""Nothing in the detection path may read the simulator's ground truth: no module under these
packages imports takedown.simulate (checked on the source, so a lazy import counts too)."""

from __future__ import annotations

import ast
from pathlib import Path

import takedown

DETECTION_PATH = ("detect", "accounts", "services", "api", "policy", "web", "storage",
                  "signals", "index", "classify", "core", "actions", "review")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_detection_module_imports_the_simulator() -> None:
    root = Path(takedown.__file__).parent
    offenders = []
    checked = 0
    for package in DETECTION_PATH:
        for path in (root / package).rglob("*.py"):
            checked += 1
            if any(n == "takedown.simulate" or n.startswith("takedown.simulate.")
                   for n in _imports(path)):
                offenders.append(str(path.relative_to(root)))
    assert checked > 50
    assert offenders == []


def test_the_checker_would_catch_an_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from takedown.simulate.world import World\n")
    assert "takedown.simulate.world" in _imports(bad)
