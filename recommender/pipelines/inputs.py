"""What a SASRec of kgrec trains from, and how it is built and fitted: the sequences of the
recorded split, the item text vectors and the user vectors a variant needs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from kgstore.export import GraphExport, read_node_vectors
from kgstore.graph import Graph
from kgstore.personas import read_personas
from kgstore.splits import in_time_order, load_split, recorded_split_hash
from learners.epochs import TrainResult
from learners.sasrec.data import SequenceData
from learners.sasrec.model import Fusion, SASRec
from learners.sasrec.train import train_sasrec
from recommender.config import SASRecConfig
from recommender.evaluation.metrics import ndcg
from recommender.evaluation.ranking import full_ranks

FUSIONS: tuple[Fusion, ...] = ("input", "output")


class UserVector(StrEnum):
    """What a retriever knows about the user beyond the session."""

    NONE = "none"  # nothing: plain SASRec
    RANDOM = "random"  # a learned embedding per user, from random initialisation
    LLM = "llm"  # LLM-written preference keywords, embedded (User.llm_persona)
    PERSONA = "persona"  # the HDGI persona learned from the knowledge graph (User.persona)
    SHUFFLED = "shuffled"  # control: another user's persona (a fixed derangement)

    @property
    def label(self) -> str:
        """The method's name for it, as reports print it."""
        return _USER_LABELS[self]

    @classmethod
    def from_label(cls, label: str) -> UserVector:
        """The user vector of a label, or of its value (``shuffled``)."""
        for vector, name in _USER_LABELS.items():
            if label in (name, vector.value):
                return vector
        raise ValueError(f"no user vector is called {label!r}")


class ItemVector(StrEnum):
    """How a retriever represents items."""

    ID = "id"  # a learned embedding per item, from random initialisation
    TEXT = "text"  # the item's text embedding, projected (plus a learned offset)

    @property
    def label(self) -> str:
        return _ITEM_LABELS[self]


_USER_LABELS = {
    UserVector.NONE: "None",
    UserVector.RANDOM: "Random",
    UserVector.LLM: "LLM",
    UserVector.PERSONA: "KG+LLM",
    UserVector.SHUFFLED: "KG+LLM (shuffled)",
}
_ITEM_LABELS = {ItemVector.ID: "Random", ItemVector.TEXT: "Description (LLM)"}
# Node property of each fixed user vector.
USER_PROPERTY = {UserVector.LLM: "llm_persona", UserVector.PERSONA: "persona"}


@dataclass(frozen=True)
class RetrieverVariant:
    """One SASRec retriever: which user and item vectors it reads."""

    user: UserVector
    item: ItemVector

    @property
    def key(self) -> str:
        """A stable identifier for dictionaries and file names, e.g. ``persona-text``."""
        return f"{self.user.value}-{self.item.value}"

    @property
    def label(self) -> str:
        """The method's name for it, e.g. ``KG+LLM / Description (LLM)``."""
        return f"{self.user.label} / {self.item.label}"


PLAIN = RetrieverVariant(UserVector.NONE, ItemVector.ID)  # plain SASRec: the reranker
PERSONA_RETRIEVER = RetrieverVariant(UserVector.PERSONA, ItemVector.TEXT)  # the product's
RANDOM_RETRIEVER = RetrieverVariant(UserVector.RANDOM, ItemVector.TEXT)
# Control: the persona retriever trained and tested with every user's persona swapped for
# another user's. What the persona adds must show against it.
SHUFFLED_RETRIEVER = RetrieverVariant(UserVector.SHUFFLED, ItemVector.TEXT)
VARIANTS = (
    PLAIN,
    RetrieverVariant(UserVector.NONE, ItemVector.TEXT),
    RANDOM_RETRIEVER,
    RetrieverVariant(UserVector.LLM, ItemVector.TEXT),
    PERSONA_RETRIEVER,
    SHUFFLED_RETRIEVER,
)
SHUFFLE_SEED = 0  # fixes the derangement of the shuffled control


def for_catalogue(
    variants: tuple[RetrieverVariant, ...], has_text: bool
) -> tuple[RetrieverVariant, ...]:
    """``variants`` as a catalogue allows: where no item has text (a dataset with ids and
    attributes only), text items become learned item embeddings; duplicates are dropped."""
    if has_text:
        return variants
    return tuple(dict.fromkeys(RetrieverVariant(v.user, ItemVector.ID) for v in variants))


def catalogue_variant(variant: RetrieverVariant, inputs: TrainingInputs) -> RetrieverVariant:
    """The one variant as ``inputs``' catalogue allows (see :func:`for_catalogue`)."""
    return for_catalogue((variant,), inputs.has_text)[0]


@dataclass
class TrainingInputs:
    """Sequences and the fixed vectors the variants read.

    Attributes:
        item_features: ``(n_items + 1, F)``; row 0 (padding) and items without text are zero.
        user_features: fixed user vectors, ``(users, F)`` aligned with ``data.users``.
        persona_version: the version of the personas read, if any.
    """

    dataset: str
    data: SequenceData
    item_features: np.ndarray
    user_features: dict[UserVector, np.ndarray]
    persona_version: str | None = None

    @property
    def has_text(self) -> bool:
        """Whether any item has a text vector."""
        return bool(self.item_features[1:].any())


def load_inputs(
    graph: Graph,
    home: Path,
    export: GraphExport,
    variants: tuple[RetrieverVariant, ...] = VARIANTS,
) -> TrainingInputs:
    """Sequences from the split recorded at ingestion (hash checked), the catalogue and item
    text embeddings from the graph export, and the user vectors the variants need."""
    dataset = graph.dataset
    split = load_split(home, dataset, recorded_split_hash(graph))
    data = SequenceData.from_split(in_time_order(split), catalogue=export.ids["Item"].tolist())
    if any(v.item is ItemVector.TEXT for v in variants) and not export.has_feature["Item"].any():
        raise ValueError(f"items of {dataset!r} have no text embeddings; run kgrec embed first")
    items = export.features["Item"]
    item_features = np.vstack([np.zeros((1, items.shape[1]), np.float32), items])
    user_features: dict[UserVector, np.ndarray] = {}
    persona_version = None
    kinds = {v.user for v in variants}
    if UserVector.SHUFFLED in kinds:
        kinds.add(UserVector.PERSONA)
    for kind in sorted(kinds & set(USER_PROPERTY)):
        missing = ValueError(
            f"users of {dataset!r} have no {kind.label} personas; run "
            + ("kgrec personas" if kind is UserVector.PERSONA else "kgrec llm-persona")
        )
        if kind is UserVector.PERSONA:  # versioned: one consistent version, never a mix
            personas = read_personas(graph)
            if personas is None:
                raise missing
            ids, vectors, persona_version = personas.ids, personas.vectors, personas.version
        else:
            ids, vectors, present = read_node_vectors(graph, "User", USER_PROPERTY[kind])
            if not present.any():
                raise missing
        found = pd.Index(ids).get_indexer(pd.Index(data.users))
        aligned = np.zeros((len(data.users), vectors.shape[1]), np.float32)
        aligned[found >= 0] = vectors[found[found >= 0]]
        user_features[kind] = aligned
    if UserVector.SHUFFLED in kinds:
        own = user_features[UserVector.PERSONA]
        user_features[UserVector.SHUFFLED] = own[derangement(len(own), SHUFFLE_SEED)]
    return TrainingInputs(dataset, data, item_features, user_features, persona_version)


def derangement(n: int, seed: int) -> np.ndarray:
    """A permutation of ``range(n)`` that moves every index (for ``n >= 2``): a random
    order, each position taking the next one's index, so no user keeps their own row."""
    if n < 2:
        return np.arange(n)
    order = np.random.default_rng(seed).permutation(n)
    result = np.empty(n, dtype=np.int64)
    result[order] = np.roll(order, -1)
    return result


def build_model(
    variant: RetrieverVariant,
    fusion: Fusion | None,
    inputs: TrainingInputs,
    config: SASRecConfig,
) -> SASRec:
    """An untrained SASRec of ``variant`` (the caller seeds torch first)."""
    text = variant.item is ItemVector.TEXT
    item_features = torch.from_numpy(inputs.item_features).float() if text else None
    user_features = inputs.user_features.get(variant.user)
    return SASRec(
        inputs.data.n_items,
        hidden=config.hidden,
        layers=config.layers,
        heads=config.heads,
        dropout=config.dropout,
        max_len=config.max_len,
        item_features=item_features,
        n_users=len(inputs.data.users) if variant.user is UserVector.RANDOM else 0,
        user_features=None if user_features is None else torch.from_numpy(user_features),
        fusion=fusion or "input",
        item_residual=config.item_residual and item_features is not None,
        residual_items=torch.from_numpy(trained_items(inputs.data)),
        user_dropout=config.user_dropout,
    )


def trained_items(data: SequenceData) -> np.ndarray:
    """``(n_items + 1,)`` bool: True for every item with a training interaction (padding is
    not one)."""
    trained = np.zeros(data.n_items + 1, dtype=bool)
    if data.train:
        trained[np.concatenate(data.train)] = True
    trained[0] = False
    return trained


def fit(
    variant: RetrieverVariant,
    fusion: Fusion | None,
    inputs: TrainingInputs,
    config: SASRecConfig,
    seed: int,
    device: str,
    progress: bool = True,
    resume: Path | None = None,
) -> tuple[SASRec, TrainResult]:
    """One variant trained from ``seed``, stopped early on validation NDCG@10 (full
    ranking); with ``resume``, continued from the state a stopped run kept there."""
    data = inputs.data
    valid_users = data.evaluable("valid")
    torch.manual_seed(seed)
    model = build_model(variant, fusion, inputs, config)
    result = train_sasrec(
        model,
        data,
        lambda m: ndcg(full_ranks(m, data, "valid", valid_users), 10),
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        patience=config.patience,
        negatives=config.negatives,
        seed=seed,
        device=device,
        progress=progress,
        window_stride=config.window_stride,
        resume=resume,
    )
    return model, result
