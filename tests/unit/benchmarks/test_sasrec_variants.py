"""The SASRec variants benchmark's replacements: the post-norm block normalises its output,
the product's pre-norm block does not."""

from __future__ import annotations

import torch

from benchmarks.sasrec_variants import parse, post_norm
from learners.sasrec.model import CausalBlock


def test_post_norm_blocks_end_normalised_and_pre_norm_blocks_do_not() -> None:
    torch.manual_seed(0)
    block = CausalBlock(hidden=8, heads=2, dropout=0.0).eval()
    h = 3.0 * torch.randn(2, 5, 8) + 1.0
    allowed = torch.ones(5, 5, dtype=torch.bool).tril()[None, None].expand(2, 1, 5, 5)
    with torch.no_grad():
        post, pre = post_norm(block, h, allowed), block(h, allowed)
    assert torch.allclose(post.mean(-1), torch.zeros(2, 5), atol=1e-5)
    assert torch.allclose(post.std(-1, unbiased=False), torch.ones(2, 5), atol=1e-3)
    assert not torch.allclose(pre.std(-1, unbiased=False), torch.ones(2, 5), atol=1e-1)


def test_a_variant_names_its_settings() -> None:
    assert parse("batch=256,dropout=0.5,inner=256,post=1") == {
        "batch": 256.0, "dropout": 0.5, "inner": 256.0, "post": 1.0,
    }  # fmt: skip
