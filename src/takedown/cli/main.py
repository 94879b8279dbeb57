"""The `takedown` command: a thin main() that finds its sub-commands and maps errors to exit codes.

Every module in this package that defines `register(subparsers)` contributes commands, so a
feature adds its verbs in its own module without editing this one. Each command's handler is
stored as `func` on its parser and receives the parsed arguments; it returns an exit code.

Exit codes: 0 ok, 1 unexpected failure, 2 invalid input, 3 not found, 4 conflict,
5 not authorised, 6 capability unavailable, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import takedown
from takedown.core.errors import (
    AuthError,
    Conflict,
    InvalidInput,
    NotFound,
    TakedownError,
    Unavailable,
)
from takedown.core.redact import install_log_redaction

EXIT_CODES: tuple[tuple[type[TakedownError], int], ...] = (
    (InvalidInput, 2),
    (NotFound, 3),
    (Conflict, 4),
    (AuthError, 5),
    (Unavailable, 6),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="takedown", description="Find and remove terrorist propaganda, fairly."
    )
    parser.add_argument("--version", action="version", version=f"takedown {takedown.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    import takedown.cli as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name == "main" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"takedown.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def exit_code_for(error: TakedownError) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(error, cls):
            return code
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    install_log_redaction()
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(func(args) or 0)
    except TakedownError as error:
        print(f"takedown: error: {error}", file=sys.stderr)
        return exit_code_for(error)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
