"""The recommender as a Python API: a session (and optionally a user) in, ranked items with
titles, scores and knowledge-graph explanations out.

Serving touches Neo4j only for explanations and lookups (in read sessions); the ranking
itself runs on the bundle's models and arrays in memory, so it stays fast.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import neo4j
import numpy as np
import torch
from scipy import sparse

from kgstore.embeddings import index_name
from kgstore.explain import (
    GraphPath,
    ItemDetails,
    UserPersona,
    item_details,
    item_titles,
    persona_support,
    session_evidence,
    user_persona,
)
from kgstore.node_text import readable_title
from kgstore.personas import PersonaNeighbour, nearest_users
from kgstore.splits import recorded_split_hash
from kgstore.vocabulary import Label
from recommender.bundle import Bundle, BundleError, bundle_path, load_bundle
from recommender.rerank import rerank, retrieve

MAX_SESSION = 1_000  # longer sessions are refused; the models read the last max_len items
SESSION_NEIGHBOURS = 20  # users whose histories share most items with an anonymous session
PersonaSource = Literal["user", "session", "none"]


class RecommendError(ValueError):
    """A request the recommender cannot serve; ``code`` names the reason."""

    code = "bad_request"


class EmptySessionError(RecommendError):
    code = "empty_session"


class SessionTooLongError(RecommendError):
    code = "session_too_long"


class UnknownItemsError(RecommendError):
    code = "unknown_items"

    def __init__(self, items: list[str], dataset: str) -> None:
        shown = ", ".join(repr(i) for i in items[:10]) + (" ..." if len(items) > 10 else "")
        super().__init__(f"{len(items)} item id(s) not in {dataset!r}: {shown}")
        self.items = items


class UnknownUserError(RecommendError):
    code = "unknown_user"


class InvalidKError(RecommendError):
    code = "invalid_k"


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


class Recommender:
    """A trained bundle bound to the graph it was trained on.

    Args:
        driver: Neo4j driver (explanations and lookups use read sessions).
        database: Neo4j database name.
        bundle: the trained models (:func:`~recommender.bundle.load_bundle`).
        titles: item id -> title, for every item of the bundle.
        candidates: how many items the retriever hands to the reranker (default 100).
    """

    def __init__(
        self,
        driver: neo4j.Driver,
        database: str,
        bundle: Bundle,
        titles: dict[str, str | None],
        candidates: int = 100,
    ) -> None:
        self.driver, self.database, self.bundle = driver, database, bundle
        self.dataset = bundle.info.dataset
        self.titles = titles
        self.candidates = candidates
        self.item_index = {item: k + 1 for k, item in enumerate(bundle.items)}
        self.user_index = {user: u for u, user in enumerate(bundle.users)}
        self.retriever, self.reranker = bundle.retriever.eval(), bundle.reranker.eval()
        self.device = next(self.retriever.parameters()).device
        with torch.inference_mode():  # the text projection of the catalogue, once
            self._retriever_items = self.retriever.item_vectors().detach()
        self._warm = torch.from_numpy(bundle.warm).to(self.device)
        self._personas = self.retriever.get_buffer("user_features").cpu().numpy()
        lengths = [len(h) for h in bundle.histories]
        rows = np.concatenate(bundle.histories) if bundle.histories else np.zeros(0, np.int64)
        # Item -> users who chose it in training; building CSR merges repeats, so a
        # re-chosen item counts once per user.
        self._item_users = sparse.csr_matrix(
            (np.ones(len(rows), np.float32), (rows, np.repeat(np.arange(len(lengths)), lengths))),
            shape=(len(bundle.items) + 1, len(bundle.users)),
        )

    @classmethod
    def load(
        cls,
        driver: neo4j.Driver,
        database: str,
        dataset: str,
        models_dir: Path,
        version: str | None = None,
        device: str = "cpu",
    ) -> Recommender:
        """The latest (or ``version``) bundle of ``dataset``, checked against the graph."""
        bundle = load_bundle(bundle_path(models_dir, dataset, version), device)
        split = recorded_split_hash(driver, database, dataset)
        if split != bundle.info.split_hash:
            raise BundleError(
                f"the recommender {dataset}/{bundle.info.version} was trained on another split "
                f"of {dataset!r} than the graph holds now; run `kgrec train --dataset {dataset}`"
            )
        titles = item_titles(driver, database, dataset)
        missing = [item for item in bundle.items if item not in titles]
        if missing:
            raise BundleError(
                f"{len(missing)} items of the recommender are no longer in the graph "
                f"(e.g. {missing[0]!r}); run `kgrec train --dataset {dataset}`"
            )
        return cls(driver, database, bundle, titles)

    @property
    def max_k(self) -> int:
        return min(self.candidates, len(self.bundle.items))

    def recommend(
        self,
        session_items: Sequence[str],
        user_id: str | None = None,
        k: int = 10,
        explain: bool = False,
    ) -> Recommendations:
        """The top ``k`` items to follow ``session_items`` (oldest first).

        Repeated items are kept (a re-click is a signal); items in the session are never
        recommended. Only the last ``max_len`` items are read. Without ``user_id`` the
        persona is the mean persona of the users whose training histories share most items
        with the session, or none when no user shares any (see the README).

        Raises:
            EmptySessionError, SessionTooLongError, UnknownItemsError, UnknownUserError,
            InvalidKError: all :class:`RecommendError`, with a message saying what to fix.
        """
        session = self._check_session(session_items)
        indices = [self.item_index[item] for item in session]
        distinct = len(set(indices))
        limit = min(self.max_k, len(self.bundle.items) - distinct)
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= limit:
            raise InvalidKError(f"k must be an integer from 1 to {limit}, not {k!r}")
        users, personas, persona, source, neighbours = self._persona(user_id, indices)
        read = indices[-self.retriever.max_len :]
        seq = torch.tensor([read], device=self.device)
        seen = torch.zeros(1, len(self.bundle.items) + 1, dtype=torch.bool, device=self.device)
        seen[0, indices] = True
        with torch.inference_mode():
            candidates, scores = retrieve(
                self.retriever,
                seq,
                users,
                min(self.candidates, len(self.bundle.items) - distinct),
                exclude=seen,
                personas=personas,
                items=self._retriever_items,
            )
            ordered, reranked = rerank(
                self.reranker,
                seq[:, -self.reranker.max_len :],
                candidates,
                fixed=~self._warm[candidates],
                retriever_scores=scores,
                weight=self.bundle.info.retriever_weight,
            )
        by_index = dict(zip(candidates[0].tolist(), scores[0].tolist(), strict=True))
        results = []
        for rank, (index, score) in enumerate(
            zip(ordered[0, :k].tolist(), reranked[0, :k].tolist(), strict=True), start=1
        ):
            item = str(self.bundle.items[index - 1])
            cold = not bool(self.bundle.warm[index])
            results.append(
                Recommendation(
                    item,
                    self.titles.get(item),
                    rank,
                    by_index[index],
                    None if cold else score,
                    cold,
                )
            )
        if explain:
            results = self._explain(results, session, persona, user_id, source)
        return Recommendations(
            results, source, len(session), len(read), self.bundle.info.version, neighbours
        )

    def item(self, item_id: str) -> ItemDetails:
        """An item's text, interaction count and graph neighbours."""
        details = item_details(self.driver, self.database, self.dataset, item_id)
        if details is None:
            raise UnknownItemsError([item_id], self.dataset)
        return details

    def persona(self, user_id: str, k: int = 5) -> PersonaView:
        """A user's persona with the users nearest to it and what they share."""
        found = user_persona(self.driver, self.database, self.dataset, user_id)
        if found is None:
            raise UnknownUserError(f"user {user_id!r} is not in {self.dataset!r}")
        nearest = []
        if found.persona is not None:
            nearest = nearest_users(self.driver, self.database, self.dataset, user_id, k=k)
        return PersonaView(found, nearest)

    def _check_session(self, session_items: Sequence[str]) -> list[str]:
        if isinstance(session_items, str) or not isinstance(session_items, Sequence):
            raise RecommendError("session_items must be a list of item ids (oldest first)")
        if not session_items:
            raise EmptySessionError("the session is empty: give at least one item id")
        if len(session_items) > MAX_SESSION:
            raise SessionTooLongError(
                f"the session has {len(session_items)} items; at most {MAX_SESSION} are "
                f"accepted (the models read the last {self.retriever.max_len})"
            )
        if not all(isinstance(item, str) for item in session_items):
            raise RecommendError("item ids must be strings")
        unknown = list(dict.fromkeys(i for i in session_items if i not in self.item_index))
        if unknown:
            raise UnknownItemsError(unknown, self.dataset)
        return list(session_items)

    def _persona(
        self, user_id: str | None, indices: list[int]
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, np.ndarray, PersonaSource, list[str]]:
        """The user row or the persona vector for the retriever, the raw persona (for
        explanations), where it came from and the users it was averaged from."""
        if user_id is not None:
            if user_id not in self.user_index:
                raise UnknownUserError(
                    f"user {user_id!r} has no training history in {self.dataset!r}; "
                    "leave the user out for an anonymous session"
                )
            row = self.user_index[user_id]
            return (
                torch.tensor([row], device=self.device),
                None,
                self._personas[row],
                "user",
                [],
            )
        csr = self._item_users
        spans = [csr.indices[csr.indptr[i] : csr.indptr[i + 1]] for i in set(indices)]
        overlap = np.bincount(np.concatenate(spans), minlength=csr.shape[1])
        if overlap.max(initial=0) == 0:
            vector = np.zeros(self._personas.shape[1], np.float32)
            source: PersonaSource = "none"
            chosen: np.ndarray = np.zeros(0, np.int64)
        else:
            # Most shared items first; ties by user order, so the choice is deterministic.
            order = np.lexsort((np.arange(len(overlap)), -overlap))
            chosen = order[: min(SESSION_NEIGHBOURS, int((overlap > 0).sum()))]
            vector = self._personas[chosen].mean(axis=0)
            source = "session"
        personas = torch.from_numpy(vector[None].astype(np.float32)).to(self.device)
        return None, personas, vector, source, [str(self.bundle.users[u]) for u in chosen]

    def _explain(
        self,
        results: list[Recommendation],
        session: list[str],
        persona: np.ndarray,
        user_id: str | None,
        source: PersonaSource,
    ) -> list[Recommendation]:
        items = [r.item for r in results]
        evidence = session_evidence(
            self.driver, self.database, self.dataset, items, list(dict.fromkeys(session))
        )
        support = {}
        if source != "none" and np.linalg.norm(persona) > 0:
            support = persona_support(
                self.driver,
                self.database,
                self.dataset,
                index_name(Label.USER, "persona"),
                [float(x) for x in persona],
                items,
                neighbours=SESSION_NEIGHBOURS,
                exclude=[user_id] if user_id else [],
            )
        whose = "your persona" if source == "user" else "this session's persona"
        explained = []
        for result in results:
            paths = evidence.get(result.item, [])
            lines = evidence_lines(paths, self.titles)
            found = support.get(result.item)
            parts = list(lines[:3])
            if found is not None and found.neighbours:
                parts.append(
                    f"{len(found.users)} of the {found.neighbours} users nearest {whose} chose it"
                )
            if result.cold:
                parts.append("a new item (no interactions yet), found through its description")
            text = "; ".join(parts) if parts else "ranked by the session's sequence alone"
            explanation = Explanation(
                text, lines, found.users if found else [], found.neighbours if found else 0, paths
            )
            explained.append(dataclasses.replace(result, explanation=explanation))
        return explained


def evidence_lines(paths: list[GraphPath], titles: dict[str, str | None]) -> list[str]:
    """Readable evidence, strongest first: direct relations (``FILM_SEQUEL The Godfather``),
    then named attributes shared with the most session items (``Genre: Sci-Fi, shared with
    Star Wars and Alien``), then unnamed entities, which only say how they relate."""
    direct: list[str] = []
    shared: dict[tuple[bool, str], list[str]] = defaultdict(list)
    for path in paths:
        end = path.nodes[-1]
        name = readable_title(titles.get(end["id"]) or end["id"])
        if len(path.nodes) == 2:
            line = f"{path.types[0]} {name}"
            if line not in direct:
                direct.append(line)
            continue
        middle = path.nodes[1]
        named = bool(middle.get("name"))
        key = f"{middle['label']}: {middle['name']}" if named else f"{path.types[0]} {middle['id']}"
        if name not in shared[(named, key)]:
            shared[(named, key)].append(name)
    ordered = sorted(shared.items(), key=lambda kv: (not kv[0][0], -len(kv[1])))
    lines = list(direct)
    for (_, key), names in ordered:
        listed = " and ".join([", ".join(names[:2]), names[2]] if len(names) > 2 else names)
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        lines.append(f"{key}, shared with {listed}{more}")
    return lines
