"""Every state-changing form in the reviewer UI carries a CSRF token, the sign-in form
included: a template that adds a POST form without one fails here."""

from __future__ import annotations

import re
from pathlib import Path

import takedown.web

TEMPLATES = Path(takedown.web.__file__).resolve().parent / "templates"
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.DOTALL | re.IGNORECASE)


def test_every_post_form_has_a_csrf_field() -> None:
    forms = []
    for template in sorted(TEMPLATES.glob("*.html")):
        for attributes, body in FORM.findall(template.read_text(encoding="utf-8")):
            if re.search(r'method\s*=\s*"post"', attributes, re.IGNORECASE):
                forms.append((template.name, attributes, body))
    assert len(forms) >= 5
    missing = [(name, attrs) for name, attrs, body in forms if 'name="csrf"' not in body]
    assert not missing, f"POST forms without a csrf field: {missing}"
    assert any(name == "login.html" for name, _, _ in forms)
