"""Metrics against hand-computed values; perturbations are seeded and undone by the normaliser."""

from __future__ import annotations

import numpy as np
import pytest

from takedown.classify.metrics import calibration_bins, confusion, report
from takedown.classify.perturb import PERTURBATIONS, perturb_all


def test_report_matches_hand_computation() -> None:
    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([0, 0, 1, 1, 0, 2, 0, 2])
    rep = report(y_true, y_pred)
    assert rep.confusion[0] == [2, 1, 0, 0]
    assert rep.per_class["tvec"]["precision"] == pytest.approx(2 / 4)
    assert rep.per_class["tvec"]["recall"] == pytest.approx(2 / 3)
    assert rep.flagged_as_tvec["news"] == pytest.approx(1 / 2)
    assert rep.flagged_as_tvec["counter"] == pytest.approx(1 / 3)
    assert "other" not in rep.per_class  # absent classes do not enter macro-F1
    f1s = [m["f1"] for m in rep.per_class.values()]
    assert rep.macro_f1 == pytest.approx(sum(f1s) / 3)


def test_confusion_totals() -> None:
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 4, 100), rng.integers(0, 4, 100)
    cm = confusion(y, p)
    assert cm.sum() == 100 and np.trace(cm) == int((y == p).sum())


def test_calibration_of_perfectly_calibrated_scores() -> None:
    rng = np.random.default_rng(2)
    conf = rng.uniform(0.5, 1.0, 20000)
    y = np.zeros(20000, dtype=int)
    pred = np.where(rng.random(20000) < conf, 0, 1)
    proba = np.stack([np.where(pred == 0, conf, 1 - conf), np.where(pred == 1, conf, 1 - conf)], 1)
    _, ece = calibration_bins(proba, y)
    assert ece < 0.02


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_perturbations_are_seeded_and_change_text(name: str) -> None:
    texts = ["the soldiers will fight the enemies of the state tomorrow"] * 3
    a, b = perturb_all(texts, name), perturb_all(texts, name)
    assert a == b
    assert any(t != texts[0] for t in a)


def test_annotator_agreement_and_kappa() -> None:
    from takedown.classify.metrics import annotator_agreement

    same = annotator_agreement(["T", "N", "O", "N"], ["T", "N", "O", "N"])
    assert same["agreement"] == 1.0 and same["kappa"] == 1.0
    # Textbook case: 20 items, 70% raw agreement, chance agreement 0.5 -> kappa 0.4.
    first = ["T"] * 10 + ["N"] * 10
    second = ["T"] * 7 + ["N"] * 3 + ["T"] * 3 + ["N"] * 7
    result = annotator_agreement(first, second)
    assert result["agreement"] == pytest.approx(0.7)
    assert result["kappa"] == pytest.approx(0.4)
    assert result["confusion"]["T"]["N"] == 3
    with pytest.raises(ValueError):
        annotator_agreement(["T"], [])


def test_agreement_command_reads_tsv_and_names_bad_lines(tmp_path, capsys) -> None:
    import json

    from takedown.cli.main import main

    good = tmp_path / "pass.tsv"
    good.write_text("# header\na\tT\tT\nb\tN\tO\n", encoding="utf-8")
    assert main(["model", "agreement", str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["agreement"] == 0.5
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tT\n", encoding="utf-8")
    assert main(["model", "agreement", str(bad)]) == 2
    assert "line 1" in capsys.readouterr().err
