"""Sample diversity: how different are the samples a conditional generator draws for one condition?

A conditional GAN that ignores its noise (mode collapse) draws the same picture for every ``z``. Given ``Z``
samples per condition, [`pairwise_diversity`][condgan.metrics.diversity.pairwise_diversity] reports their mean
pairwise distance, with either the mean absolute difference or one minus SSIM (``kornia.metrics.ssim``) as the
distance.
"""

from __future__ import annotations

import torch

from condgan._checks import check_floating, check_positive_int, check_rank

__all__ = ["pairwise_diversity"]

_METRICS = ("l1", "ssim")


def pairwise_diversity(
    samples: torch.Tensor,
    *,
    metric: str = "l1",
    value_range: tuple[float, float] = (-1.0, 1.0),
    window_size: int = 11,
) -> torch.Tensor:
    """Mean pairwise distance between the ``Z`` samples drawn for each of ``B`` conditions.

    ``diversity_b = 2 / (Z (Z - 1)) * sum_{i < j} dist(x_ib, x_jb)`` with
    ``dist = mean |x_i - x_j|`` (``metric="l1"``, in image units) or ``dist = 1 - mean SSIM(x_i, x_j)``
    (``metric="ssim"``: images are rescaled from ``value_range`` to ``[0, 1]``; a Gaussian window of
    ``window_size`` px, padding "same"). 0 means every sample is identical.

    Args:
        samples: ``(Z, B, C, H, W)`` float images, ``Z >= 2`` samples for each of ``B`` conditions.
        metric: ``"l1"`` or ``"ssim"``.
        value_range: the images' ``(low, high)`` range, used by ``"ssim"`` (default the library's
            ``[-1, 1]``).
        window_size: odd SSIM window size in pixels (``"ssim"`` only), at most ``min(H, W)``.

    Returns:
        ``(B,)`` float32 diversity per condition.

    Raises:
        TypeError: ``samples`` is not a floating tensor.
        ValueError: wrong rank, fewer than 2 samples, unknown ``metric``, bad ``value_range``/``window_size``,
            or (``"ssim"``) images smaller than the window.

    Examples:
        >>> same = torch.zeros(3, 2, 1, 8, 8)
        >>> pairwise_diversity(same)
        tensor([0., 0.])
        >>> two = torch.stack([torch.zeros(1, 1, 4, 4), torch.ones(1, 1, 4, 4)])  # Z=2 samples, B=1
        >>> pairwise_diversity(two)
        tensor([1.])
    """
    check_rank("samples", samples, 5, "(Z, B, C, H, W)")
    check_floating("samples", samples)
    num_samples = samples.shape[0]
    if num_samples < 2:
        raise ValueError(f"samples: expected at least 2 samples per condition in dim 0, got {num_samples}")
    if metric not in _METRICS:
        raise ValueError(f"metric: expected one of {_METRICS}, got {metric!r}")
    if metric == "l1":
        flat = samples.transpose(0, 1).flatten(2).to(torch.float32)  # (B, Z, N)
        distances = torch.cdist(flat, flat, p=1.0) / flat.shape[-1]  # (B, Z, Z)
        upper = torch.triu_indices(num_samples, num_samples, offset=1, device=samples.device)
        return distances[:, upper[0], upper[1]].mean(dim=1)

    low, high = _check_range(value_range)
    window = check_positive_int("window_size", window_size)
    if window % 2 == 0:
        raise ValueError(f"window_size: expected an odd int, got {window}")
    if min(samples.shape[-2:]) < window:
        raise ValueError(
            f"samples: expected H and W >= window_size={window} for metric='ssim', "
            f"got {tuple(samples.shape[-2:])}"
        )
    import kornia.metrics

    scaled = ((samples.to(torch.float32) - low) / (high - low)).clamp(0.0, 1.0)
    first, second = torch.triu_indices(num_samples, num_samples, offset=1, device=samples.device)
    num_pairs, batch = first.numel(), samples.shape[1]
    left = scaled[first].flatten(0, 1)  # (P * B, C, H, W)
    right = scaled[second].flatten(0, 1)
    similarity = kornia.metrics.ssim(left, right, window, max_val=1.0).mean(dim=(1, 2, 3))
    return (1.0 - similarity).reshape(num_pairs, batch).mean(dim=0)


def _check_range(value_range: object) -> tuple[float, float]:
    if (
        not isinstance(value_range, (tuple, list))
        or len(value_range) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value_range)
    ):
        raise TypeError(f"value_range: expected a pair of numbers (low, high), got {value_range!r}")
    low, high = float(value_range[0]), float(value_range[1])
    if not high > low:
        raise ValueError(f"value_range: expected low < high, got {value_range!r}")
    return low, high
