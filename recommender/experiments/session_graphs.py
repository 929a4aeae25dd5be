"""SR-GNN, GCE-GNN and LLM-DMsRec as rows of the comparison: the session-graph backbones the
seeds build on and the intent model built on them, trained on the same training sequences,
stopped on the same validation NDCG@10 and scored by the one evaluator on the same test
targets as every other row.

They take the settings chosen for kgrec's SASRec (width, maximum length, batch size,
learning rate, epochs and patience; SR-GNN with one propagation step as its paper, GCE-GNN
with a global graph of items within 2 clicks and 12 neighbours each, built from the training
sequences only), so they are not tuned on their own: the report says so. Trained models are
kept (the store's tag names their code and settings), so a stopped run continues.

LLM-DMsRec rows (``llm-dmsrec-srgnn``, ``llm-dmsrec-gcegnn``, each also with ``-no-explicit``,
``-no-latent`` or ``-no-kl``: the paper's ablations) fuse the intents a language model
inferred for each user (:mod:`recommender.pipelines.intents`). The intents are inferred once
per dataset and backbone, from the candidates of the backbone trained with the first seed,
and kept beside the models; every LLM-DMsRec model trains from a fresh initialisation with
its own seed, as its backbone's row does, so the two rows differ by the intents alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

import learners.sessiongraph
from learners.sasrec.data import SequenceData, left_pad
from learners.semantics.embedders import Embedder
from learners.semantics.generators import Generator
from learners.sessiongraph import GCEGNN, SRGNN, global_graph
from learners.sessiongraph.base import SessionScorer
from learners.sessiongraph.llm_dmsrec import LLMDMsRec
from learners.sessiongraph.sessions import SessionCut
from learners.sessiongraph.train import train_session_model
from recommender.config import SASRecConfig
from recommender.evaluation.evaluator import Scorer, rank_users
from recommender.evaluation.metrics import ndcg
from recommender.experiments.runstore import RunStore, fit_line
from recommender.experiments.session_kinds import ABLATIONS, BACKBONES, parse_kind
from recommender.pipelines.intents import SessionIntents, infer_intents
from recommender.util.hashing import code_digest, fingerprint

STEPS = 1  # SR-GNN's propagation steps
EPSILON, NEIGHBOURS = 2, 12  # GCE-GNN's global graph
# The modules only one backbone reads: a backbone's models are named by the code of the
# package less the other backbone's modules, so a change to one keeps the other's models.
OWN_MODULES = {"srgnn": ("srgnn.py",), "gcegnn": ("gcegnn.py", "global_graph.py")}


@dataclass(frozen=True)
class IntentSource:
    """What LLM-DMsRec rows need to infer intents: readable titles per item index, the
    backends and the folder the intents are kept in."""

    titles: Sequence[str]
    generator: Generator
    embedder: Embedder
    folder: Path
    # Intents already read or inferred in this process, by file: every seed and ablation of
    # a backbone shares one.
    loaded: dict[Path, SessionIntents] = field(default_factory=dict, compare=False)


def session_scorer(model: SessionScorer, cut: SessionCut | None = None) -> Scorer:
    """Scores of every item after each user's input sequence, or with ``cut`` after its
    latest session (and for LLM-DMsRec with the user's intents)."""
    device = next(model.parameters()).device
    model.eval()

    def scorer(rows: np.ndarray, histories: Sequence[np.ndarray]) -> torch.Tensor:
        if cut is not None:
            histories = cut.latest(rows, histories)
        users = torch.from_numpy(np.asarray(rows)).to(device) if model.uses_users else None
        with torch.no_grad():
            seq = left_pad(list(histories), model.max_len).to(device)
            return model.full_sort_predict(seq, users)

    return scorer


def gap_tag(cut: SessionCut | None) -> str:
    """The store-tag suffix of models that read sessions cut at inactivity gaps."""
    return f"-gap{cut.gap_seconds:g}s" if cut is not None else ""


def backbone_tag(kind: str) -> str:
    """The store tag of a backbone of ``kind``: its settings and its code (see
    :data:`OWN_MODULES`)."""
    return f"{backbone_settings(kind)}-code{backbone_code(kind)}"


def backbone_code(kind: str) -> str:
    """A short digest of the session-graph modules a ``kind`` backbone's models depend on."""
    others = {name for other, own in OWN_MODULES.items() if other != kind for name in own}
    folder = Path(learners.sessiongraph.__file__).parent
    return code_digest(*(p for p in sorted(folder.rglob("*.py")) if p.name not in others))[:8]


def backbone_settings(kind: str) -> str:
    """The fixed settings of a ``kind`` backbone, as a tag."""
    return f"steps{STEPS}" if kind == "srgnn" else f"eps{EPSILON}-top{NEIGHBOURS}"


def build(kind: str, data: SequenceData, config: SASRecConfig) -> tuple[SRGNN | GCEGNN, str]:
    """A fresh backbone of ``kind`` (a key of :data:`BACKBONES`) and its store tag."""
    if kind == "srgnn":
        srgnn = SRGNN(data.n_items, hidden=config.hidden, steps=STEPS, max_len=config.max_len)
        return srgnn, backbone_tag(kind)
    if kind == "gcegnn":
        graph = global_graph(data.train, data.n_items, epsilon=EPSILON, top=NEIGHBOURS)
        gce = GCEGNN(data.n_items, graph, hidden=config.hidden, max_len=config.max_len)
        return gce, backbone_tag(kind)
    raise ValueError(f"unknown backbone {kind!r}; choose from {sorted(BACKBONES)}")


def with_intents(
    backbone: SRGNN | GCEGNN, intents: SessionIntents, suffix: str, hidden: int
) -> LLMDMsRec:
    """LLM-DMsRec on ``backbone`` with the ablation named by ``suffix``."""
    return LLMDMsRec(
        backbone,
        torch.from_numpy(intents.explicit),
        torch.from_numpy(intents.latent),
        torch.from_numpy(intents.has_explicit),
        torch.from_numpy(intents.has_latent),
        hidden=hidden,
        **ABLATIONS[suffix][1],
    )


def fit_session_model(
    kind: str,
    data: SequenceData,
    config: SASRecConfig,
    seed: int,
    device: str,
    store: RunStore | None,
    progress: bool,
    log: Callable[[str], None] = print,
    intents: IntentSource | None = None,
    key: str | None = None,
    extra_tag: str = "",
    cut: SessionCut | None = None,
    train: Callable[[], list[np.ndarray]] | None = None,
) -> tuple[SessionScorer, float, int, float]:
    """The session model ``kind`` (a key of :data:`SESSION_MODELS`) of ``seed``, kept in (or
    loaded from) ``store`` under ``key`` (default: ``kind``) and its tag plus ``extra_tag``:
    the model, its best validation NDCG@10, its best epoch and its seconds per epoch.
    LLM-DMsRec rows need ``intents``. With ``cut``, the model trains on and reads sessions
    cut at inactivity gaps (:mod:`learners.sessiongraph.sessions`). ``train`` gives other
    training sequences than ``data.train`` (called only when the model is not kept)."""
    key = key or kind
    backbone_kind, suffix = parse_kind(kind)
    torch.manual_seed(seed)
    backbone, tag = build(backbone_kind, data, config)
    model: SessionScorer = backbone
    if suffix is not None:
        if intents is None:
            raise ValueError(f"{kind} needs a generator and an embedder for its intents")
        found, digest = intents_for(
            backbone_kind, data, config, device, store, progress, log, intents, cut
        )
        model = with_intents(backbone, found, suffix, config.hidden)
        tag = f"{tag}-intents{digest}"
    tag += extra_tag + gap_tag(cut)
    stored = store.load(key, None, seed, tag) if store is not None else None
    if stored is not None:
        model.load_state_dict(stored.state, strict=False)  # graphs and intents are rebuilt
        model.to(device).eval()
        result = stored.result
    else:
        valid_users = data.evaluable("valid")

        def validate(candidate: SessionScorer) -> float:
            scorer = session_scorer(candidate, cut)
            return ndcg(rank_users(scorer, data, "valid", valid_users), 10)

        sequences = data.train if train is None else train()
        result = train_session_model(
            model, sequences, validate, epochs=config.epochs, batch_size=config.batch_size,
            lr=config.lr, patience=config.patience, seed=seed, device=device, progress=progress,
            examples=None if cut is None else cut.examples(sequences),
            resume=store.progress(key, None, seed, tag) if store is not None else None,
        )  # fmt: skip
        if store is not None:
            store.save(key, None, seed, model, result, tag)
    log(fit_line(seed, key, result, stored is not None))
    return model, result.best_valid, result.best_epoch, result.seconds_per_epoch


def intents_for(
    backbone_kind: str,
    data: SequenceData,
    config: SASRecConfig,
    device: str,
    store: RunStore | None,
    progress: bool,
    log: Callable[[str], None],
    source: IntentSource,
    cut: SessionCut | None = None,
) -> tuple[SessionIntents, str]:
    """Every user's intents with ``backbone_kind``'s candidates (its first-seed model), kept
    in ``source.folder`` under a digest of the backbone, the titles and the backends."""
    first = 0
    digest = fingerprint(
        {
            "backbone": f"{backbone_kind}-{backbone_tag(backbone_kind)}-seed{first}" + gap_tag(cut),
            "titles": list(source.titles),
            "generator": source.generator.name,
            "embedder": source.embedder.name,
            "users": [str(u) for u in data.users],
        },
        12,
    )
    path = source.folder / f"intents-{backbone_kind}-{digest}.npz"
    if path in source.loaded:
        return source.loaded[path], digest
    if path.exists():
        source.loaded[path] = SessionIntents.load(path)
        log(f"intents with {backbone_kind}'s candidates kept from an earlier run: {path}")
        return source.loaded[path], digest
    trained, *_ = fit_session_model(
        backbone_kind, data, config, first, device, store, progress, log, cut=cut
    )
    trained.cpu()
    log(f"inferring every user's intents with {source.generator.name} (once per dataset)")
    found = infer_intents(
        data, source.titles, trained, source.generator, source.embedder, cut=cut,
        progress=progress,
    )  # fmt: skip
    trained.to(device)
    found.save(path)
    source.loaded[path] = found
    log(f"intents: {found.summary()}; kept in {path}")
    return found, digest
