"""SASRec: self-attentive sequential recommendation, with optional user and text features."""

from learners.sasrec.data import SequenceData
from learners.sasrec.model import SASRec

__all__ = ["SASRec", "SequenceData"]
