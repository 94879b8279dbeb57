"""One thread per process for the native math libraries (OpenBLAS, OpenMP, MKL).

Takedown scales out by processes (`takedown worker` several times, API processes beside them),
so each process's BLAS and OpenMP pools must not start one thread per core of their own: on
two cores, two workers and the API with two OpenBLAS threads each spin against one another,
and the classifier's 64x512x256 hidden layer took 3.7 ms wall / 2.1 ms CPU per batch instead
of 0.8 / 0.5 with one thread (measured, quiet machine). `TAKEDOWN_NATIVE_THREADS` (default 1)
sets the size; 0 leaves the libraries' own defaults.

Libraries loaded later read the environment variables set here; those already loaded (numpy's
OpenBLAS) are limited through threadpoolctl.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_native_threads(threads: int) -> None:
    """Cap the native pools of this process at `threads` (no-op for 0)."""
    if threads <= 0:
        return
    for name in ENV_VARS:
        os.environ.setdefault(name, str(threads))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # a library loaded later still reads the variables above
        return
    try:
        threadpool_limits(limits=threads)
    except Exception:  # noqa: BLE001 - an odd BLAS build must not stop the service
        log.warning("could not limit native thread pools", exc_info=True)
