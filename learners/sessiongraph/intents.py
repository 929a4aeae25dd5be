"""LLM-DMsRec's parts beside the language model: reading the intents a model wrote,
telling explicit intents (found in the session's own text) from latent ones, fusing their
encodings with a session-graph model's session vector, and the KL term that aligns them.

- **Parsing** accepts numbered or bulleted lines (the first block: what follows a blank line
  is commentary), comma- or semicolon-separated phrases and a JSON list; strips numbering,
  quotes and labels; drops empty, over-long (over 80 characters or 8 words) and repeated
  phrases and headings (a line ending in a colon); keeps at most ``limit``. Output with no
  usable phrase is *malformed*: counted by the caller and skipped, never an error.
- **Explicit or latent** (the paper's equation 5): an intent is explicit when its text occurs
  in the session's text (any clicked item's title, case and punctuation ignored), latent
  otherwise.
- **Fusion** (equation 9): ``S = W [G, w E_e + b, w E_l + b]`` with the mean encodings of the
  explicit and the latent intents (zero where a session has none).
- **Alignment** (equations 10 to 12): ``alpha KL(softmax G || softmax E_e) + beta KL(softmax
  G || softmax E_l)``, over the sessions that have such intents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

MAX_INTENT_CHARS = 80
MAX_INTENT_WORDS = 8  # longer is a sentence, not an intent
_NUMBERING = re.compile(r"^\s*(?:[-*•]+|\(?\d+[.):]|intent(?:ion)?\s*\d*\s*[:.-])\s*", re.I)
_WORDS = re.compile(r"[^\w]+")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class ParsedIntents:
    intents: tuple[str, ...]
    malformed: bool  # nothing usable could be read


def parse_intents(text: str, limit: int = 5) -> ParsedIntents:
    """The intents in a language model's answer (see the module's rules)."""
    text = (text or "").strip()
    candidates: list[str] = []
    if text.startswith("["):
        try:
            loaded = json.loads(text)
            if isinstance(loaded, list):
                candidates = [str(x) for x in loaded if isinstance(x, str | int | float)]
        except json.JSONDecodeError:
            candidates = []
    if not candidates:
        # The list is the first block of lines; what follows a blank line is commentary.
        block = re.split(r"\n\s*\n", text, maxsplit=1)[0]
        lines = [line for line in block.splitlines() if line.strip()]
        if len(lines) == 1 and re.search(r"[,;]", lines[0]):
            lines = re.split(r"[,;]", lines[0])
        candidates = lines
    found: list[str] = []
    seen: set[str] = set()
    for raw in candidates:
        phrase = _NUMBERING.sub("", raw).strip().strip("[]\"'` .")
        key = _normalise(phrase)
        if (
            not key
            or not _LETTER.search(key)  # a bare number or symbol names nothing
            or len(phrase) > MAX_INTENT_CHARS
            or len(key.split()) > MAX_INTENT_WORDS
            or raw.rstrip().endswith(":")  # a heading, or the prompt read back
            or key in seen
        ):
            continue
        seen.add(key)
        found.append(phrase)
        if len(found) == limit:
            break
    return ParsedIntents(tuple(found), malformed=not found)


def _normalise(text: str) -> str:
    return " ".join(_WORDS.sub(" ", text.lower()).split())


def classify_intents(
    intents: Sequence[str], session_titles: Sequence[str]
) -> tuple[list[str], list[str]]:
    """``(explicit, latent)``: explicit intents occur in the session's text (any title),
    latent ones do not."""
    texts = [f" {_normalise(t)} " for t in session_titles]
    explicit: list[str] = []
    latent: list[str] = []
    for intent in intents:
        key = f" {_normalise(intent)} "
        (explicit if key.strip() and any(key in t for t in texts) else latent).append(intent)
    return explicit, latent


def kl_alignment(structural: Tensor, semantic: Tensor, present: Tensor | None = None) -> Tensor:
    """Mean over sessions (those ``present``) of ``KL(softmax(structural) ||
    softmax(semantic))`` along the last dimension; 0 when none is present."""
    log_g = F.log_softmax(structural, dim=-1)
    log_e = F.log_softmax(semantic, dim=-1)
    per_session = (log_g.exp() * (log_g - log_e)).sum(dim=-1)
    if present is None:
        return per_session.mean()
    if not bool(present.any()):
        return per_session.sum() * 0.0
    return per_session[present].mean()


class IntentFusion(nn.Module):
    """The session vector from the structural one and the intents' encodings.

    Args:
        hidden: width of the session-graph model's session vector.
        text_dim: width of the intent encodings (the embedding model's).
        explicit, latent: whether each kind of intent is fused (the paper's ablations
            leave one out); a left-out kind enters as zeros and is not aligned.
    """

    def __init__(
        self, hidden: int, text_dim: int, explicit: bool = True, latent: bool = True
    ) -> None:
        super().__init__()
        self.explicit, self.latent = explicit, latent
        self.project = nn.Linear(text_dim, hidden)  # shared by both kinds, as the paper
        self.combine = nn.Linear(3 * hidden, hidden)

    def forward(
        self,
        structural: Tensor,
        explicit: Tensor,
        latent: Tensor,
        has_explicit: Tensor,
        has_latent: Tensor,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """``(S, E_e, E_l)``: the fused session vectors ``(B, hidden)`` and the projected
        intent features (zero for sessions without such intents, or a kind left out)."""
        use_e = has_explicit & self.explicit
        use_l = has_latent & self.latent
        e = self.project(explicit) * use_e[:, None]
        lat = self.project(latent) * use_l[:, None]
        fused: Tensor = self.combine(torch.cat([structural, e, lat], dim=-1))
        return fused, e, lat


def alignment_loss(
    structural: Tensor,
    explicit: Tensor,
    latent: Tensor,
    has_explicit: Tensor,
    has_latent: Tensor,
    alpha: float,
    beta: float,
) -> Tensor:
    """``alpha L_e + beta L_l`` (equation 12) over the sessions with each kind of intent."""
    return alpha * kl_alignment(structural, explicit, has_explicit) + beta * kl_alignment(
        structural, latent, has_latent
    )
