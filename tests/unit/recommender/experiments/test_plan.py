"""The analysis plan names exactly the rows and scenarios the command's options ask for."""

from __future__ import annotations

from recommender.experiments.plan import plan_text


def test_the_plan_lists_only_what_the_options_ask_for() -> None:
    bare = plan_text("toy", (0, 1, 2), (), 2, anonymous=False)
    assert "peers through RecBole: none" in bare and "seeds 0, 1, 2" in bare
    for absent in ("anonymous sessions", "unseen users", "Session-model rows",
                   "Augmentation rows"):  # fmt: skip
        assert absent not in bare, absent
    full = plan_text(
        "toy", (0,), ("KSR",), 2, anonymous=True, unseen=True,
        session_models=("srgnn", "llm-dmsrec-srgnn-no-kl"), augment=("sasrec",),
    )  # fmt: skip
    assert "peers through RecBole: KSR" in full
    assert "**Scenario: anonymous sessions**" in full and "**Scenario: unseen users**" in full
    assert "LLM-DMsRec on SR-GNN, without KL" in full and "SR-GNN (session graph" in full
    assert "SASRec + counterfactual augmentation" in full
    assert full.index("**Popularity bias**") < full.index("## Post hoc")
