"""`takedown model train|evaluate|agreement` and `takedown classify` (JSON lines in and out).

`classify` reads `{"id": ..., "text": ...}` per line on stdin and writes, per input line and in
order, `{"id", "label", "scores": {tvec, news, counter, other}, "lang", "evidence"}`. A bad line
stops the run with exit 2 and names the line, so a pipeline never silently drops an item.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from takedown.core.errors import InvalidInput

BATCH = 256
EXTRA_HELP = "folder of texts kept out of the repository ($TAKEDOWN_EXTRA_DATA; docs/annotation.md)"
MAX_LINE_CHARS = 1_000_000


def default_data_dir() -> Path:
    env = os.environ.get("TAKEDOWN_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3].parent / "shared" / "data"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    model = subparsers.add_parser("model", help="train and evaluate the text classifier")
    verbs = model.add_subparsers(dest="model_command", metavar="VERB")

    def model_help(args: argparse.Namespace) -> int:
        model.print_help(sys.stderr)
        return 2

    model.set_defaults(func=model_help)

    train = verbs.add_parser("train", help="rebuild models/classifier from the shared corpora")
    train.add_argument("--data", type=Path, default=None, help="shared data folder")
    train.add_argument("--out", type=Path, default=None, help="model folder to write")
    train.add_argument("--cache", type=Path, default=None, help="embedding cache folder")
    train.add_argument("--extra-data", type=Path, default=None, help=EXTRA_HELP)
    train.set_defaults(func=run_train)

    evaluate = verbs.add_parser("evaluate", help="score the model on its held-out test split")
    evaluate.add_argument("--data", type=Path, default=None, help="shared data folder")
    evaluate.add_argument("--model", type=Path, default=None, help="model folder")
    evaluate.add_argument("--cache", type=Path, default=None, help="embedding cache folder")
    evaluate.add_argument("--extra-data", type=Path, default=None, help=EXTRA_HELP)
    evaluate.add_argument("--write-docs", action="store_true", help="regenerate docs/evaluation.md")
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluate.set_defaults(func=run_evaluate)

    agreement = verbs.add_parser(
        "agreement", help="agreement and Cohen's kappa of two annotation passes (TSV)"
    )
    agreement.add_argument("file", type=Path, help="lines: item <TAB> first pass <TAB> second")
    agreement.set_defaults(func=run_agreement)

    classify = subparsers.add_parser("classify", help="classify JSON lines {id, text} from stdin")
    classify.add_argument("--model", type=Path, default=None, help="model folder")
    classify.add_argument(
        "--tiers", choices=("auto", "fast", "semantic"), default="auto", help="which tiers to run"
    )
    classify.set_defaults(func=run_classify)


def run_train(args: argparse.Namespace) -> int:
    from takedown.classify.encoder import default_cache_dir
    from takedown.classify.model import default_model_dir
    from takedown.classify.training import train

    result = train(
        args.data or default_data_dir(),
        args.out or default_model_dir(),
        cache_dir=args.cache or default_cache_dir(),
        extra=args.extra_data,
    )
    print(json.dumps({"model_dir": str(result.model_dir), **result.config.to_json()}, indent=2))
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from takedown.classify.docs import write_docs
    from takedown.classify.encoder import default_cache_dir
    from takedown.classify.evaluation import evaluate, summary_lines
    from takedown.classify.model import TieredClassifier

    classifier = TieredClassifier.load(args.model)
    figures = evaluate(
        classifier,
        args.data or default_data_dir(),
        cache_dir=args.cache or default_cache_dir(),
        extra=args.extra_data,
    )
    if args.write_docs:
        repo = Path(__file__).resolve().parents[3]
        write_docs(figures, repo / "docs")
    if args.json:
        print(json.dumps(figures, indent=2, ensure_ascii=False, default=str))
    else:
        print("\n".join(summary_lines(figures)))
    return 0


def run_agreement(args: argparse.Namespace) -> int:
    from takedown.classify.metrics import annotator_agreement

    first: list[str] = []
    second: list[str] = []
    try:
        lines = args.file.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise InvalidInput(f"cannot read {args.file}: {error.strerror}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) != 3:
            raise InvalidInput(f"line {number} needs 3 tab-separated cells: item, first, second")
        first.append(cells[1].strip())
        second.append(cells[2].strip())
    if not first:
        raise InvalidInput(f"{args.file} holds no annotated items")
    print(json.dumps(annotator_agreement(first, second), indent=2))
    return 0


def read_items(stream: TextIO) -> Iterator[tuple[str, str]]:
    """(id, text) per non-empty line; a malformed line is an InvalidInput naming its number."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE_CHARS:
            raise InvalidInput(f"line {number} is longer than {MAX_LINE_CHARS} characters")
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            raise InvalidInput(
                f"line {number} is not JSON: {error.msg}", hint='one {"id", "text"} object per line'
            ) from None
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise InvalidInput(
                f"line {number} needs a string 'text'", hint='{"id": "1", "text": "..."}'
            )
        item_id = obj.get("id")
        if not isinstance(item_id, str | int) or isinstance(item_id, bool):
            raise InvalidInput(f"line {number} needs an 'id' (string or integer)")
        yield str(item_id), obj["text"]


def classify_stream(classifier: Any, stream: TextIO, out: TextIO, *, tiers: str = "auto") -> int:
    """Classify in batches (the encoder is much faster per text in batches); returns the count."""
    count = 0
    batch: list[tuple[str, str]] = []

    def flush() -> None:
        results = classifier.classify([text for _, text in batch], tiers=tiers)
        for (item_id, _), result in zip(batch, results, strict=True):
            out.write(json.dumps({"id": item_id, **result.to_json()}, ensure_ascii=False) + "\n")
        out.flush()
        batch.clear()

    for item in read_items(stream):
        batch.append(item)
        count += 1
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return count


def run_classify(args: argparse.Namespace) -> int:
    from takedown.classify.model import TieredClassifier

    classifier = TieredClassifier.load(args.model)
    classify_stream(classifier, sys.stdin, sys.stdout, tiers=args.tiers)
    return 0
