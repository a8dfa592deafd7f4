"""Conditioning on codes: tile a code over a feature map and concatenate; assemble the design code.

FashionGAN (Zhu et al., ICCV 2017, section 3.1) conditions both generators on a design code ``d``: the text
code ``v`` and the wearer's attributes ``a`` (gender, hair length, sunglasses, hat, skin colour, body size).
Its official code feeds the 100-d text state only, reduced to 20-d by a learned 1x1 convolution +
LeakyReLU(0.2) and then tiled over a feature map and concatenated.
[`DesignCode`][condgan.layers.conditioning.DesignCode] builds ``d`` from named parts, with that learned
reduction for the parts that want it; [`concat_code`][condgan.layers.conditioning.concat_code] does the tiling
and concatenation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import einops
import torch
from torch import nn

from condgan._checks import (
    check_bool,
    check_dtype_like,
    check_floating,
    check_positive_int,
    check_rank,
    check_same_batch,
    check_tensor,
)
from condgan.layers.spatial_constraint import _size_pair

__all__ = ["tile_code", "concat_code", "TileConcat", "assemble_design_code", "DesignCode"]


def _flat_code(name: str, code: object) -> torch.Tensor:
    """Accept a ``(B, D)`` or ``(B, D, 1, 1)`` float code and return it as ``(B, D)``."""
    check_rank(name, code, (2, 4), "(B, D) or (B, D, 1, 1)")
    check_floating(name, code)
    if code.ndim == 4:
        if code.shape[2:] != (1, 1):
            raise ValueError(f"{name}: expected shape (B, D) or (B, D, 1, 1), got {tuple(code.shape)}")
        code = code.flatten(1)
    return code


def tile_code(code: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Tile a code over a spatial grid: ``out[b, :, y, x] = code[b]``.

    Args:
        code: ``(B, D)`` or ``(B, D, 1, 1)`` float code.
        size: ``(h, w)`` or an int for a square grid.

    Returns:
        ``(B, D, h, w)``, a broadcast view of ``code`` (no copy; call ``.contiguous()`` before writing into
        it).

    Examples:
        >>> tile_code(torch.tensor([[1.0, 2.0]]), (2, 3))[0, 1]
        tensor([[2., 2., 2.],
                [2., 2., 2.]])
    """
    code = _flat_code("code", code)
    height, width = _size_pair("size", size)
    return einops.repeat(code, "b d -> b d h w", h=height, w=width)


def concat_code(features: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
    """Concatenate a code, tiled to the feature map's size, after the feature channels.

    ``out = cat([features, tile(code)], dim=1)``; the code is cast to ``features.dtype``.

    Args:
        features: ``(B, C, H, W)`` float feature map.
        code: ``(B, D)`` or ``(B, D, 1, 1)`` float code.

    Returns:
        ``(B, C + D, H, W)``.

    Examples:
        >>> concat_code(torch.zeros(2, 8, 4, 4), torch.ones(2, 3)).shape
        torch.Size([2, 11, 4, 4])
    """
    check_rank("features", features, 4, "(B, C, H, W)")
    check_floating("features", features)
    code = _flat_code("code", code)
    check_same_batch(features=features, code=code)
    tiled = tile_code(code.to(features.dtype), features.shape[-2:])
    return torch.cat([features, tiled], dim=1)


class TileConcat(nn.Module):
    """Module form of [`concat_code`][condgan.layers.conditioning.concat_code]:
    ``forward(features, code) -> (B, C + D, H, W)``.

    Examples:
        >>> TileConcat()(torch.zeros(2, 8, 4, 4), torch.ones(2, 3, 1, 1)).shape
        torch.Size([2, 11, 4, 4])
    """

    def forward(self, features: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        return concat_code(features, code)


def _check_part_names(got: Sequence[str], expected: Sequence[str], what: str) -> None:
    missing = [name for name in expected if name not in got]
    unexpected = [name for name in got if name not in expected]
    if missing or unexpected:
        details = []
        if missing:
            details.append(f"missing {missing}")
        if unexpected:
            details.append(f"unexpected {unexpected}")
        raise ValueError(
            f"{what}: expected the parts {list(expected)}, got {list(got)} ({'; '.join(details)})"
        )


def assemble_design_code(parts: Mapping[str, torch.Tensor], order: Sequence[str]) -> torch.Tensor:
    """Concatenate named code parts in a fixed order: ``d = [parts[order[0]], parts[order[1]], ...]``.

    Args:
        parts: name -> ``(B, dim)`` float tensor; exactly the names in ``order``.
        order: the part names in output order.

    Returns:
        ``(B, sum of dims)`` in the promoted dtype of the parts.

    Raises:
        ValueError: a part missing or unexpected (both named), a part not ``(B, dim)``, batch sizes disagree.
        TypeError: ``parts`` not a mapping, a part not a floating tensor.

    Examples:
        >>> text, gender = torch.zeros(2, 4), torch.ones(2, 1)
        >>> assemble_design_code({"text": text, "gender": gender}, ["gender", "text"])[0]
        tensor([1., 0., 0., 0., 0.])
    """
    if not isinstance(parts, Mapping):
        raise TypeError(f"parts: expected a mapping name -> tensor, got {type(parts).__name__}")
    if isinstance(order, str) or not isinstance(order, Sequence):
        raise TypeError(f"order: expected a sequence of part names, got {type(order).__name__}")
    if not order:
        raise ValueError("order: expected at least one part name, got an empty sequence")
    if len(set(order)) != len(order):
        raise ValueError(f"order: expected distinct part names, got {list(order)}")
    _check_part_names(list(parts), list(order), "parts")
    tensors = {}
    for name in order:
        value = parts[name]
        check_rank(f"parts[{name!r}]", value, 2, "(B, dim)")
        check_floating(f"parts[{name!r}]", value)
        tensors[name] = value
    check_same_batch(**tensors)
    return torch.cat([tensors[name] for name in order], dim=1)


class DesignCode(nn.Module):
    """Assemble the design code ``d`` from named parts, reducing some of them with a learned projection.

    ``d = [f_1(x_1), ..., f_n(x_n)]`` in the order of ``parts``, where ``f_i(x) = LeakyReLU(W_i x + b_i)`` for
    the parts listed in ``reduce`` and the identity otherwise (paper section 3.1; the official 100 -> 20 text
    reduction, a 1x1 convolution + LeakyReLU(0.2) on a 1x1 map, is exactly such a ``Linear`` + LeakyReLU).

    Args:
        parts: name -> input dim, in output order (e.g. ``{"text": 100, "gender": 1, "skin": 3}``).
        reduce: name -> reduced dim for the parts to project (e.g. ``{"text": 20}``).
        negative_slope: LeakyReLU slope of the reductions.
        bias: whether the reductions have a bias (the official code zeroed its conv biases every step).

    Attributes:
        out_dim: ``D``, the width of the assembled code.
        slices: name -> ``slice`` of that part in the output.

    Examples:
        >>> design = DesignCode(parts={"text": 100, "gender": 1}, reduce={"text": 20})
        >>> design.out_dim
        21
        >>> design(text=torch.randn(2, 100), gender=torch.ones(2, 1)).shape
        torch.Size([2, 21])
    """

    def __init__(
        self,
        *,
        parts: Mapping[str, int],
        reduce: Mapping[str, int] | None = None,
        negative_slope: float = 0.2,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(parts, Mapping):
            raise TypeError(f"parts: expected a mapping name -> dim, got {type(parts).__name__}")
        if not parts:
            raise ValueError("parts: expected at least one part, got an empty mapping")
        reduce = {} if reduce is None else reduce
        if not isinstance(reduce, Mapping):
            raise TypeError(f"reduce: expected a mapping name -> reduced dim, got {type(reduce).__name__}")
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
            raise TypeError(f"negative_slope: expected a float, got {type(negative_slope).__name__}")
        check_bool("bias", bias)
        for name in parts:
            if not isinstance(name, str) or not name:
                raise TypeError(f"parts: expected non-empty str names, got {name!r}")
        unknown = [name for name in reduce if name not in parts]
        if unknown:
            raise ValueError(f"reduce: expected names among the parts {list(parts)}, got unknown {unknown}")
        self.part_dims = {name: check_positive_int(f"parts[{name!r}]", dim) for name, dim in parts.items()}
        self.reduced_dims = {
            name: check_positive_int(f"reduce[{name!r}]", dim) for name, dim in reduce.items()
        }
        self.negative_slope = float(negative_slope)
        self.reducers = nn.ModuleDict(
            {
                name: nn.Sequential(
                    nn.Linear(self.part_dims[name], dim, bias=bias), nn.LeakyReLU(self.negative_slope)
                )
                for name, dim in self.reduced_dims.items()
            }
        )
        self.slices: dict[str, slice] = {}
        start = 0
        for name, dim in self.part_dims.items():
            width = self.reduced_dims.get(name, dim)
            self.slices[name] = slice(start, start + width)
            start += width
        self.out_dim = start

    def forward(self, **parts: torch.Tensor) -> torch.Tensor:
        """Assemble ``d`` from keyword tensors ``name=(B, dim)``; returns ``(B, out_dim)``.

        With reductions, every part must have the dtype of their weights (outside autocast).
        """
        _check_part_names(list(parts), list(self.part_dims), "DesignCode.forward")
        weight = next(self.reducers.parameters(), None)
        for name, dim in self.part_dims.items():
            value = parts[name]
            check_tensor(name, value)
            check_rank(name, value, 2, f"(B, {dim})")
            check_dtype_like(name, value, weight)
            if value.shape[1] != dim:
                raise ValueError(f"{name}: expected shape (B, {dim}), got {tuple(value.shape)}")
        check_same_batch(**{name: parts[name] for name in self.part_dims})
        pieces = [
            self.reducers[name](parts[name]) if name in self.reducers else parts[name]
            for name in self.part_dims
        ]
        return torch.cat(pieces, dim=1)

    def extra_repr(self) -> str:
        return f"parts={self.part_dims}, reduce={self.reduced_dims}, out_dim={self.out_dim}"
