"""Worker CPU per item, in process and without HTTP: the figure behind decided/s.

Builds a runtime on a fresh SQLite file (or `--database-url`), banks 1 in 40 of the load
bench's texts, accepts N short posts carrying one of 500 account ids (as bench/load.py sends),
and runs `Worker.run_once` until the table is drained, timing it with `time.process_time` (so
other jobs on the machine change it little). `--profile` prints the cProfile top 40.

    python bench/worker_cpu.py --items 3000 --classifier off
    python bench/worker_cpu.py --items 2000 --classifier on --profile
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import load_texts  # noqa: E402 - a sibling script, not a package

from takedown.config import Settings  # noqa: E402
from takedown.core.banks import Bank  # noqa: E402
from takedown.core.content import ContentKind, make_submission  # noqa: E402
from takedown.core.taxonomy import TvecLabel  # noqa: E402
from takedown.services import ingest  # noqa: E402
from takedown.services.runtime import Runtime  # noqa: E402
from takedown.signals.exact import text_sha256  # noqa: E402
from takedown.storage import banks as bank_store  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--classifier", choices=["on", "off"], default="off")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    texts = load_texts()
    tmp = Path(tempfile.mkdtemp(prefix="takedown-worker-cpu-"))
    settings = Settings(data_dir=tmp / "data",
                        database_url=args.database_url or f"sqlite:///{tmp / 't.db'}",
                        classifier=args.classifier == "on", worker_batch=64)
    runtime = Runtime(settings)
    rng = random.Random(1)

    def items(count: int, first: int) -> list:  # type: ignore[type-arg]
        return [make_submission(item_id=f"x{first + i}", kind=ContentKind.TEXT,
                                text=rng.choice(texts), account_id=f"acct-{rng.randrange(500)}")
                for i in range(count)]

    try:
        with runtime.engine.begin() as conn:
            bank_store.upsert_bank(conn, Bank("bench", TvecLabel.PRAISE), actor="bench")
            bank_store.add_entries(conn, "bench", [("text_sha256", text_sha256(t), None)
                                                   for t in texts[::40]], actor="bench")
        runtime.follower.load_all()
        ingest.accept(runtime.engine, runtime.queue, items(128, 0))  # warm-up, not timed
        while runtime.worker.run_once():
            pass
        for start in range(0, args.items, 1000):
            ingest.accept(runtime.engine, runtime.queue,
                          items(min(1000, args.items - start), 1000 + start))
        profile = cProfile.Profile() if args.profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profile:
            profile.enable()
        while runtime.worker.run_once():
            pass
        if profile:
            profile.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        runtime.close()
    print(f"classifier={args.classifier} items={args.items} "
          f"cpu_ms_per_item={1000 * cpu / args.items:.3f} items_per_s_wall={args.items / wall:.0f}")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
