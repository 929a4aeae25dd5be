"""Is a persona any good? Predict a user's most frequent attribute (genre, category) among
their training items from the persona alone, with a linear classifier, against two
baselines: random vectors, and the mean of the user's training-item text embeddings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kgstore.export import GraphExport

TARGET_LABELS = ("Genre", "Category", "Attribute")


@dataclass(frozen=True)
class ProbeTask:
    users: np.ndarray  # row indices of User in the export
    labels: np.ndarray  # class per user
    attribute: str  # the node type predicted
    classes: int


@dataclass(frozen=True)
class ProbeScore:
    accuracy: float
    macro_f1: float


def probe_task(export: GraphExport, top: int = 20) -> ProbeTask:
    """Each user's most frequent attribute among the ``top`` most common ones."""
    attribute = next((t for t in TARGET_LABELS if t in export.ids), None)
    if attribute is None:
        raise ValueError("the graph has no Genre, Category or Attribute nodes to predict")
    n_users, n_items = len(export.ids["User"]), len(export.ids["Item"])
    n_attr = len(export.ids[attribute])
    ui = _matrix(
        [i for k, i in export.edges.items() if k[0] == "User" and k[2] == "Item"],
        (n_users, n_items),
    )
    ia = _matrix(
        [i for k, i in export.edges.items() if k[0] == "Item" and k[2] == attribute],
        (n_items, n_attr),
    )
    counts = (ui @ ia).toarray()
    keep = np.argsort(-counts.sum(axis=0))[:top]
    counts = counts[:, keep]
    users = np.flatnonzero(counts.sum(axis=1) > 0)
    labels = counts[users].argmax(axis=1)
    return ProbeTask(users, labels, attribute, len(np.unique(labels)))


def mean_item_embeddings(export: GraphExport) -> np.ndarray:
    """Per user, the mean text embedding of their training items (the second baseline)."""
    n_users, n_items = len(export.ids["User"]), len(export.ids["Item"])
    ui = _matrix(
        [i for k, i in export.edges.items() if k[0] == "User" and k[2] == "Item"],
        (n_users, n_items),
    )
    degree = np.maximum(np.asarray(ui.sum(axis=1)).ravel(), 1)
    features = export.features["Item"] * export.has_feature["Item"][:, None]
    means: np.ndarray = np.asarray(ui @ features) / degree[:, None]
    return means


def score(features: np.ndarray, task: ProbeTask, seed: int) -> ProbeScore:
    """Logistic regression on 80% of the users (stratified where possible), scored on 20%."""
    x, y = features[task.users], task.labels
    counts = np.bincount(y)
    stratify = y if counts[counts > 0].min() >= 2 else None
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=seed, stratify=stratify
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(x_train, y_train)
    predicted = model.predict(x_test)
    return ProbeScore(
        float(accuracy_score(y_test, predicted)),
        float(f1_score(y_test, predicted, average="macro")),
    )


def _matrix(parts: list[np.ndarray], shape: tuple[int, int]) -> sp.csr_matrix:
    if not parts:
        return sp.csr_matrix(shape, dtype=np.float32)
    index = np.hstack(parts)
    values = np.ones(index.shape[1], dtype=np.float32)
    return sp.csr_matrix((values, (index[0], index[1])), shape=shape)
