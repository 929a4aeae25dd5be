"""A trained recommender on disk: the retriever, the reranker and what aligns them with the
graph, in one versioned directory ``<models>/<dataset>/<version>/``.

The version hashes everything the models were trained from (split, graph version, persona
version, settings, seed), so an up-to-date bundle is found instead of retrained, and a
stale one is never served by mistake.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from pickle import UnpicklingError
from typing import Any

import numpy as np
import torch

from kgstore.vocabulary import check_name
from learners.sasrec.model import SASRec
from recommender.util.files import write_dir_atomic, write_text_atomic
from recommender.util.hashing import fingerprint as digest

LATEST = "LATEST"
MEMORY = "persona_memory.npz"


class BundleError(RuntimeError):
    """No usable trained recommender where one was expected."""


@dataclass(frozen=True)
class BundleInfo:
    """``bundle.json``: provenance, model shapes and the evaluation of this bundle."""

    dataset: str
    version: str
    created_at: str
    split_hash: str
    graph_version: str
    persona_version: str
    seed: int
    settings: dict[str, Any]
    retriever: dict[str, Any]  # SASRec constructor arguments, tensors as shapes
    reranker: dict[str, Any]
    evaluation: dict[str, dict[str, float]] = field(default_factory=dict)  # test, per model
    validation: dict[str, float] = field(default_factory=dict)  # NDCG@10 of each choice
    training: dict[str, Any] = field(default_factory=dict)  # epochs, seconds, device
    # The retriever's weight in the final order (recommender.evaluation.rerank.blend),
    # chosen on validation; 0 is the reranker alone.
    retriever_weight: float = 0.0
    # How an anonymous session gets its persona (recommender.evaluation.sessions), chosen
    # on validation: "neighbours" (mean persona of the users sharing most items) or
    # "encoder" (the trained HDGI encoder on the session's items).
    session_persona: str = "neighbours"


@dataclass
class Bundle:
    """Models and the arrays that map their indices back to graph ids.

    Attributes:
        items: item ids; model index ``k + 1`` is ``items[k]``.
        users: user ids; row ``u`` of the retriever's personas is ``users[u]``.
        histories: per user, training item indices in order (for anonymous sessions: who
            chose these items before).
        warm: ``(n_items + 1,)`` bool, True for items with a training interaction.
    """

    info: BundleInfo
    items: np.ndarray
    users: np.ndarray
    histories: list[np.ndarray]
    warm: np.ndarray
    retriever: SASRec
    reranker: SASRec
    # The persona memory the personas were published with (item_ids, mean and the arrays of
    # learners.hdgi.inductive.PersonaMemory), for session personas by the encoder.
    persona_memory: dict[str, np.ndarray] | None = None


def bundle_version(fingerprint: dict[str, Any]) -> str:
    """The version name of a bundle trained from what ``fingerprint`` describes."""
    return digest(fingerprint, length=12)


def model_arguments(model: SASRec, **extra: Any) -> dict[str, Any]:
    """What :func:`rebuild` needs: the constructor arguments, tensors by their shapes."""
    arguments: dict[str, Any] = {
        "n_items": model.n_items,
        "hidden": model.hidden,
        "layers": len(model.blocks),
        "heads": model.blocks[0].heads,
        "dropout": model.drop.p,
        "max_len": model.max_len,
        "fusion": model.fusion,
        "item_features": None,
        "user_features": None,
        "n_users": 0,
        "item_residual": model.item_projection is not None and model.item_embedding is not None,
    }
    if model.item_projection is not None:
        arguments["item_features"] = list(model.get_buffer("item_features").shape)
    if model.user_projection is not None:
        arguments["user_features"] = list(model.get_buffer("user_features").shape)
    if model.user_embedding is not None:
        arguments["n_users"] = model.user_embedding.num_embeddings
    return {**arguments, **extra}


def rebuild(
    arguments: dict[str, Any], state: dict[str, torch.Tensor], warm: np.ndarray | None = None
) -> SASRec:
    """A SASRec with ``arguments``' shapes, loaded with ``state`` (buffers included); only
    ``warm`` items keep a learned offset from their text vector."""
    kwargs = dict(arguments)
    for name in ("item_features", "user_features"):
        if kwargs.get(name) is not None:
            kwargs[name] = torch.zeros(kwargs[name])
    if kwargs.get("item_residual") and warm is not None:
        kwargs["residual_items"] = torch.from_numpy(np.asarray(warm, dtype=bool))
    model = SASRec(**kwargs)
    model.load_state_dict(state)
    return model.eval()


def save_bundle(bundle: Bundle, models_dir: Path) -> Path:
    """Write ``bundle`` to ``models_dir/<dataset>/<version>`` atomically (a temporary
    directory renamed into place), then point ``LATEST`` at it."""
    target = models_dir / bundle.info.dataset / bundle.info.version

    def fill(staging: Path) -> None:
        (staging / "bundle.json").write_text(json.dumps(asdict(bundle.info), indent=2) + "\n")
        lengths = np.array([len(h) for h in bundle.histories], dtype=np.int64)
        np.savez_compressed(
            staging / "arrays.npz",
            items=bundle.items.astype(str),
            users=bundle.users.astype(str),
            history_lengths=lengths,
            history_items=np.concatenate(bundle.histories) if len(lengths) else lengths,
            warm=bundle.warm,
        )
        torch.save(bundle.retriever.state_dict(), staging / "retriever.pt")
        torch.save(bundle.reranker.state_dict(), staging / "reranker.pt")
        if bundle.persona_memory is not None:
            np.savez(staging / MEMORY, allow_pickle=False, **bundle.persona_memory)

    write_dir_atomic(target, fill)
    write_text_atomic(target.parent / LATEST, bundle.info.version + "\n")
    return target


def bundle_path(models_dir: Path, dataset: str, version: str | None = None) -> Path:
    """The directory of ``version``, or of the latest bundle of ``dataset``."""
    check_name(dataset)
    if version is None:
        latest = models_dir / dataset / LATEST
        if not latest.exists():
            raise BundleError(
                f"no trained recommender for {dataset!r} under {models_dir}; "
                f"run `kgrec train --dataset {dataset}`"
            )
        version = latest.read_text().strip()
    check_name(version, "model version")
    path = models_dir / dataset / version
    if not (path / "bundle.json").exists():
        raise BundleError(f"{path} holds no trained recommender (bundle.json is missing)")
    return path


def read_info(path: Path) -> BundleInfo:
    """The provenance of the bundle in ``path`` (``bundle.json``), without its models."""
    try:
        return BundleInfo(**json.loads((path / "bundle.json").read_text()))
    except (OSError, TypeError, ValueError) as error:
        raise BundleError(f"cannot read the recommender in {path}: {error}") from error


def load_bundle(path: Path, device: str = "cpu") -> Bundle:
    """The bundle in ``path`` (see :func:`bundle_path`), models in eval mode on ``device``."""
    info = read_info(path)
    try:
        arrays = np.load(path / "arrays.npz", allow_pickle=False)
        retriever = rebuild(
            info.retriever,
            torch.load(path / "retriever.pt", map_location="cpu", weights_only=True),
            arrays["warm"],
        )
        reranker = rebuild(
            info.reranker, torch.load(path / "reranker.pt", map_location="cpu", weights_only=True)
        )
        memory = None
        if (path / MEMORY).exists():
            with np.load(path / MEMORY, allow_pickle=False) as stored:
                memory = dict(stored)
    except (OSError, KeyError, TypeError, ValueError, RuntimeError, UnpicklingError) as error:
        raise BundleError(f"cannot load the recommender in {path}: {error}") from error
    bounds = np.concatenate([[0], np.cumsum(arrays["history_lengths"])])
    items = arrays["history_items"]
    return Bundle(
        info,
        arrays["items"].astype(object),
        arrays["users"].astype(object),
        [items[bounds[u] : bounds[u + 1]] for u in range(len(bounds) - 1)],
        arrays["warm"],
        retriever.to(device),
        reranker.to(device),
        memory,
    )
