"""kgrec's plain SASRec under variants of its settings and training, on validation only:
where does RecBole's SASRec lead come from? Each variant trains the plain SASRec (seed 0
unless given) to early stopping on the dataset's recorded split and prints its best
validation NDCG@10 under kgrec's evaluator; no test item is read.

Usage:
    python -m benchmarks.sasrec_variants --dataset ml-100k \\
        --variants batch=64 batch=64,dropout=0.5 batch=256,dropout=0.5 batch=256,dropout=0.2 \\
                   batch=64,inner=256 batch=64,stride=10

A variant is comma-separated ``name=value`` pairs:

- ``batch``, ``dropout``, ``lr``, ``stride``: the product's settings
  (:class:`recommender.config.SASRecConfig`; ``stride`` is ``window_stride``: training
  windows that start every ``stride`` targets instead of every ``max_len``, each target still
  learned once, so that every target is predicted from at least ``max_len + 1 - stride``
  earlier items where the user has them; the default windows predict a window's first
  targets from few items, RecBole predicts every target from up to ``max_len`` items);
- ``inner``: the feed-forward width of each block (the product's is the model width, 64;
  RecBole's default is 256);
- ``post``: ``post=1`` puts each block's layer norms after its residual sums, as RecBole's
  SASRec (and the original Transformer) does; the product's blocks normalise before.

``inner`` and ``post`` are not options of the product: they are set here by replacing the
block's feed-forward layers or its forward pass for the run.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch import Tensor, nn

import learners.sasrec.model as sasrec_model
from benchmarks.common import sequence_inputs
from kgstore.settings import kgrec_home
from kgstore.splits import in_time_order, load_split
from learners.sasrec.data import SequenceData
from recommender.config import SASRecConfig
from recommender.pipelines.inputs import PLAIN, fit
from recommender.util.machine import accelerator, machine

INTEGERS = {"batch", "stride"}
PRODUCT = {"batch": "batch_size", "dropout": "dropout", "lr": "lr", "stride": "window_stride"}


def parse(variant: str) -> dict[str, float]:
    pairs = (part.split("=", 1) for part in variant.split(","))
    found = {name.strip(): float(value) for name, value in pairs}
    unknown = set(found) - {*PRODUCT, "inner", "post"}
    if unknown:
        raise SystemExit(f"unknown variant setting(s) {sorted(unknown)} in {variant!r}")
    return found


def post_norm(self: sasrec_model.CausalBlock, h: Tensor, allowed: Tensor) -> Tensor:
    """The block with its layer norms after the residual sums (same layers and weights)."""
    h = self.norm1(h + self.attend(h, allowed))
    result: Tensor = self.norm2(h + self.drop(self.ffn(h)))
    return result


def run(data: SequenceData, variant: dict[str, float], seed: int, device: str) -> dict[str, float]:
    config = SASRecConfig(
        epochs=200,
        patience=10,
        **{PRODUCT[k]: int(v) if k in INTEGERS else v for k, v in variant.items() if k in PRODUCT},
    )
    block_init = sasrec_model.CausalBlock.__init__
    block_forward = sasrec_model.CausalBlock.forward
    if "inner" in variant:
        inner = int(variant["inner"])

        def widened(self: nn.Module, hidden: int, heads: int, dropout: float) -> None:
            block_init(self, hidden, heads, dropout)  # type: ignore[arg-type]
            self.ffn = nn.Sequential(
                nn.Linear(hidden, inner), nn.GELU(), nn.Dropout(dropout), nn.Linear(inner, hidden)
            )

        sasrec_model.CausalBlock.__init__ = widened  # type: ignore[method-assign]
    if variant.get("post"):
        sasrec_model.CausalBlock.forward = post_norm  # type: ignore[method-assign]
    try:
        inputs = sequence_inputs(data, "variants")
        started = time.perf_counter()
        _, result = fit(PLAIN, None, inputs, config, seed, device, progress=False)
    finally:
        sasrec_model.CausalBlock.__init__ = block_init  # type: ignore[method-assign]
        sasrec_model.CausalBlock.forward = block_forward  # type: ignore[method-assign]
    return {
        "best_valid_ndcg10": result.best_valid,
        "best_epoch": result.best_epoch,
        "seconds_per_epoch": result.seconds_per_epoch,
        "minutes": (time.perf_counter() - started) / 60,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--variants", nargs="+", default=["batch=64"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    variants = [(text, parse(text)) for text in args.variants]
    data = SequenceData.from_split(in_time_order(load_split(kgrec_home(), args.dataset)))
    print(f"machine: {machine()}; accelerator: {accelerator()}; torch {torch.__version__}; "
          f"{torch.get_num_threads()} threads; device {args.device}", flush=True)  # fmt: skip
    rows = []
    for text, variant in variants:
        found = run(data, variant, args.seed, args.device)
        print(json.dumps({"variant": text, **found}), flush=True)
        rows.append((text, found))
    print(f"\n{args.dataset}, plain SASRec, seed {args.seed}: best validation NDCG@10")
    print("| variant | valid NDCG@10 | best epoch | s/epoch |")
    print("| --- | ---: | ---: | ---: |")
    for text, found in rows:
        print(f"| {text} | {found['best_valid_ndcg10']:.4f} | {found['best_epoch']} | "
              f"{found['seconds_per_epoch']:.1f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
