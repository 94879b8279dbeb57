"""Whatever a person types, validation answers with located issues, never a traceback."""

from __future__ import annotations

from importlib import resources

from hypothesis import given, settings
from hypothesis import strategies as st

from takedown.policy import PolicyValidationError, parse_policy

DEFAULT_TEXT = resources.files("takedown.policy").joinpath("default.yaml").read_text("utf-8")
LINES = DEFAULT_TEXT.splitlines()
TOKENS = ["", "x", "- ", ": ", "{", "}", "[", "]", "true", "-1", "2.5", "null", "'", '"',
          "  ", "TVEC9", "always: true", "{min: 3}", "\t", "&a", "*a", "!!python/none"]


@st.composite
def edited_policies(draw):
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        line = lines[index]
        cut = draw(st.integers(0, len(line)))
        token = draw(st.sampled_from(TOKENS))
        choice = draw(st.sampled_from(["insert", "replace", "delete"]))
        if choice == "insert":
            lines[index] = line[:cut] + token + line[cut:]
        elif choice == "replace":
            lines[index] = line[:cut] + token
        else:
            del lines[index]
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None)
@given(text=edited_policies())
def test_edited_policies_parse_or_fail_with_located_issues(text):
    try:
        parse_policy(text, source="edited.yaml")
    except PolicyValidationError as error:
        assert error.issues
        line_count = text.count("\n") + 1
        for issue in error.issues:
            assert issue.source == "edited.yaml"
            assert 1 <= issue.line <= line_count + 1
            assert issue.message


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_arbitrary_text_never_escapes_as_another_error(text):
    try:
        parse_policy(text)
    except PolicyValidationError as error:
        assert error.issues
