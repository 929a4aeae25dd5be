"""The report's note on the companion rows states the augmentation's settings as run."""

from __future__ import annotations

from learners.augmentation import AugmentConfig
from recommender.experiments.companions import Companions, augmentation_settings, companion_lines


def test_the_augmentation_note_names_a_calibrated_or_a_fixed_guidance() -> None:
    calibrated = augmentation_settings(AugmentConfig())
    assert "calibrated per seed on training data only" in calibrated
    assert "predicting the clean" in calibrated and "snaps" not in calibrated
    fixed = augmentation_settings(AugmentConfig(guidance=2.0, snap=True))
    assert "guidance weight 2;" in fixed and "snaps its clean estimate" in fixed
    assert "calibrated" not in fixed


def test_companion_notes_only_for_what_ran() -> None:
    assert companion_lines(Companions()) == []
    lines = companion_lines(Companions(augment=("sasrec",)))
    assert lines[0] == "## Counterfactual augmentation"
    assert lines[2] == augmentation_settings(AugmentConfig())
