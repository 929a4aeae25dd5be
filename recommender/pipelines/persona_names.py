"""Names of persona models: what a published persona was trained with, written on the User
nodes (:func:`model_name`) and read back (:func:`published_config`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import learners.hdgi
from recommender.config import HDGIConfig
from recommender.util.hashing import code_digest, fingerprint


class PersonaError(RuntimeError):
    """Personas cannot be computed as asked."""


def model_name(config: HDGIConfig, seed: int, candidates: Sequence[HDGIConfig] = ()) -> str:
    """The persona model's name on the User nodes: what changes the personas changes it
    (the settings, and a digest of HDGI's code), so ``--if-stale`` retrains after a change of
    settings or an upgrade that changes the model. Training lengths chosen from
    ``candidates`` are named by a digest of the candidates (the published name adds the one
    chosen after a colon)."""
    if candidates:
        limits = [(c.epochs, c.patience) for c in candidates]
        tuned: dict[str, object] = {"limits": limits}
        if any(c.path_norm != config.path_norm for c in candidates):
            tuned["path_norm"] = [c.path_norm for c in candidates]
        length = f"-tuned{fingerprint(tuned)[:8]}"
    else:
        length = f"-epochs{config.epochs}-patience{config.patience}"
    # Settings added later name themselves only when changed, so that personas trained
    # before they existed keep their names (and stay current).
    extra = "-pathnorm" if config.path_norm else ""
    extra += "" if config.fusion == "attention" else f"-{config.fusion}"
    extra += f"-pathdrop{config.path_dropout:g}" if config.path_dropout else ""
    return (
        f"hdgi-{config.hidden_channels}d-lr{config.lr:g}-taste{config.taste_weight:g}"
        f"-profile{config.profile_weight:g}{extra}{length}"
        f"-seed{seed}-code{code_digest(Path(learners.hdgi.__file__).parent)[:8]}"
    )


_NUMBER = r"([0-9.e+-]+?)"


def published_config(model: str) -> HDGIConfig:
    """The HDGI settings a published persona model's name records (:func:`model_name`'s
    format; a chosen length and fusion after the colon), so that experiments which retrain
    HDGI (the unseen-user scenario) train it as the published personas were."""
    family, _, chosen = model.partition(":")

    def found(pattern: str, text: str) -> str:
        match = re.search(pattern, text)
        if match is None:
            raise PersonaError(f"cannot read HDGI settings from the persona model {model!r}")
        return match.group(1)

    rest = r"(?=-pathnorm|-mean|-pathdrop|-epochs|-tuned)"
    dropout = re.search(rf"-pathdrop{_NUMBER}(?=-epochs|-tuned)", family)
    return HDGIConfig(
        hidden_channels=int(found(r"^hdgi-(\d+)d-", family)),
        lr=float(found(rf"-lr{_NUMBER}-taste", family)),
        taste_weight=float(found(rf"-taste{_NUMBER}-profile", family)),
        profile_weight=float(found(rf"-profile{_NUMBER}{rest}", family)),
        path_norm="-pathnorm" in family or chosen.startswith("pathnorm-"),
        fusion="mean" if "-mean" in family else "attention",
        path_dropout=float(dropout.group(1)) if dropout else 0.0,
        epochs=int(found(r"epochs(\d+)", chosen or family)),
        patience=int(found(r"patience(\d+)", chosen or family)),
    )
