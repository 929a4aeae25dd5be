"""Names of kept experiment models: what they were trained from, hashed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import learners.sasrec
from learners.sasrec.data import SequenceData
from recommender.config import SASRecConfig
from recommender.pipelines import inputs as inputs_module
from recommender.pipelines.inputs import RetrieverVariant, TrainingInputs, UserVector
from recommender.util.hashing import array_digest, code_digest, fingerprint

# Settings that only variants with a user vector read: they go into those variants' user
# tag, not into the experiment's fingerprint, so variants without a user vector are kept
# across changes of them.
USER_SETTINGS = ("user_dropout",)


def experiment_fingerprint(inputs: TrainingInputs, config: SASRecConfig, device: str) -> str:
    """Names one experiment's models in a :class:`~recommender.experiments.runstore.RunStore`:
    the same sequences, item vectors, settings, device and model-building code (the input
    module's and SASRec's, by :func:`code_digest`) give the same models (training is
    deterministic on a device). User vectors, and the settings only they read, are told
    apart per variant by :func:`user_tag`, so variants and seeds can be added later."""
    data = inputs.data
    shared = {k: v for k, v in config.model_dump().items() if k not in USER_SETTINGS}
    lengths = np.array([len(seq) for seq in data.train], np.int64)
    train = np.concatenate(data.train).astype(np.int64) if data.train else np.zeros(0, np.int64)
    return fingerprint(
        {
            "dataset": inputs.dataset,
            "settings": shared,
            "device": device.split(":")[0],
            "code": code_digest(
                Path(inputs_module.__file__), Path(learners.sasrec.__file__).parent
            ),
            "items": [str(i) for i in data.items],
            "users": [str(u) for u in data.users],
            "arrays": array_digest(
                lengths,
                train,
                np.asarray(data.valid, np.int64),
                np.asarray(data.test, np.int64),
                np.asarray(inputs.item_features, np.float32),
            ),
        }
    )


def sequence_fingerprint(dataset: str, data: SequenceData) -> str:
    """Names what a peer trained outside kgrec learns from and is scored on: the dataset's
    catalogue, users and split sequences, nothing else. Personas, item vectors and kgrec's
    code do not change a peer's run, so they do not name it; nor do floating-point values,
    so the same split names the same runs on any machine."""
    lengths = np.array([len(seq) for seq in data.train], np.int64)
    train = np.concatenate(data.train).astype(np.int64) if data.train else np.zeros(0, np.int64)
    return fingerprint(
        {
            "dataset": dataset,
            "items": [str(i) for i in data.items],
            "users": [str(u) for u in data.users],
            "arrays": array_digest(
                lengths, train, np.asarray(data.valid, np.int64), np.asarray(data.test, np.int64)
            ),
        }
    )


def user_tag(inputs: TrainingInputs, variant: RetrieverVariant, config: SASRecConfig) -> str:
    """The fixed user vectors a variant trains with (personas) as a short hash, and the
    user-only settings; empty for variants without a user vector."""
    if variant.user is UserVector.NONE:
        return ""
    vectors = inputs.user_features.get(variant.user)
    tag = "" if vectors is None else array_digest(vectors.astype(np.float32), length=12)
    settings = config.model_dump()
    extra = "-".join(f"{name.replace('_', '')}{settings[name]:g}" for name in USER_SETTINGS)
    return "-".join(part for part in (tag, extra) if part)
