"""The analysis plan of ``kgrec experiment compare``, written before any model is trained."""

from __future__ import annotations

from recommender.experiments.augmentation_rows import AUGMENTED
from recommender.experiments.comparison import COLD_MAX_TRAIN
from recommender.experiments.grids import grid_lines
from recommender.experiments.session_kinds import SESSION_MODELS


def plan_text(
    dataset: str,
    seeds: tuple[int, ...],
    peers: tuple[str, ...],
    limit: int,
    *,
    anonymous: bool = True,
    unseen: bool = False,
    session_models: tuple[str, ...] = (),
    augment: tuple[str, ...] = (),
) -> str:
    """The analysis plan, fixed before any model is trained: the rows and scenarios the
    command's options ask for."""
    return "\n".join(
        [
            f"# Analysis plan: comparison on {dataset}",
            "",
            "Written before any model of this comparison was trained; not rewritten by later "
            "runs. Anything decided after test figures were seen is added below under "
            "*Post hoc*.",
            "",
            "- **Rows**: kgrec's retriever variants (None/Random, None/Description, "
            "Random/Description, LLM/Description where LLM personas exist, KG+LLM/Description), "
            "the reranking and the blend of the reranker with the KG+LLM retriever (the full "
            "pipeline); controls: the KG+LLM retriever with shuffled personas, the blend of "
            "two plain SASRecs of different seeds, the blend with the random-user-vector "
            f"retriever; peers through RecBole: {', '.join(peers) or 'none'}. Where no item "
            "has text, every Description item representation is replaced by learned item "
            "embeddings (Random), for kgrec's rows and controls alike.",
            "- **Evaluator**: one for every model: full ranking over the catalogue, the user's "
            "training items (and for test the validation item) excluded, ties counted against "
            "the target (`recommender/evaluation/evaluator.py`).",
            f"- **Tuning**: at most {limit} configurations per model, seed 0, chosen on "
            "validation NDCG@10 only; then seeds "
            + ", ".join(map(str, seeds))
            + " of the chosen configuration.",
            "- **Metrics**: HR, NDCG, MRR at 10 and 100 on test; cold users (at most "
            f"{COLD_MAX_TRAIN} training interactions) apart.",
            "- **Primary comparison**: the full pipeline (blend) against the strongest tuned "
            "peer (by validation NDCG@10) and against the two-plain-SASRec blend, on NDCG@10 "
            "and HR@100: difference with a 95% bootstrap interval over users and seeds, "
            "Wilcoxon signed-rank on per-user values averaged over seeds, Holm-adjusted over "
            "the comparisons of each metric, and p per seed. Target: at least +5% on both.",
            *(
                [
                    "- **Scenario: anonymous sessions** (secondary, a Holm family of its own): "
                    "the same models, each test user's last 5 items before the test item as a "
                    "session without their id; rows: plain SASRec, the blend with no persona, "
                    "with the persona of the 20 users sharing most items, with the KG persona "
                    "by the trained HDGI encoder (where its memory is kept), the "
                    "two-plain-SASRec blend, and the strongest tuned peer (by validation) on "
                    "the session; blend weights as chosen on validation for the standard rows."
                ]
                if anonymous
                else []
            ),
            *(
                [
                    "- **Scenario: unseen users** (secondary, a Holm family of its own): a fixed "
                    "10% of users removed from HDGI's graph and every SASRec's data, everything "
                    "trained again without them, then each scored on their last item as their "
                    "earlier items arrive, their KG persona from the trained encoder, beside "
                    "the strongest tuned peer trained again without them; also by the length "
                    "of the history read."
                ]
                if unseen
                else []
            ),
            *(
                [
                    "- **Session-model rows** (secondary, no target): "
                    + "; ".join(SESSION_MODELS[kind] for kind in session_models)
                    + ". They take the settings chosen for kgrec's SASRec (not tuned on their "
                    "own)."
                ]
                if session_models
                else []
            ),
            *(
                [
                    "- **Augmentation rows** (secondary, no target): "
                    + "; ".join(AUGMENTED[kind] for kind in augment)
                    + ", with the augmentation's defaults (not tuned)."
                ]
                if augment
                else []
            ),
            "- **Popularity bias** (descriptive, no test): tail HR/NDCG@10, coverage@10 and "
            "ARP@10 for every row with lists of its own.",
            "- **Grids**:",
            *[f"  - {line}" for line in grid_lines(limit)],
            "",
            "## Post hoc",
            "",
            "None.",
            "",
        ]
    )
