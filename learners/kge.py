"""Knowledge-graph embeddings by TransE (PyTorch Geometric's ``TransE``): entity and relation
vectors learned from ``(head, relation, tail)`` triples with a margin loss against corrupted
triples, e.g. the pretrained inputs KSR expects."""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.nn.kge import TransE
from tqdm import tqdm


def transe(
    triples: np.ndarray,
    n_entities: int,
    n_relations: int,
    dim: int = 64,
    epochs: int = 50,
    batch_size: int = 1024,
    lr: float = 0.01,
    seed: int = 0,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """``(n_entities, dim)`` entity and ``(n_relations, dim)`` relation vectors from the
    ``(m, 3)`` int triples ``(head, relation, tail)``, and the mean loss per epoch."""
    if len(triples) == 0:
        raise ValueError("TransE needs at least one triple")
    torch.manual_seed(seed)
    model = TransE(n_entities, n_relations, dim)
    index = torch.from_numpy(np.asarray(triples, np.int64))
    loader = model.loader(
        head_index=index[:, 0], rel_type=index[:, 1], tail_index=index[:, 2],
        batch_size=batch_size, shuffle=True,
    )  # fmt: skip
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in tqdm(range(epochs), desc="TransE", unit="epoch", disable=not progress):
        total = 0.0
        for head, rel, tail in loader:
            optimiser.zero_grad()
            loss = model.loss(head, rel, tail)
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(head)
        losses.append(total / len(index))
    entities = model.node_emb.weight.detach().numpy().astype(np.float32)
    relations = model.rel_emb.weight.detach().numpy().astype(np.float32)
    return entities, relations, losses
