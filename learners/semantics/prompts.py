"""The generation prompts: the two of the method (the primary paper's Table 2), and the
session-intent prompt of LLM-DMsRec (candidates from a session-graph model as the knowledge
the intents are drawn from)."""

from __future__ import annotations

from collections.abc import Sequence

ITEM_DESCRIPTION = (
    "Based on the {kind} name and your general knowledge, provide an objective description "
    "of each {kind}. Ensure the response is concise and informative. No Additional "
    "Commentary. Strictly output only response.\n"
    "Example: {kind} name: Dazed and Confused Response: It was bongs and bell bottoms, "
    "polyester and puka shells, macrame and mood rings. We rocked and rolled, we were jaded "
    "and innocent, but most of all, we were Dazed and Confused. With hilarious and touching "
    "honesty, this critically acclaimed comedy explores the last day of school - and one "
    "rowdy night - in the lives of a group of high school students in late May, 1976.\n"
    "Now, analyze the following {kind} name: {title}\n"
    "Response:"
)

USER_PREFERENCES = (
    "Based on the titles and features of the items the user has interacted with in "
    "chronological order, summarize the user's preferences directly as concise and precise "
    'keywords, separated by commas. No additional commentary; exclude lines like "Here is a '
    "summary\". Strictly output only the user's preferences.\n"
    "Example output: Drama Movie, Comedy, Action, Character Investment\n"
    "{history}"
)


def item_description_prompt(title: str, kind: str = "Movie and TV") -> str:
    return ITEM_DESCRIPTION.format(kind=kind, title=title.strip())


def user_preferences_prompt(history: Sequence[str]) -> str:
    if not history:
        raise ValueError("a user preference prompt needs at least one item")
    lines = "\n".join(f"{position}. {text}" for position, text in enumerate(history, start=1))
    return USER_PREFERENCES.format(history=lines)


SESSION_INTENTS = (
    "A user clicked these items in this order:\n{session}\n"
    "A recommender suggests these items as likely next clicks:\n{candidates}\n"
    "Based on the clicked items and the suggestions, infer what the user is looking for in "
    "this session: at most {limit} intentions, each a short phrase of a few words (a genre, "
    "a theme, a person, a kind of item), one per line, numbered. No additional "
    "commentary.\nIntentions:\n1."
)


def session_intents_prompt(
    session: Sequence[str], candidates: Sequence[str], limit: int = 5
) -> str:
    """LLM-DMsRec's intent prompt: the session's item titles, oldest first, and the
    candidate titles a pre-trained session-graph model proposes."""
    if not session:
        raise ValueError("a session intent prompt needs at least one item")
    clicked = "\n".join(f"{k}. {t.strip()}" for k, t in enumerate(session, start=1))
    suggested = "\n".join(f"- {t.strip()}" for t in candidates) or "- (none)"
    return SESSION_INTENTS.format(session=clicked, candidates=suggested, limit=limit)
