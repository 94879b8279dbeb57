"""Worker threads at a lower CPU priority than the API (`TAKEDOWN_WORKER_NICE`).

On a small machine the API and the workers share the cores. A request is a few milliseconds of
work; a worker batch is hundreds. At equal priority an accept that arrives while both cores
run worker batches waits for the scheduler to rotate them out, and that wait is what the accept
p99 measures. Raising the workers' nice value lets the kernel run the API first whenever it has
something to do, while the workers still get every cycle the API leaves.

Linux keeps a nice value per thread, so only the worker threads are lowered: in `takedown
serve` (in-process workers) the API's own threads keep their priority. Elsewhere (no per-thread
nice) the whole process is lowered, which is right for a `takedown worker` process. Lowering is
one-way for an unprivileged process, so this only ever adds to the current value.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

MAX_NICE = 19


def lower_thread_priority(increment: int) -> int | None:
    """Add `increment` (clamped to the nice range) to the calling thread's nice value; returns
    the new value, or None when `increment` is 0 or the system refuses (logged, never fatal)."""
    if increment <= 0:
        return None
    try:
        if sys.platform.startswith("linux"):
            tid = threading.get_native_id()
            target = min(MAX_NICE, os.getpriority(os.PRIO_PROCESS, tid) + increment)
            os.setpriority(os.PRIO_PROCESS, tid, target)
            return target
        return os.nice(increment)
    except (OSError, AttributeError) as error:
        log.warning("could not lower the worker's priority by %d: %s", increment, error)
        return None
