"""What the recommender answers: recommendations, their explanations, persona views."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from kgstore.explain import GraphPath, UserPersona
from kgstore.personas import PersonaNeighbour

PersonaSource = Literal["user", "session", "none"]


@dataclass(frozen=True)
class Explanation:
    """Why an item was recommended: readable lines, and the raw graph paths behind them."""

    text: str
    evidence: list[str]  # one readable line per shared attribute or direct relation
    supporters: list[str]  # users nearest to the persona who chose the item in training
    neighbours: int  # how many nearest users were consulted (0: no persona)
    paths: list[GraphPath]


@dataclass(frozen=True)
class Recommendation:
    item: str
    title: str | None
    rank: int  # 1-based
    retriever_score: float
    # The score that ordered the warm items: the reranker's, or its log-probability blended
    # with the retriever's when the bundle gives the retriever a weight (rerank.blend).
    # None for a cold item: it keeps the retriever's slot.
    order_score: float | None
    cold: bool  # no training interaction: found through its text vector only
    explanation: Explanation | None = None

    @property
    def score(self) -> float:
        """The score that placed the item: ``order_score``, or the retriever's if cold."""
        return self.retriever_score if self.order_score is None else self.order_score


@dataclass(frozen=True)
class Recommendations:
    items: list[Recommendation]
    persona: PersonaSource  # where the persona came from
    session_length: int  # items given
    items_read: int  # items the models read (the most recent ones)
    model_version: str
    neighbours: list[str] = field(default_factory=list)  # anonymous: the users averaged

    def __iter__(self) -> Iterator[Recommendation]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class PersonaView:
    persona: UserPersona
    nearest: list[PersonaNeighbour]
