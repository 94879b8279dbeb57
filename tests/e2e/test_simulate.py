"""`takedown simulate` end to end on a small benign fixture corpus with drawn images: the
simulator reaches Takedown only through HTTP, and its JSON carries every headline figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from takedown.cli.main import main
from takedown.simulate import SimParams, load_fixture, simulate

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "simulate" / "corpus.json"
SMALL = dict(days=0.75, ordinary=12, news_orgs=2, counter_speech=2, extremist_networks=2,
             extremists_per_network=3, classifier=False, tick_minutes=60)


def test_a_small_world_suspends_extremists_and_finds_their_comebacks() -> None:
    result = simulate(SimParams(seed=3, **SMALL, return_pause_hours=(1.0, 3.0),
                                extremist_posts_per_day=12.0), load_fixture(CORPUS), [])
    assert result["extremist_recall"] > 0.5
    assert result["collateral_rate"] == 0.0
    assert result["evaders"] >= 1 and result["evaders_found"] >= 1
    assert result["evader_redetect_posts_median"] is not None
    assert result["evader_redetect_posts_median"] <= 5
    assert result["timeline"] and result["posts"] > 20


def test_the_cli_prints_the_headline_figures_as_json(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    args = ["simulate", "--seed", "1", "--corpus", str(CORPUS), "--no-classifier", "--json"]
    for name, value in SMALL.items():
        if name != "classifier":
            args += ["--set", f"{name}={value}"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("proactive_rate", "collateral_rate", "evader_redetect_posts_median",
                "time_to_suspend_median_s", "extremist_recall"):
        assert key in out
    assert out["params"]["seed"] == 1 and out["params"]["ordinary"] == 12


def test_a_bad_parameter_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--corpus", str(CORPUS), "--set", "nonsense=1"]) == 2
    assert "unknown parameter" in capsys.readouterr().err
