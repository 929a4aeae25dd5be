"""One RecBole model trained on kgrec's split and scored by kgrec's evaluator. Runs inside
RecBole's own environment (``recommender.experiments.peers.driver`` creates it), with the
kgrec source tree on ``sys.path`` for the evaluator, and prints one JSON line.

RecBole trains the model its own way; every validation score that decides early stopping,
and the final validation and test ranks, come from kgrec's
:func:`~recommender.evaluation.evaluator.target_ranks` over all items, from the model's own
``full_sort_predict`` scores, with the user's history excluded. The best model also ranks
the ``scored`` stages of the inputs (the scenarios: a user's test target from a shorter
``session`` than their whole ``history``, which is still what is excluded); they play no
part in training, so a kept state resumes whatever they are. Items the peer never saw in
training are left out of what it reads (:func:`known_recent`) and rank last as targets.

After every epoch the run's whole state (the model, the optimiser, the early-stopping
counters, every random generator, the curve so far) is written to ``resume.pt`` in the work
folder, whole or not at all; a run started again in the same folder with the same inputs
continues from there and ends exactly as an uninterrupted run would, also in another folder
or on another machine that has only ``resume.pt`` and ``saved/`` of it (they hold no data:
the model, the optimiser, the generators, the curve). ``--pause-after N``
stops after N epochs of this call (exit status :data:`PAUSED`), leaving that state.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # RecBole 1.2.1 pickles
PAUSED = 75  # exit status of a run stopped by --pause-after, its state kept to resume
RESUME = "resume.pt"


def known_recent(session: Any, column: Any, max_len: int) -> Any:
    """The most recent ``max_len`` items of ``session`` (kgrec indices, item ``k`` is
    ``column[k - 1]`` in RecBole's ids, ``-1`` where the peer's training data lacks it) that
    the peer knows, in RecBole's ids. An item only held-out users have (the unseen-user
    scenario) has no embedding in the peer's model, so the peer reads the session without it.
    """
    import numpy as np

    ids = column[np.asarray(session, dtype=np.int64) - 1]
    return ids[ids >= 0][-max_len:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True, help="folder with inputs.json and the data")
    parser.add_argument("--kgrec", required=True, help="kgrec's source tree (for the evaluator)")
    parser.add_argument("--pause-after", type=int, help="stop after this many epochs of this call")
    args = parser.parse_args()
    sys.path.append(args.kgrec)

    import numpy as np
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.trainer import Trainer
    from recbole.utils import get_model, init_seed

    from recommender.evaluation.evaluator import seen_mask, target_ranks

    work = Path(args.work)
    spec = json.loads((work / "inputs.json").read_text())
    # What a kept state must match to be resumed: not the thread count, which may change
    # between calls, nor the stages only the trained model ranks.
    same = {k: v for k, v in spec.items() if k not in ("threads", "scored")}
    inputs_digest = hashlib.sha256(json.dumps(same, sort_keys=True).encode()).hexdigest()
    # RecBole's top-k cannot exceed its item count: a small catalogue reports k = 10 only.
    with (work / "kgrec" / "kgrec.inter").open() as inter:
        next(inter)
        catalogue = len({line.split("\t")[1] for line in inter})
    torch.set_num_threads(int(spec.get("threads") or os.cpu_count() or 1))
    load_col: dict[str, list[str]] = {"inter": ["user_id", "item_id", "timestamp"]}
    knowledge: dict[str, object] = {}
    if spec.get("knowledge"):  # KSR: the graph's triples, links and TransE vectors
        load_col |= {
            "kg": ["head_id", "relation_id", "tail_id"],
            "link": ["item_id", "entity_id"],
            "ent": ["ent_id", "ent_emb"],
            "rel": ["rel_id", "rel_emb"],
        }
        knowledge = {
            "additional_feat_suffix": ["ent", "rel"],
            "alias_of_entity_id": ["ent_id"],
            "alias_of_relation_id": ["rel_id"],
            "preload_weight": {"ent_id": "ent_emb", "rel_id": "rel_emb"},
            "entity_kg_num_interval": "[0,inf)",
            "relation_kg_num_interval": "[0,inf)",
        }
    config = Config(
        model=spec["model"],
        dataset="kgrec",
        config_dict={
            "data_path": str(work),
            "checkpoint_dir": str(work / "saved"),
            "USER_ID_FIELD": "user_id",
            "ITEM_ID_FIELD": "item_id",
            "TIME_FIELD": "timestamp",
            "load_col": load_col,
            **knowledge,
            "user_inter_num_interval": "[0,inf)",
            "item_inter_num_interval": "[0,inf)",
            "MAX_ITEM_LIST_LENGTH": spec["max_len"],
            "eval_args": {
                "split": {"LS": "valid_and_test"},
                "order": "TO",
                "group_by": "user",
                "mode": "full",
            },
            # RecBole's own test evaluation (the native protocol) reports these; every
            # validation score that steers training is kgrec's (see `validated` below).
            "metrics": ["Hit", "NDCG", "MRR"],
            "topk": [k for k in (10, 100) if k < catalogue] or [10],
            "valid_metric": "NDCG@10",
            "epochs": spec["epochs"],
            "stopping_step": spec["patience"],
            "eval_step": 1,
            "seed": spec["seed"],
            "reproducibility": True,
            "device": spec["device"],
            "use_gpu": spec["device"].startswith("cuda"),
            "show_progress": False,
            "worker": 0,
            **spec["settings"],
        },
    )
    init_seed(config["seed"], config["reproducibility"])
    dataset = create_dataset(config)
    train, valid, test = data_preparation(config, dataset)
    model = get_model(config["model"])(config, train.dataset).to(config["device"])
    if isinstance(getattr(model, "relation_Matrix", None), torch.Tensor):
        # RecBole 1.2.1's KSR keeps its preloaded relation vectors in float64, which its own
        # float32 memory read cannot multiply with: the same values, as float32.
        model.relation_Matrix = model.relation_Matrix.float()
    trainer = Trainer(config, model)

    # kgrec's sequences, catalogue and targets, in RecBole's item ids.
    token_id = dataset.field2token_id["item_id"]
    column = np.array([token_id.get(item, -1) for item in spec["items"]], dtype=np.int64)
    known = torch.from_numpy(column >= 0)
    column_t = torch.from_numpy(np.maximum(column, 0))
    n_items = len(spec["items"])
    max_len = spec["max_len"]

    def batches(
        users: list[dict[str, Any]],
    ) -> list[tuple[dict[str, torch.Tensor], list[np.ndarray], torch.Tensor]]:
        """(RecBole input, histories, targets) per batch of ``users``, built once; the model
        reads each user's ``session`` (default: the history), the seen-item masks,
        ``(batch, items)`` each, are made from the histories as each batch is scored."""
        built = []
        for start in range(0, len(users), 512):
            batch = users[start : start + 512]
            histories = [np.asarray(u["history"], dtype=np.int64) for u in batch]
            sessions = [np.asarray(u.get("session", u["history"]), dtype=np.int64) for u in batch]
            seq = torch.zeros(len(batch), max_len, dtype=torch.long)
            lengths = torch.zeros(len(batch), dtype=torch.long)
            for row, session in enumerate(sessions):
                recent = known_recent(session, column, max_len)
                seq[row, : len(recent)] = torch.from_numpy(recent)
                lengths[row] = max(len(recent), 1)  # none known: the padding item alone
            interaction = {
                model.ITEM_SEQ: seq.to(config["device"]),
                model.ITEM_SEQ_LEN: lengths.to(config["device"]),
            }
            targets = torch.tensor([u["target"] for u in batch])
            built.append((interaction, histories, targets))
        return built

    inputs = {stage: batches(spec["users"][stage]) for stage in ("valid", "test")}

    def ranks(
        batched: list[tuple[dict[str, torch.Tensor], list[np.ndarray], torch.Tensor]],
    ) -> list[int]:
        model.eval()
        found: list[int] = []
        for interaction, histories, targets in batched:
            with torch.no_grad():
                scores = model.full_sort_predict(interaction).float().cpu()
            ours = torch.full((len(targets), n_items + 1), float("-inf"))
            ours[:, 1:] = torch.where(known, scores[:, column_t], torch.tensor(float("-inf")))
            seen = seen_mask(histories, n_items, "cpu")
            found += target_ranks(ours, seen, targets).tolist()
        return found

    def ndcg10(found: list[int]) -> float:
        values = np.asarray(found)
        return float(np.where(values < 10, 1.0 / np.log2(values + 2.0), 0.0).mean())

    epoch_seconds: list[float] = []
    curve: list[list[float]] = []  # epoch, training seconds so far, validation NDCG@10
    train_epoch = trainer._train_epoch

    def timed(*a: object, **k: object) -> object:
        started = time.perf_counter()
        result = train_epoch(*a, **k)
        epoch_seconds.append(time.perf_counter() - started)
        return result

    def validated(*_: object, **__: object) -> tuple[float, dict[str, float]]:
        score = ndcg10(ranks(inputs["valid"]))
        curve.append([len(epoch_seconds) - 1, sum(epoch_seconds), score])
        print(
            f"{spec['model']} epoch {len(epoch_seconds) - 1}: {epoch_seconds[-1]:.1f} s, "
            f"valid NDCG@10 {score:.4f}",
            file=sys.stderr,
            flush=True,
        )
        return score, {"ndcg@10": score}

    state_file = work / RESUME

    def save_state(epoch: int, _: float) -> None:
        """The run's state after ``epoch``, written whole or not at all."""
        state: dict[str, Any] = {
            "inputs": inputs_digest,
            "epoch": epoch,
            "cur_step": trainer.cur_step,
            "best_valid_score": trainer.best_valid_score,
            "best_file": str(trainer.saved_model_file),
            "model": model.state_dict(),
            "optimizer": trainer.optimizer.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "shuffle_rng": train.generator.get_state(),
            "numpy_rng": np.random.get_state(),
            "python_rng": random.getstate(),
            "curve": curve,
            "epoch_seconds": epoch_seconds,
            # early stopping or the last epoch ended the run (RecBole stops past stopping_step)
            "finished": trainer.cur_step > trainer.stopping_step or epoch + 1 >= trainer.epochs,
        }
        if torch.cuda.is_available():
            state["cuda_rng"] = torch.cuda.get_rng_state_all()
        partial = state_file.with_suffix(".partial")
        torch.save(state, partial)
        os.replace(partial, state_file)
        if args.pause_after is not None and len(epoch_seconds) - resumed >= args.pause_after:
            print(f"{spec['model']} paused after epoch {epoch}", file=sys.stderr, flush=True)
            sys.exit(PAUSED)

    resumed, finished = 0, False
    if state_file.exists():
        state = torch.load(state_file, map_location="cpu", weights_only=False)
        best_file = Path(state["best_file"])
        if not best_file.exists():  # the state was carried from another folder or machine
            best_file = work / "saved" / best_file.name
        if state["inputs"] == inputs_digest and best_file.exists():
            model.load_state_dict(state["model"])
            trainer.optimizer.load_state_dict(state["optimizer"])
            trainer.start_epoch = state["epoch"] + 1
            trainer.cur_step = state["cur_step"]
            trainer.best_valid_score = state["best_valid_score"]
            trainer.saved_model_file = str(best_file)
            torch.set_rng_state(state["torch_rng"])
            train.generator.set_state(state["shuffle_rng"])
            np.random.set_state(state["numpy_rng"])
            random.setstate(state["python_rng"])
            if "cuda_rng" in state and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(state["cuda_rng"])
            curve[:], epoch_seconds[:] = state["curve"], state["epoch_seconds"]
            resumed, finished = len(epoch_seconds), bool(state["finished"])
            print(
                f"{spec['model']} resumed after epoch {state['epoch']}", file=sys.stderr, flush=True
            )
    trainer._train_epoch = timed
    trainer._valid_epoch = validated
    if not finished:
        trainer.fit(train, valid, saved=True, show_progress=False, callback_fn=save_state)
    checkpoint = torch.load(trainer.saved_model_file, map_location="cpu")
    model.load_state_dict(checkpoint["state_dict"])
    best = max(range(len(curve)), key=lambda i: (curve[i][2], -i))
    # The native protocol: RecBole's own evaluator on its own test split, as a RecBole user
    # would report it (for sequential models it does not leave the history out).
    native = trainer.evaluate(test, load_best_model=False, show_progress=False)
    print(
        json.dumps(
            {
                "best_valid_ndcg10": curve[best][2],
                "best_epoch": int(curve[best][0]),
                "epochs": len(epoch_seconds),
                "curve": curve,
                "seconds_per_epoch": sum(epoch_seconds) / max(len(epoch_seconds), 1),
                "valid_ranks": ranks(inputs["valid"]),
                "test_ranks": ranks(inputs["test"]),
                # built only now: they are ranked once, by the best model
                "scored_ranks": {
                    stage: ranks(batches(users))
                    for stage, users in (spec.get("scored") or {}).items()
                },
                "native_test": {str(k): float(v) for k, v in native.items()},
                "resumed_after": resumed,
            }
        )
    )


if __name__ == "__main__":
    main()
