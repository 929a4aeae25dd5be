"""Heterogeneous Deep Graph Infomax (Ren et al.): unsupervised user personas from the KG."""

from learners.hdgi.encoder import MetapathEncoder, user_metapaths
from learners.hdgi.model import HDGI, shuffle_features

__all__ = ["HDGI", "MetapathEncoder", "shuffle_features", "user_metapaths"]
