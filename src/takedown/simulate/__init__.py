"""A platform simulator that drives Takedown only through its public HTTP API and keeps the
ground truth to itself (see world.py and docs/simulation.md).

    result = simulate(SimParams(seed=1), load_shared(Path("../shared/data")), images)

Nothing in the detection path imports this package; tests/unit/accounts/test_ground_truth.py
and an import-linter contract enforce it.
"""

from takedown.simulate.corpus import Corpus, load_fixture, load_shared
from takedown.simulate.driver import simulate
from takedown.simulate.params import SimParams

__all__ = ["Corpus", "SimParams", "load_fixture", "load_shared", "simulate"]
