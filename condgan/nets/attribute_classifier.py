"""An image-only attribute classifier for auxiliary-classifier GAN training (AC-GAN, Odena et al. 2017)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from condgan._checks import check_bool, check_heads, check_positive_int
from condgan.layers.conv_norm_act import DownBlock
from condgan.layers.create_norm import NormSpec
from condgan.nets._common import check_channels_list, check_map_input, first_weight

__all__ = ["AttributeClassifier", "DiscriminatorWithClassifier"]


class AttributeClassifier(nn.Module):
    """``C(x) -> {attribute: logits}``: what an image shows, read from the pixels alone.

    Trained on real images beside the discriminator, it tells the generator whether its output shows the
    attributes it was asked for (colour, sleeve, category...): the auxiliary classifier of AC-GAN, here a
    separate small network rather than extra outputs of D. It sees only the image, never the condition or the
    code, so it cannot answer from the map or the sentence: the generator gets a gradient only by drawing the
    attribute. Use it through ``condgan.train.AuxiliaryClassification``.

    Data flow::

        x = softmax(x)           over the channels, with ``input_softmax`` (for segmentation maps)
        x = DownBlocks(x)        conv 4x4 s2 p1 -> norm -> LReLU 0.2, once per entry of ``channels``
        f = mean over space      (B, channels[-1])
        logits_a = Linear_a(f)   one head per attribute

    No normalisation by default: batch statistics of a batch of fakes would normalise away the very colour
    shift the classifier is there to punish.

    Args:
        heads: attribute name -> number of classes.
        in_channels: channels of the image.
        channels: output channels of the strided blocks (each halves H and W).
        norm: see [`get_norm_layer`][condgan.layers.create_norm.get_norm_layer] (default ``"none"``).
        spectral_norm: spectral normalisation on every conv and head.
        input_softmax: a softmax over the input channels first, for a generator of segmentation logits: the
            real one-hot maps and the fake logits then look alike (as the stage-1 discriminators do).

    Shapes:
        ``x (B, in_channels, H, W)`` with H and W at least ``2 ** len(channels)`` ->
        ``{name: (B, heads[name])}``.

    Examples:
        >>> c = AttributeClassifier(heads={"color": 17, "sleeve": 4}, channels=(8, 16))
        >>> {k: tuple(v.shape) for k, v in c(torch.randn(2, 3, 16, 16)).items()}
        {'color': (2, 17), 'sleeve': (2, 4)}
    """

    def __init__(
        self,
        *,
        heads: Mapping[str, int],
        in_channels: int = 3,
        channels: Sequence[int] = (32, 64, 128, 128),
        norm: NormSpec = "none",
        spectral_norm: bool = False,
        input_softmax: bool = False,
    ) -> None:
        super().__init__()
        head_sizes = check_heads("heads", heads)
        check_positive_int("in_channels", in_channels)
        channels = check_channels_list("channels", channels)
        check_bool("spectral_norm", spectral_norm)
        check_bool("input_softmax", input_softmax)
        self.in_channels = in_channels
        self.input_softmax = input_softmax
        self.num_levels = len(channels)
        blocks, prev = [], in_channels
        for c in channels:
            blocks.append(DownBlock(prev, c, norm=norm, bias=True, spectral_norm=spectral_norm))
            prev = c
        self.blocks = nn.Sequential(*blocks)
        self.heads = nn.ModuleDict({name: nn.Linear(prev, n) for name, n in head_sizes.items()})
        if spectral_norm:
            for name in self.heads:
                self.heads[name] = nn.utils.parametrizations.spectral_norm(self.heads[name])

    @property
    def head_sizes(self) -> dict[str, int]:
        """Attribute name -> number of classes."""
        return {name: head.out_features for name, head in self.heads.items()}

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits per attribute, ``{name: (B, classes)}``."""
        check_map_input("x", x, self.in_channels, None, like=first_weight(self))
        need = 2**self.num_levels
        if min(x.shape[-2:]) < need:
            raise ValueError(
                f"x: expected H and W of at least 2**{self.num_levels} = {need} (one pixel after the "
                f"{self.num_levels} strided blocks), got {tuple(x.shape[-2:])}"
            )
        if x.shape[0] == 0:
            raise ValueError(f"x: expected a non-empty batch, got shape {tuple(x.shape)}")
        if self.input_softmax:
            x = torch.softmax(x, dim=1)
        features = self.blocks(x).mean(dim=(2, 3))
        return {name: head(features) for name, head in self.heads.items()}


class DiscriminatorWithClassifier(nn.Module):
    """A discriminator and the attribute classifier trained beside it, as one module.

    ``forward`` is the discriminator's (the classifier does not change what D says); the classifier is a
    submodule, so D's optimizer steps it and D's checkpoint holds it. Hand ``module.classifier`` to
    ``condgan.train.AuxiliaryClassification``.

    Args:
        discriminator: any discriminator.
        classifier: an image-only classifier, e.g. [`AttributeClassifier`][condgan.nets.AttributeClassifier].

    Examples:
        >>> from condgan.nets import PatchDiscriminator
        >>> d = DiscriminatorWithClassifier(
        ...     PatchDiscriminator(channels=(8, 16, 16), code_dim=0, head_channels=16),
        ...     AttributeClassifier(heads={"color": 17}, channels=(8, 16)),
        ... )
        >>> d(torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 1, 2, 2])
        >>> d.classifier(torch.randn(2, 3, 32, 32))["color"].shape
        torch.Size([2, 17])
    """

    def __init__(self, discriminator: nn.Module, classifier: nn.Module) -> None:
        super().__init__()
        for name, module in (("discriminator", discriminator), ("classifier", classifier)):
            if not isinstance(module, nn.Module):
                raise TypeError(f"{name}: expected an nn.Module, got {type(module).__name__}")
        self.discriminator = discriminator
        self.classifier = classifier

    def forward(self, *args, **kwargs):
        """The discriminator's output for its own arguments."""
        return self.discriminator(*args, **kwargs)
