"""Graph arrays -> the tensors HDGI trains on (features per type, sparse hop matrices)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from learners.hdgi.encoder import Adjacency

with warnings.catch_warnings():
    # PyG scripts two of its classes when imported, which current torch deprecates; the
    # warning is about PyG's internals and would only clutter every command's output.
    warnings.filterwarnings("ignore", r"`torch\.jit\.script` is deprecated", FutureWarning)
    from torch_geometric.data import HeteroData


@dataclass
class HDGIInputs:
    x: dict[str, Tensor]
    adjacency: Adjacency
    type_pairs: set[tuple[str, str]]

    def to(self, device: torch.device | str) -> HDGIInputs:
        return HDGIInputs(
            {t: f.to(device) for t, f in self.x.items()},
            {k: a.to(device) for k, a in self.adjacency.items()},
            self.type_pairs,
        )


def to_hetero_data(
    features: dict[str, np.ndarray],
    has_feature: dict[str, np.ndarray],
    edges: dict[tuple[str, str, str], np.ndarray],
    random_dim: int = 64,
    seed: int = 0,
) -> HeteroData:
    """A PyG ``HeteroData``: text embeddings where nodes have them, N(0, 1) rows otherwise
    (users, unnamed entities), fixed by ``seed``."""
    rng = np.random.default_rng(seed)
    data = HeteroData()
    for node_type, matrix in features.items():
        n = len(has_feature[node_type])
        if matrix.shape[1] == 0:
            x = rng.standard_normal((n, random_dim)).astype(np.float32)
        else:
            x = matrix.copy()
            missing = ~has_feature[node_type]
            x[missing] = rng.standard_normal((int(missing.sum()), x.shape[1])).astype(np.float32)
        data[node_type].x = torch.from_numpy(x)
    for (head, rel, tail), index in edges.items():
        data[head, rel, tail].edge_index = torch.from_numpy(index)
    return data


def hdgi_inputs(data: HeteroData) -> HDGIInputs:
    """Row-normalised sparse hops between every pair of linked node types, both directions,
    with all relationship types between the two types merged."""
    pairs: dict[tuple[str, str], list[Tensor]] = {}
    for (head, _, tail), index in data.edge_index_dict.items():
        # A (to, from) hop has rows = receiving nodes, columns = sending nodes.
        pairs.setdefault((tail, head), []).append(index.flip(0))  # messages head -> tail
        pairs.setdefault((head, tail), []).append(index)  # and tail -> head
    adjacency: Adjacency = {}
    for (to_type, from_type), parts in pairs.items():
        index = torch.cat(parts, dim=1)
        n_to, n_from = data[to_type].num_nodes, data[from_type].num_nodes
        values = torch.ones(index.shape[1])
        matrix = torch.sparse_coo_tensor(
            index, values, (n_to, n_from), check_invariants=True
        ).coalesce()
        degree = torch.sparse.sum(matrix, dim=1).to_dense().clamp(min=1)
        rows = matrix.indices()[0]
        normalised = torch.sparse_coo_tensor(
            matrix.indices(),
            torch.ones_like(matrix.values()) / degree[rows],
            (n_to, n_from),
            check_invariants=False,  # the indices were checked and coalesced just above
        ).coalesce()
        with warnings.catch_warnings():
            # CSR is marked beta by torch; it is the format sparse.mm is fastest with here.
            warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta")
            adjacency[(to_type, from_type)] = normalised.to_sparse_csr()
    type_pairs = {(a, b) for a, b in adjacency}
    return HDGIInputs({t: data[t].x for t in data.node_types}, adjacency, type_pairs)
