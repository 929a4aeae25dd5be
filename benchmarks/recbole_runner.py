"""RecBole's SASRec on a leave-one-out split written as an atomic file. Runs inside the
benchmark-only RecBole environment (see ``benchmarks/sasrec_vs_recbole.py``), never in the
product's, and prints one JSON line with its timings and metrics."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # RecBole 1.2.1 pickles


class OverBudget(Exception):
    """Raised at the start of an epoch once the training budget is spent."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="folder holding <dataset>/<dataset>.inter")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--checkpoints", required=True)
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="training budget: stop after the first epoch that ends past it, test the best",
    )
    args = parser.parse_args()

    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.model.sequential_recommender import SASRec
    from recbole.trainer import Trainer
    from recbole.utils import init_seed

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", os.cpu_count() or 1)))
    config = Config(
        model="SASRec",
        dataset=args.dataset,
        config_dict={
            "data_path": args.data,
            "checkpoint_dir": args.checkpoints,
            "USER_ID_FIELD": "user_id",
            "ITEM_ID_FIELD": "item_id",
            "TIME_FIELD": "timestamp",
            "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
            "user_inter_num_interval": "[0,inf)",
            "item_inter_num_interval": "[0,inf)",
            "MAX_ITEM_LIST_LENGTH": 50,
            # Leave-one-out in time order: the same split as kgrec's (timestamps are positions).
            "eval_args": {
                "split": {"LS": "valid_and_test"},
                "order": "TO",
                "group_by": "user",
                "mode": "full",
            },
            "metrics": ["Hit", "NDCG", "MRR"],
            "topk": [10],
            "valid_metric": "NDCG@10",
            "loss_type": "CE",
            "train_neg_sample_args": None,
            "n_layers": 2,
            "n_heads": 2,
            "hidden_size": 64,
            "inner_size": 64,
            "hidden_dropout_prob": 0.1,
            "attn_dropout_prob": 0.1,
            "learning_rate": 1e-3,
            "train_batch_size": args.batch_size,
            "eval_batch_size": 4096,
            "epochs": args.epochs,
            "stopping_step": args.patience,
            "eval_step": 1,
            "seed": args.seed,
            "reproducibility": True,
            "device": args.device,
            "use_gpu": args.device.startswith("cuda"),
            "show_progress": False,
            "worker": 0,
        },
    )
    init_seed(config["seed"], config["reproducibility"])
    dataset = create_dataset(config)
    train, valid, test = data_preparation(config, dataset)
    model = SASRec(config, train.dataset).to(config["device"])
    trainer = Trainer(config, model)
    epoch_seconds: list[float] = []
    curve: list[list[float]] = []  # epoch, training seconds so far, validation NDCG@10
    train_epoch, valid_epoch = trainer._train_epoch, trainer._valid_epoch

    def timed(*a: object, **k: object) -> object:
        if args.minutes is not None and sum(epoch_seconds) > args.minutes * 60:
            raise OverBudget
        started = time.perf_counter()
        result = train_epoch(*a, **k)
        epoch_seconds.append(time.perf_counter() - started)
        return result

    def validated(*a: object, **k: object) -> tuple[float, object]:
        score, result = valid_epoch(*a, **k)
        curve.append([len(epoch_seconds) - 1, sum(epoch_seconds), float(score)])
        print(
            f"RecBole epoch {len(epoch_seconds) - 1}: {epoch_seconds[-1]:.1f} s, "
            f"valid NDCG@10 {float(score):.4f}",
            file=sys.stderr,
            flush=True,
        )
        return score, result

    trainer._train_epoch = timed
    trainer._valid_epoch = validated
    try:
        trainer.fit(train, valid, saved=True, show_progress=False)
        stopped = "early stopping" if len(epoch_seconds) < args.epochs else "epoch limit"
    except OverBudget:
        stopped = f"time budget ({args.minutes:g} min)"
    best = max(range(len(curve)), key=lambda i: (curve[i][2], -i))
    result = trainer.evaluate(test, load_best_model=True, show_progress=False)
    print(
        json.dumps(
            {
                "best_valid_ndcg10": curve[best][2],
                "best_epoch": int(curve[best][0]),
                "epochs": len(epoch_seconds),
                "stopped": stopped,
                "curve": curve,
                "seconds_per_epoch": sum(epoch_seconds) / max(len(epoch_seconds), 1),
                "train_seconds": sum(epoch_seconds),
                "training_samples": len(train.dataset),
                "test": {k: float(v) for k, v in result.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
