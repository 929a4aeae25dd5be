"""Requests the recommender cannot serve, each with a ``code`` the HTTP service returns."""

from __future__ import annotations


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
