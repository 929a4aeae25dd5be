"""The persona probe's targets and scorers: from a representation alone, a linear model
predicts a user's most frequent attribute (accuracy, macro-F1) or ranks all of them (macro
ROC-AUC, average precision). Targets: ``training``, ``held-out``, ``held-out sets``,
``later``, ``later sets``, and each categorical user property; ADR 0009 gives the reasons
for each."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegressionCV, RidgeCV
from sklearn.metrics import accuracy_score, average_precision_score, f1_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kgstore.export import GraphExport
from kgstore.splits import in_time_order

TARGET_LABELS = ("Genre", "Category", "Attribute")
MAX_PROPERTY_CLASSES = 25  # a user property with more values is an identifier or a number
REGULARISATION = (0.001, 0.01, 0.1, 1.0, 10.0)  # inverse strengths tried by inner CV
RIDGE_ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)  # strengths tried by leave-one-out
LATER_FRACTION = 0.2  # of each user's training items, left out of the graph for "later" targets


@dataclass(frozen=True)
class ProbeTask:
    """One class per user, scored by accuracy and macro-F1 (:func:`score`)."""

    users: np.ndarray  # row indices of User in the export
    labels: np.ndarray  # class per user
    attribute: str  # the node type predicted
    classes: int
    columns: ClassVar[tuple[str, str]] = ("accuracy", "macro-F1")
    kind: ClassVar[str] = "classes"

    def score(self, features: np.ndarray, seed: int) -> ProbeScore:
        return score(features, self, seed)


@dataclass(frozen=True)
class SetTask:
    """A set of attributes per user, ranked and scored by ROC-AUC and average precision
    (:func:`score_sets`)."""

    users: np.ndarray  # row indices of User in the export
    labels: np.ndarray  # (users, attributes) 0/1: does a held-out item carry the attribute
    attribute: str
    columns: ClassVar[tuple[str, str]] = ("ROC-AUC", "average precision")
    kind: ClassVar[str] = "attributes"

    @property
    def classes(self) -> int:
        return int(self.labels.shape[1])

    def score(self, features: np.ndarray, seed: int) -> SetScore:
        return score_sets(features, self, seed)


@dataclass(frozen=True)
class ProbeScore:
    accuracy: float
    macro_f1: float


@dataclass(frozen=True)
class SetScore:
    roc_auc: float  # macro over attributes
    average_precision: float  # macro over attributes


def probe_task(export: GraphExport, top: int = 20) -> ProbeTask:
    """Each user's most frequent attribute among their training items, of the ``top`` most
    common ones."""
    return most_frequent(export, training_interactions(export), top)


def held_out_task(export: GraphExport, split: pd.DataFrame, top: int = 20) -> ProbeTask:
    """Each user's most frequent attribute among their held-out (validation and test)
    items of ``split``, of the ``top`` most common ones."""
    return most_frequent(export, _held_out_interactions(export, split), top)


def training_interactions(export: GraphExport) -> sp.csr_matrix:
    """``(users, items)``: the user-item edges of the graph, which hold training
    interactions only (held-out ones stay in the split)."""
    shape = (len(export.ids["User"]), len(export.ids["Item"]))
    return _matrix([i for k, i in export.edges.items() if k[0] == "User" and k[2] == "Item"], shape)


def _held_out_interactions(export: GraphExport, split: pd.DataFrame) -> sp.csr_matrix:
    return _interactions(export, _located(export, split[split["split"] != "train"]))


def _located(export: GraphExport, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` of a split as row indices of the export's users and items (with their time
    and position where the rows have them), without the rows whose user or item the graph
    lacks."""
    frame = pd.DataFrame(
        {
            "user": pd.Index(export.ids["User"]).get_indexer(pd.Index(rows["user"])),
            "item": pd.Index(export.ids["Item"]).get_indexer(pd.Index(rows["item"])),
        }
    )
    for column in ("timestamp", "position"):
        if column in rows:
            frame[column] = rows[column].to_numpy()
    return frame[(frame["user"] >= 0) & (frame["item"] >= 0)]


def _interactions(export: GraphExport, located: pd.DataFrame) -> sp.csr_matrix:
    shape = (len(export.ids["User"]), len(export.ids["Item"]))
    return _matrix([located[["user", "item"]].to_numpy().T], shape)


def held_out_set_task(export: GraphExport, split: pd.DataFrame, top: int = 20) -> SetTask:
    """Which of the ``top`` most common attributes (among held-out items) each user's
    held-out (validation and test) items of ``split`` carry."""
    return attribute_sets(export, _held_out_interactions(export, split), top)


def attribute_sets(export: GraphExport, ui: sp.csr_matrix, top: int = 20) -> SetTask:
    """Which of the ``top`` most common attributes (among the items of ``ui``) each user's
    items in ``ui`` carry, over the users with at least one."""
    attribute, ia = item_attributes(export)
    counts = (ui @ ia).toarray()
    keep = np.argsort(-counts.sum(axis=0), kind="stable")[:top]
    labels = (counts[:, keep] > 0).astype(np.int8)
    users = np.flatnonzero(labels.sum(axis=1) > 0)
    return SetTask(users, labels[users], attribute)


def without_latest(
    export: GraphExport, split: pd.DataFrame, fraction: float = LATER_FRACTION
) -> tuple[GraphExport, sp.csr_matrix]:
    """The graph as it was earlier, and what each user did after.

    Returns a copy of ``export`` without each user's latest ``fraction`` of distinct training
    items (at least one, never all: every user keeps an item), and those later interactions
    as a ``(users, items)`` matrix. Personas and baselines built on the copy can then be
    asked about the later items: with two held-out items per user (leave-one-out) the
    held-out targets say little on a dataset like ml-100k, while a fifth of a user's
    history says more."""
    if not 0 < fraction < 1:
        raise ValueError(f"the fraction of items left out must lie in (0, 1), not {fraction}")
    frame = _located(export, split[split["split"] == "train"])
    # Each distinct user-item pair (a graph edge) at its latest interaction, in time order.
    frame = in_time_order(frame)
    frame = frame.drop_duplicates(["user", "item"], keep="last")
    size = frame.groupby("user", sort=False)["item"].transform("size").to_numpy()
    from_end = frame.groupby("user", sort=False).cumcount(ascending=False).to_numpy()
    left_out = np.minimum(np.maximum(np.floor(fraction * size), 1), size - 1)
    later = _interactions(export, frame[from_end < left_out])
    edges = dict(export.edges)
    for key, index in export.edges.items():
        if key[0] == "User" and key[2] == "Item":
            dropped = np.asarray(later[index[0], index[1]]).ravel() > 0
            edges[key] = index[:, ~dropped]
    earlier = GraphExport(
        export.dataset,
        f"{export.version}-without-latest-{fraction:g}",
        ids=export.ids,
        features=export.features,
        has_feature=export.has_feature,
        edges=edges,
    )
    return earlier, later


def user_property_tasks(
    export: GraphExport, properties: pd.DataFrame, max_classes: int = MAX_PROPERTY_CLASSES
) -> dict[str, ProbeTask]:
    """One task per categorical user property (2 to ``max_classes`` values; ages, zip codes
    and ids have more and are left out), over the exported users that have it."""
    index = pd.Index(properties.index).get_indexer(pd.Index(export.ids["User"]))
    tasks = {}
    for name in properties.columns:
        values = properties[name].to_numpy(dtype=object)[index]
        known = (index >= 0) & pd.notna(values)
        classes, labels = np.unique(values[known].astype(str), return_inverse=True)
        if 2 <= len(classes) <= max_classes:
            tasks[str(name)] = ProbeTask(np.flatnonzero(known), labels, str(name), len(classes))
    return tasks


def item_attributes(export: GraphExport) -> tuple[str, sp.csr_matrix]:
    """The attribute type the probe predicts, and which items carry which of its nodes."""
    attribute = next((t for t in TARGET_LABELS if t in export.ids), None)
    if attribute is None:
        raise ValueError("the graph has no Genre, Category or Attribute nodes to predict")
    n_items, n_attr = len(export.ids["Item"]), len(export.ids[attribute])
    ia = _matrix(
        [i for k, i in export.edges.items() if k[0] == "Item" and k[2] == attribute],
        (n_items, n_attr),
    )
    return attribute, ia


def most_frequent(export: GraphExport, ui: sp.csr_matrix, top: int = 20) -> ProbeTask:
    """Each user's most frequent attribute among their items in ``ui``, of the ``top`` most
    common ones, over the users with at least one."""
    attribute, ia = item_attributes(export)
    counts = (ui @ ia).toarray()
    keep = np.argsort(-counts.sum(axis=0))[:top]
    counts = counts[:, keep]
    users = np.flatnonzero(counts.sum(axis=1) > 0)
    labels = counts[users].argmax(axis=1)
    return ProbeTask(users, labels, attribute, len(np.unique(labels)))


def mean_item_embeddings(export: GraphExport) -> np.ndarray:
    """Per user, the mean text embedding of their training items (the second baseline)."""
    ui = training_interactions(export)
    degree = np.maximum(np.asarray(ui.sum(axis=1)).ravel(), 1)
    features = export.features["Item"] * export.has_feature["Item"][:, None]
    means: np.ndarray = np.asarray(ui @ features) / degree[:, None]
    return means


def reduced(features: np.ndarray, dim: int, seed: int) -> np.ndarray:
    """``features`` projected on their first ``dim`` principal components: the baseline at
    the persona's width, so a wide baseline does not win on width alone."""
    dim = min(dim, *features.shape)
    out: np.ndarray = PCA(n_components=dim, random_state=seed).fit_transform(features)
    return out.astype(np.float32)


def score(features: np.ndarray, task: ProbeTask, seed: int) -> ProbeScore:
    """Logistic regression on 80% of the users (stratified where possible), scored on 20%.
    Its regularisation is chosen by 3-fold cross-validation inside the 80%, so that wide
    features (384-d means) are not at a disadvantage from overfitting."""
    x, y = features[task.users], task.labels
    counts = np.bincount(y)
    stratify = y if counts[counts > 0].min() >= 2 else None
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=seed, stratify=stratify
    )
    classifier = LogisticRegressionCV(
        Cs=list(REGULARISATION),
        l1_ratios=(0.0,),
        cv=3,
        scoring="accuracy",
        max_iter=2000,
        use_legacy_attributes=False,
    )
    model = make_pipeline(StandardScaler(), classifier)
    with warnings.catch_warnings():
        # Rare classes have fewer members than folds; the folds are still stratified.
        warnings.filterwarnings("ignore", message="The least populated class")
        model.fit(x_train, y_train)
    predicted = model.predict(x_test)
    return ProbeScore(
        float(accuracy_score(y_test, predicted)),
        float(f1_score(y_test, predicted, average="macro")),
    )


def score_sets(features: np.ndarray, task: SetTask, seed: int) -> SetScore:
    """A multi-output ridge regression on 80% of the users (its strength chosen by
    leave-one-out inside them) ranks the attributes for the other 20%; macro ROC-AUC and
    average precision over the attributes that occur and are absent in that 20%. Ridge
    rather than one logistic regression per attribute: the same kind of linear probe, fit
    once for all attributes."""
    x, y = features[task.users], task.labels
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=seed)
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=RIDGE_ALPHAS))
    model.fit(x_train, y_train)
    predicted = model.predict(x_test)
    present = (y_test.min(axis=0) == 0) & (y_test.max(axis=0) == 1)
    if not present.any():
        raise ValueError("no attribute both occurs and is absent among the test users")
    return SetScore(
        float(roc_auc_score(y_test[:, present], predicted[:, present], average="macro")),
        float(average_precision_score(y_test[:, present], predicted[:, present], average="macro")),
    )


def _matrix(parts: list[np.ndarray], shape: tuple[int, int]) -> sp.csr_matrix:
    if not parts:
        return sp.csr_matrix(shape, dtype=np.float32)
    index = np.hstack(parts)
    values = np.ones(index.shape[1], dtype=np.float32)
    return sp.csr_matrix((values, (index[0], index[1])), shape=shape)
