"""The names of the session-model rows of the comparison (no model code: the command line
reads them): the session-graph backbones and LLM-DMsRec on each, with the paper's ablations.
"""

from __future__ import annotations

BACKBONES = {
    "srgnn": "SR-GNN (session graph, kgrec's evaluator; SASRec's settings, not tuned)",
    "gcegnn": "GCE-GNN (session and global graphs, kgrec's evaluator; SASRec's settings, "
    "not tuned)",
}
INTENT_PREFIX = "llm-dmsrec-"
# Row suffix -> (the paper's name for the variant, LLMDMsRec's settings for it).
ABLATIONS: dict[str, tuple[str, dict[str, bool]]] = {
    "": ("full", {}),
    "-no-explicit": ("without explicit intents", {"use_explicit": False}),
    "-no-latent": ("without latent intents", {"use_latent": False}),
    "-no-kl": ("without KL", {"align": False}),
}
SESSION_MODELS = {
    **BACKBONES,
    **{
        f"{INTENT_PREFIX}{backbone}{suffix}": (
            f"LLM-DMsRec on {label.split(' (')[0]}"
            + (f", {name}" if suffix else "")
            + " (intents from the generator named below; SASRec's settings, not tuned)"
        )
        for backbone, label in BACKBONES.items()
        for suffix, (name, _) in ABLATIONS.items()
    },
}


def parse_kind(kind: str) -> tuple[str, str | None]:
    """``(backbone, ablation suffix)``; the suffix is None for a plain backbone row."""
    if kind in BACKBONES:
        return kind, None
    if kind in SESSION_MODELS:
        rest = kind.removeprefix(INTENT_PREFIX)
        backbone = next(b for b in BACKBONES if rest.startswith(b))
        return backbone, rest.removeprefix(backbone)
    raise ValueError(f"unknown session model {kind!r}; choose from {sorted(SESSION_MODELS)}")
