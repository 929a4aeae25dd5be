"""Every setting of kgrec in one place: the defaults, and the environment variables that
change them.

:class:`SASRecConfig` and :class:`HDGIConfig` hold the models' hyperparameters and are
passed around whole; :class:`ServingConfig` the serving limits; :class:`KgrecSettings` what
the environment (``KGREC_*``) configures. The command line takes its defaults from these
objects, so a default is written only here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kgstore.connection import DriverLimits

PERSONA_DIM = 64  # the persona's size, and so the User vector index's dimension
EMBEDDING_DIM = 384  # the packaged all-MiniLM-L6-v2's
CANDIDATES = 100  # the retriever's top items that the reranker reorders


class SASRecConfig(BaseModel):
    """SASRec's hyperparameters, for every SASRec kgrec trains (retriever and reranker).

    The model's shape is the method's (d=64, L=2, two heads, dropout 0.1, Adam 1e-3).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    hidden: int = Field(64, gt=0, description="width of item vectors and attention")
    layers: int = Field(2, gt=0, description="self-attention blocks")
    heads: int = Field(2, gt=0, description="attention heads")
    dropout: float = Field(0.1, ge=0, lt=1, description="dropout inside the blocks")
    max_len: int = Field(50, gt=0, description="most recent items a sequence keeps")
    lr: float = Field(1e-3, gt=0, description="Adam learning rate")
    batch_size: int = Field(16, gt=0, description="windows of up to max_len targets per step")
    window_stride: int | None = Field(
        None,
        gt=0,
        description="training windows start this many targets apart, each target still "
        "learned once and from at least max_len + 1 - stride earlier items where the user has "
        "them; about max_len / stride times the work per epoch. None: max_len (windows that "
        "overlap by one item)",
    )
    epochs: int = Field(200, gt=0, description="at most this many epochs")
    patience: int = Field(10, gt=0, description="epochs without a better validation NDCG@10")
    negatives: int | None = Field(None, gt=0, description="sampled negatives; None: full softmax")
    item_residual: bool = Field(
        True,
        description="text items: the projected text vector plus a learned per-item offset "
        "that starts at zero (ADR 0006); False keeps the text projection alone",
    )
    user_dropout: float = Field(
        0.5,
        ge=0,
        le=1,
        description="chance of dropping a training sequence's whole user vector (ADR 0007)",
    )

    @model_validator(mode="after")
    def _stride_within_the_window(self) -> SASRecConfig:
        if self.window_stride is not None and self.window_stride > self.max_len:
            raise ValueError(
                f"window_stride ({self.window_stride}) must be at most max_len ({self.max_len})"
            )
        return self


# The settings `kgrec train` chooses per dataset, on its own validation split, unless they
# are given: each entry changes the defaults; the plain SASRec (the reranker) is trained
# with each and the best validation NDCG@10 wins, for the retriever too. Fixed before any
# dataset is seen; the defaults come first, so a tie keeps them.
TRAIN_GRID: tuple[dict[str, float | int], ...] = (
    {},
    {"batch_size": 64},
    {"dropout": 0.3},
    {"batch_size": 64, "lr": 3e-3},
)
TUNED_SETTINGS = (
    "batch_size",
    "dropout",
    "lr",
    "window_stride",
    "user_dropout",
)  # any given: no tuning
# One more entry when some user's training sequence is longer than a window (ADR 0021): the
# defaults with windows ending every max_len // STRIDE_DIVISOR targets, so each target is
# predicted from at least 90% of a window of earlier items; an epoch has up to
# STRIDE_DIVISOR times the default's windows (3.6 times its time on ml-100k).
STRIDE_DIVISOR = 10


def stride_entry(longest: int, max_len: int) -> dict[str, float | int] | None:
    """The grid entry for a shorter training-window stride, or None when the longest training
    sequence (``longest`` items) fits one window, where every stride gives the same windows."""
    if longest <= max_len + 1:
        return None
    return {"window_stride": max(1, max_len // STRIDE_DIVISOR)}


# The retriever's user dropout tried with the chosen settings and fusion (the first is the
# default, ADR 0007): less when the user vector carries signal, more when it is noise.
USER_DROPOUT_GRID: tuple[float, ...] = (0.5, 0.2, 0.8)


class HDGIConfig(BaseModel):
    """How HDGI learns personas: size, optimisation and the auxiliary terms (ADR 0008)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hidden_channels: int = Field(PERSONA_DIM, gt=0, description="persona size")
    epochs: int = Field(800, gt=0, description="at most this many epochs")
    patience: int = Field(100, gt=0, description="epochs without a lower loss before stopping")
    lr: float = Field(5e-3, gt=0, description="Adam learning rate")
    taste_weight: float = Field(
        1.0, ge=0, description="weight of the co-user taste reconstruction; 0 leaves it out"
    )
    profile_weight: float = Field(
        1.0, ge=0, description="weight of the attribute-profile reconstruction; 0 leaves it out"
    )
    max_grad_norm: float | None = Field(1.0, gt=0, description="gradient clipping; None: off")
    path_norm: bool = Field(
        False,
        description="layer-normalise each metapath's output before the semantic attention "
        "(off until validation says otherwise; docs/results/personas.md)",
    )
    fusion: Literal["attention", "mean"] = Field(
        "attention",
        description="how the metapaths are fused: HAN's semantic attention, or all alike",
    )
    path_dropout: float = Field(
        0.0, ge=0, lt=1, description="chance a metapath is left out of a training pass"
    )


# The training lengths `kgrec personas` chooses between per dataset, unless --epochs or
# --patience is given: changes to HDGIConfig's defaults, none longer. One run with the
# longest gives every one of them (learners.hdgi.train's ``stops``); the personas whose
# neighbours best find each user's validation item win (recommender.evaluation.neighbours).
HDGI_GRID: tuple[dict[str, int], ...] = (
    {},
    {"patience": 25},
    {"epochs": 200},
    {"epochs": 200, "patience": 25},
)
HDGI_TUNED = ("epochs", "patience")
# The metapath fusions `kgrec personas` also chooses between per dataset (with every training
# length above), unless --path-norm on/off, --fusion mean or --path-dropout is given: HAN's
# semantic attention as published, and the same attention over layer-normalised metapath
# outputs, which keeps it from settling on one metapath where another carries signal
# (docs/results/personas.md). One HDGI run per fusion.
HDGI_FUSIONS: tuple[dict[str, bool], ...] = ({}, {"path_norm": True})


class ServingConfig(BaseModel):
    """Limits of the recommender when it serves requests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    candidates: int = Field(
        CANDIDATES, gt=0, description="items the retriever hands to the reranker"
    )
    max_session: int = Field(1_000, gt=0, description="longer sessions are refused")
    session_neighbours: int = Field(
        20, gt=0, description="users whose histories share most items with an anonymous session"
    )
    max_body_bytes: int = Field(
        256 * 1024, gt=0, description="larger request bodies are refused (413)"
    )
    query_timeout_s: float = Field(
        5.0, gt=0, description="Neo4j's limit on each query the service runs"
    )
    connection_timeout_s: float = Field(
        2.0, gt=0, description="limit on opening (or borrowing) a connection to Neo4j"
    )
    retry_budget_s: float = Field(
        1.0, ge=0, description="time the driver may spend retrying a transient failure"
    )
    request_timeout_s: float = Field(
        10.0,
        gt=0,
        description="the most a request waits for the recommender (and so for Neo4j) before "
        "it is answered 503",
    )
    max_graph_requests: int = Field(
        8,
        gt=0,
        description="requests that query Neo4j (explanations, items, personas, users added "
        "after training) worked on at once; more wait their turn within request_timeout_s, so "
        "a busy or just-restarted Neo4j answers a few queries within query_timeout_s rather "
        "than many too late; other recommendations, served from memory, never wait for them",
    )
    reload_every_s: float = Field(
        30.0,
        ge=0,
        description="how often a running service looks for a newer bundle of its dataset and "
        "serves it without a restart (0: never)",
    )
    keep_alive_s: int = Field(
        75,
        gt=0,
        description="how long an idle client connection is kept open; longer than the idle "
        "expiry of client pools and proxies (httpx 5 s, nginx 60 s), so the service never "
        "closes a connection a client is reusing at that moment",
    )
    access_log: bool = Field(
        False,
        description="log a line per request answered (method, path, status, its request id); "
        "off: only warnings and errors",
    )

    @property
    def driver_limits(self) -> DriverLimits:
        """The driver's waits while serving."""
        return DriverLimits(self.connection_timeout_s, self.retry_budget_s, self.query_timeout_s)


class KgrecSettings(BaseSettings):
    """What the environment configures (``KGREC_<NAME>``), read once per entry point."""

    model_config = SettingsConfigDict(env_prefix="KGREC_", frozen=True, extra="ignore")

    embedding_dim: int = Field(EMBEDDING_DIM, gt=0, description="item vector index dimension")
    persona_dim: int = Field(PERSONA_DIM, gt=0, description="persona vector index dimension")
    neo4j_heap: str = Field("2g", description="heap of the local Neo4j")
    neo4j_pagecache_mb: int = Field(1024, gt=0, description="page cache of the local Neo4j")
    embed_model: str | None = Field(None, description="sentence-transformers model directory")
    embed_endpoint: str | None = Field(None, description="OpenAI-compatible embeddings API root")
    embed_endpoint_model: str | None = Field(None, description="model name at embed_endpoint")
    generator_model: str | None = Field(None, description="local generator (.gguf or folder)")
    chat_endpoint: str | None = Field(None, description="OpenAI-compatible chat API root")
    chat_model: str | None = Field(None, description="model name at chat_endpoint")
    chat_concurrency: int = Field(8, ge=1, description="requests in flight at chat_endpoint")
    api_token: SecretStr | None = Field(
        None, description="bearer token the HTTP service requires (every route but /health)"
    )
