"""The recommender as a Python API: a session (and optionally a user) in, ranked items with
titles, scores and knowledge-graph explanations out.

Serving touches Neo4j only for explanations and lookups (in read sessions); the ranking
itself runs on the bundle's models and arrays in memory, so it stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TypeGuard

import numpy as np
import torch

from kgstore.explain import (
    ItemDetails,
    item_details,
    item_link_types,
    item_titles,
    user_persona,
)
from kgstore.graph import Graph
from kgstore.personas import nearest_users
from kgstore.splits import recorded_split_hash
from recommender.config import ServingConfig
from recommender.evaluation.rerank import rerank, retrieve
from recommender.evaluation.sessions import (
    SessionPersonas,
    item_users,
    session_encoder,
    session_neighbours,
)
from recommender.serving import explanations
from recommender.serving.bundle import Bundle, BundleError, bundle_path, load_bundle
from recommender.serving.errors import (
    EmptySessionError,
    InvalidKError,
    RecommendError,
    SessionTooLongError,
    UnknownItemsError,
    UnknownUserError,
)
from recommender.serving.types import (
    PersonaSource,
    PersonaView,
    Recommendation,
    Recommendations,
)


class Recommender:
    """A trained bundle bound to the graph it was trained on.

    Args:
        graph: the dataset's graph (explanations and lookups use read sessions).
        bundle: the trained models (:func:`~recommender.serving.bundle.load_bundle`).
        titles: item id -> title, for every item of the bundle.
        config: serving limits (candidates, session length, session neighbours).
    """

    def __init__(
        self,
        graph: Graph,
        bundle: Bundle,
        titles: dict[str, str | None],
        config: ServingConfig,
    ) -> None:
        if graph.dataset != bundle.info.dataset:
            raise BundleError(
                f"a recommender of {bundle.info.dataset!r} cannot serve {graph.dataset!r}"
            )
        self.graph, self.bundle, self.config = graph, bundle, config
        self.dataset = bundle.info.dataset
        self.titles = titles
        self.candidates = config.candidates
        self.item_index = {item: k + 1 for k, item in enumerate(bundle.items)}
        self.user_index = {user: u for u, user in enumerate(bundle.users)}
        self.retriever, self.reranker = bundle.retriever.eval(), bundle.reranker.eval()
        self.device = next(self.retriever.parameters()).device
        with torch.inference_mode():  # the text projection of the catalogue, once
            self._retriever_items = self.retriever.item_vectors().detach()
        self._warm = torch.from_numpy(bundle.warm).to(self.device)
        self._personas = self.retriever.get_buffer("user_features").cpu().numpy()
        # Item -> users who chose it in training (a re-chosen item counts once per user).
        self._item_users = item_users(bundle.histories, len(bundle.items))
        self._session_encoder: SessionPersonas | None = None
        memory = bundle.persona_memory
        if bundle.info.session_persona == "encoder" and memory is not None:
            self._session_encoder = session_encoder(memory, bundle.items)

    @classmethod
    def load(
        cls,
        graph: Graph,
        models_dir: Path,
        config: ServingConfig,
        version: str | None = None,
        device: str = "cpu",
    ) -> Recommender:
        """The latest (or ``version``) bundle of the dataset, checked against the graph."""
        dataset = graph.dataset
        bundle = load_bundle(bundle_path(models_dir, dataset, version), device)
        split = recorded_split_hash(graph)
        if split != bundle.info.split_hash:
            raise BundleError(
                f"the recommender {dataset}/{bundle.info.version} was trained on another split "
                f"of {dataset!r} than the graph holds now; run `kgrec train --dataset {dataset}`"
            )
        titles = item_titles(graph)
        missing = [item for item in bundle.items if item not in titles]
        if missing:
            raise BundleError(
                f"{len(missing)} items of the recommender are no longer in the graph "
                f"(e.g. {missing[0]!r}); run `kgrec train --dataset {dataset}`"
            )
        return cls(graph, bundle, titles, config)

    @cached_property
    def link_types(self) -> str:
        """The graph's item link types, read on the first explanation (kept once read)."""
        return item_link_types(self.graph)

    def queries_graph(self, user_id: str | None, explain: bool) -> bool:
        """Whether :meth:`recommend` with these arguments reads Neo4j: to explain, or for a
        user added after training (their persona is on their node); otherwise it is served
        from memory."""
        return explain or self._added_after_training(user_id)

    def _added_after_training(self, user_id: str | None) -> TypeGuard[str]:
        """A user the models were not trained on: their persona is read from the graph."""
        return user_id is not None and user_id not in self.user_index

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
        recommended. Only the last ``max_len`` items are read, and explanations look for
        graph evidence among the last ``max_len`` distinct ones. Without ``user_id`` the
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
            # Evidence comes from the items the models read: the last max_len distinct ones,
            # so a 1,000-item session costs what a 50-item one does.
            recent = list(dict.fromkeys(reversed(session)))[: self.retriever.max_len]
            results = explanations.explain(
                self.graph,
                self.titles,
                results,
                recent,
                persona,
                user_id,
                source,
                self.config.session_neighbours,
                self.link_types,
            )
        return Recommendations(
            results, source, len(session), len(read), self.bundle.info.version, neighbours
        )

    def item(self, item_id: str) -> ItemDetails:
        """An item's text, interaction count and graph neighbours."""
        details = item_details(self.graph, item_id)
        if details is None:
            raise UnknownItemsError([item_id], self.dataset)
        return details

    def persona(self, user_id: str, k: int = 5) -> PersonaView:
        """A user's persona with the users nearest to it and what they share."""
        found = user_persona(self.graph, user_id)
        if found is None:
            raise UnknownUserError(f"user {user_id!r} is not in {self.dataset!r}")
        nearest = []
        if found.persona is not None:
            nearest = nearest_users(self.graph, user_id, k=k)
        return PersonaView(found, nearest)

    def _check_session(self, session_items: Sequence[str]) -> list[str]:
        if isinstance(session_items, str) or not isinstance(session_items, Sequence):
            raise RecommendError("session_items must be a list of item ids (oldest first)")
        if not session_items:
            raise EmptySessionError("the session is empty: give at least one item id")
        if len(session_items) > self.config.max_session:
            raise SessionTooLongError(
                f"the session has {len(session_items)} items; at most "
                f"{self.config.max_session} are "
                f"accepted (the models read the last {self.retriever.max_len})"
            )
        if not all(isinstance(item, str) for item in session_items):
            raise RecommendError("item ids must be strings")
        unknown = list(dict.fromkeys(i for i in session_items if i not in self.item_index))
        if unknown:
            raise UnknownItemsError(unknown, self.dataset)
        return list(session_items)

    def _added_user(
        self, user_id: str
    ) -> tuple[None, torch.Tensor, np.ndarray, PersonaSource, list[str]]:
        """A user the models were not trained on, whose persona was computed afterwards
        from the trained persona model (``kgrec persona-add``): that persona, when it is of
        the version the models were trained with."""
        found = user_persona(self.graph, user_id)
        version = self.bundle.info.persona_version
        if found is None or found.persona is None or found.version != version:
            raise UnknownUserError(
                f"user {user_id!r} has no training history in {self.dataset!r} and no persona "
                f"of version {version or '(none)'}; add the user's interactions with kgrec "
                "persona-add, or leave the user out for an anonymous session"
            )
        vector = np.asarray(found.persona, np.float32)
        personas = torch.from_numpy(vector[None]).to(self.device)
        return None, personas, vector, "user", []

    def _persona(
        self, user_id: str | None, indices: list[int]
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, np.ndarray, PersonaSource, list[str]]:
        """The user row or the persona vector for the retriever, the raw persona (for
        explanations), where it came from and the users it was averaged from."""
        if self._added_after_training(user_id):
            return self._added_user(user_id)
        if user_id is not None:
            row = self.user_index[user_id]
            return (
                torch.tensor([row], device=self.device),
                None,
                self._personas[row],
                "user",
                [],
            )
        chosen: np.ndarray = np.zeros(0, np.int64)
        if self._session_encoder is not None:
            vector = self._session_encoder([np.array(indices)], np.array([-1]))[0]
        else:
            # Most shared items first; ties by user order, so the choice is deterministic.
            chosen = session_neighbours(self._item_users, indices, self.config.session_neighbours)
            vector = (
                self._personas[chosen].mean(axis=0)
                if len(chosen)
                else np.zeros(self._personas.shape[1], np.float32)
            )
        source: PersonaSource = "session" if vector.any() else "none"
        personas = torch.from_numpy(vector[None].astype(np.float32)).to(self.device)
        return None, personas, vector, source, [str(self.bundle.users[u]) for u in chosen]
