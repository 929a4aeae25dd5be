"""The two generation prompts of the method (the primary paper's Table 2)."""

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
