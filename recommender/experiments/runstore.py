"""Trained experiment models kept on disk, one file per (variant, fusion, seed), so that a
long run that is killed or stopped part-way continues where it stopped instead of training
every variant again."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from learners.epochs import EpochLog, TrainResult
from learners.sasrec.model import SASRec
from recommender.util.files import atomic_path

# Inputs, not learned: rebuilt from the experiment's inputs (whose fingerprint names the
# store's folder) or from kept intents (whose digest is in the model's tag), so they are not
# written once per model.
INPUT_BUFFERS = frozenset(
    {"item_features", "user_features", "explicit", "latent", "has_explicit", "has_latent"}
)


@dataclass(frozen=True)
class StoredFit:
    state: dict[str, Tensor]
    result: TrainResult


class RunStore:
    """Models of one experiment (one fingerprint of data, features and settings).

    Args:
        folder: where the models live; created on the first save.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str, fusion: str | None, seed: int, tag: str = "") -> Path:
        """``key`` names the variant (a file-name-safe identifier); ``tag`` the inputs it has
        beyond the experiment's own (its personas)."""
        return self.folder / f"{key}--{fusion or 'plain'}--seed{seed}{'--' + tag if tag else ''}.pt"

    def progress(self, key: str, fusion: str | None, seed: int, tag: str = "") -> Path:
        """Where the model's training keeps its state between epochs until it is saved
        (:class:`learners.progress.Progress`): a run stopped part-way continues there."""
        return self.path(key, fusion, seed, tag).with_suffix(".progress.pt")

    def load(self, key: str, fusion: str | None, seed: int, tag: str = "") -> StoredFit | None:
        path = self.path(key, fusion, seed, tag)
        if not path.exists():
            return None
        saved = torch.load(path, map_location="cpu", weights_only=True)
        result = saved["result"]
        return StoredFit(
            saved["state"],
            TrainResult(
                best_epoch=int(result["best_epoch"]),
                best_valid=float(result["best_valid"]),
                curve=[EpochLog(**epoch) for epoch in result["curve"]],
                seconds_per_epoch=float(result["seconds_per_epoch"]),
                sequences_per_second=float(result["sequences_per_second"]),
                device=str(result["device"]),
            ),
        )

    def save(
        self,
        key: str,
        fusion: str | None,
        seed: int,
        model: nn.Module,
        result: TrainResult,
        tag: str = "",
    ) -> Path:
        """Written to a temporary name and renamed: a killed write leaves no half file."""
        path = self.path(key, fusion, seed, tag)
        state = {
            key: value.detach().cpu()
            for key, value in model.state_dict().items()
            if key not in INPUT_BUFFERS
        }
        with atomic_path(path) as partial:
            torch.save({"state": state, "result": asdict(result)}, partial)
        return path


def restore(model: SASRec, state: dict[str, Tensor]) -> SASRec:
    """Load a stored state into a model built from the same inputs."""
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as error:  # tensors of another shape
        raise ValueError(
            f"a kept model does not fit this experiment's model; train again with --fresh "
            f"({str(error).splitlines()[-1].strip()})"
        ) from error
    if unexpected or set(missing) - INPUT_BUFFERS:
        raise ValueError(
            f"a kept model does not fit this experiment's model; train again with --fresh "
            f"(missing {sorted(missing)}, unexpected {unexpected})"
        )
    return model


def fit_line(seed: int, name: str, result: TrainResult, kept: bool) -> str:
    """The log line of one model of one seed, trained now or kept from an earlier run."""
    return (
        f"seed {seed} {name}: valid NDCG@10 {result.best_valid:.4f} at epoch "
        f"{result.best_epoch}, {result.seconds_per_epoch:.2f} s/epoch"
        + (" (kept from an earlier run)" if kept else "")
    )
