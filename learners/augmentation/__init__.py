"""Counterfactual training sessions from a guided diffusion model, against popularity bias."""

from learners.augmentation.counterfactual import (
    AugmentConfig,
    Counterfactuals,
    augmented,
    coherence,
    counterfactual_sessions,
    session_windows,
)
from learners.augmentation.diffusion import DiffusionConfig, SessionDiffusion

__all__ = [
    "AugmentConfig",
    "Counterfactuals",
    "DiffusionConfig",
    "SessionDiffusion",
    "augmented",
    "coherence",
    "counterfactual_sessions",
    "session_windows",
]
