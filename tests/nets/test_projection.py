"""Tests of condgan.nets.projection."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from condgan.nets import ProjectionHead


def test_value_by_hand():
    head = ProjectionHead(in_channels=2, code_dim=2)
    with torch.no_grad():
        head.linear.weight.copy_(torch.tensor([[1.0, -1.0]]))
        head.linear.bias.fill_(0.5)
        head.embed.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    features = torch.ones(1, 2, 2, 2) * torch.tensor([1.0, 3.0]).view(1, 2, 1, 1)  # phi = sum = (4, 12)
    code = torch.tensor([[1.0, 1.0]])  # V code = (1, 2)
    # w.phi + b + <V code, phi> = (4 - 12) + 0.5 + (4 + 24) = 20.5
    assert head(features, code).item() == pytest.approx(20.5)
    mean_head = ProjectionHead(in_channels=2, code_dim=2, pool="mean")
    mean_head.load_state_dict(head.state_dict())
    # phi = mean = (1, 3): (1 - 3) + 0.5 + (1 + 6) = 5.5
    assert mean_head(features, code).item() == pytest.approx(5.5)


@settings(deadline=None, max_examples=10)
@given(h=st.integers(1, 4), w=st.integers(1, 4), seed=st.integers(0, 1000))
def test_patch_scores_sum_to_pooled_score(h, w, seed):
    torch.manual_seed(seed)
    pooled = ProjectionHead(in_channels=3, code_dim=4, pool="sum")
    patch = ProjectionHead(in_channels=3, code_dim=4, pool="none")
    patch.load_state_dict(pooled.state_dict())
    features, code = torch.randn(2, 3, h, w), torch.randn(2, 4)
    # sum_hw (w.phi_hw + b + <Vc, phi_hw>) = w.sum(phi) + <Vc, sum(phi)> + h*w*b
    expected = pooled(features, code) + (h * w - 1) * pooled.linear.bias
    torch.testing.assert_close(patch(features, code).sum(dim=(1, 2, 3)), expected, rtol=1e-4, atol=1e-4)


def test_vector_features_and_zero_code():
    head = ProjectionHead(in_channels=3, code_dim=2)
    phi = torch.randn(4, 3)
    torch.testing.assert_close(head(phi, torch.zeros(4, 2)), head.linear(phi).squeeze(-1))


def test_errors():
    head = ProjectionHead(in_channels=3, code_dim=2)
    with pytest.raises(ValueError, match=r"features: expected 3 channels in dim 1, got 4"):
        head(torch.randn(2, 4, 2, 2), torch.randn(2, 2))
    with pytest.raises(ValueError, match=r"code: expected shape \(B, 2\), got \(2, 5\)"):
        head(torch.randn(2, 3), torch.randn(2, 5))
    with pytest.raises(
        ValueError, match=r"features: expected shape \(B, 3, H, W\) or \(B, 3\), got \(2, 3, 4\)"
    ):
        head(torch.randn(2, 3, 4), torch.randn(2, 2))
    with pytest.raises(ValueError, match="batch size mismatch"):
        head(torch.randn(2, 3), torch.randn(3, 2))
    with pytest.raises(ValueError, match=r"pool: expected one of \['sum', 'mean', 'none'\], got 'max'"):
        ProjectionHead(in_channels=3, code_dim=2, pool="max")
    with pytest.raises(ValueError, match="code_dim: expected a positive int, got 0"):
        ProjectionHead(in_channels=3, code_dim=0)
