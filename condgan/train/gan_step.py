"""One conditional-GAN training step: a plain function to read, copy and change, not a framework.

The step trains a conditional discriminator with the matching-aware loss (real triples up, mismatched and fake
triples down), then the generator with the adversarial loss plus an optional reconstruction term::

    fake = G(*g_inputs)
    L_D  = w_r * real_term(D(*real)) + w_m * fake_term(D(*mismatched)) + w_f * fake_term(D(fake.detach(), *c))
    L_G  = g_loss(D(fake, *c)) + reconstruction_weight * reconstruction(fake)

This is how both stages of the official FashionGAN code (zhusz/ICCV17-fashionGAN) train, ``fDx`` and ``fGx``
in ``sr1/train.lua`` and ``ih1/train.lua``: stage 1 with ``c = (m(S0), d)`` and a cross-entropy reconstruction
of the segmentation, stage 2 with ``c = (S, d)`` and an L1 reconstruction of the image.

With an [`AuxiliaryClassification`][condgan.train.gan_step.AuxiliaryClassification] (AC-GAN, not official)
an image-only attribute classifier ``C`` learns the attributes of the real samples in the D step and the
generator is asked to show its own in the G step::

    L_D += d_weight * L_aux(C(x_real), y)        L_G += g_weight * L_aux(C(fake), y_fake)
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from condgan._checks import check_same_batch, check_tensor
from condgan.losses import (
    ADVERSARIAL_KINDS,
    auxiliary_classification_loss,
    d_fake_loss,
    d_real_loss,
    g_loss,
    matching_aware_d_loss,
    split_logits,
)
from condgan.train.precision import Precision, StepReport, _check_on_nonfinite

__all__ = ["conditional_gan_step", "set_requires_grad", "AuxiliaryClassification"]


@dataclass(frozen=True)
class AuxiliaryClassification:
    """The auxiliary attribute classification of one step (AC-GAN, Odena et al. 2017), for
    [`conditional_gan_step`][condgan.train.gan_step.conditional_gan_step].

    In the D step the classifier learns the attributes of the REAL samples (``targets``); in the G step it is
    frozen and the generator is asked to make it read ``fake_targets`` from the fake, with
    [`auxiliary_classification_loss`][condgan.losses.auxiliary.auxiliary_classification_loss] on both
    sides. The classifier must see only the sample (e.g. an
    [`AttributeClassifier`][condgan.nets.AttributeClassifier]): given the condition or the code it could
    answer without looking at the picture, and the generator would learn nothing from it.

    Attributes:
        classifier: ``x -> {attribute: (B, classes) logits}``. ``d_optimizer`` must step its parameters (make
            it a submodule of the discriminator, or give its parameters to ``d_optimizer``).
        targets: attribute -> ``(B,)`` integer classes of the real samples.
        fake_targets: attribute -> ``(B,)`` classes the fakes should show (default ``targets``: the fakes
            were generated from the real samples' own codes).
        d_weight: weight of the classifier's loss in ``L_D``. With a classifier that shares no parameter
            with D this only rescales its gradient, which Adam undoes.
        g_weight: weight of the generator's term in ``L_G``.
        check_labels: scan the targets for out-of-range classes each step.
    """

    classifier: nn.Module
    targets: Mapping[str, torch.Tensor]
    fake_targets: Mapping[str, torch.Tensor] | None = None
    d_weight: float = 1.0
    g_weight: float = 1.0
    check_labels: bool = True


def set_requires_grad(modules: nn.Module | Iterable[nn.Module], flag: bool) -> None:
    """Switch ``requires_grad`` of every parameter of one or several modules.

    Freezing D during the generator step saves computing D's weight gradients (the gradient still flows
    through D to the generator's output).

    Args:
        modules: A module or an iterable of modules.
        flag: The new ``requires_grad``.

    Examples:
        >>> net = nn.Linear(2, 2)
        >>> set_requires_grad(net, False)
        >>> net.weight.requires_grad
        False
    """
    if not isinstance(flag, bool):
        raise TypeError(f"flag: expected a bool, got {type(flag).__name__}")
    items = [modules] if isinstance(modules, nn.Module) else list(modules)
    for i, module in enumerate(items):
        if not isinstance(module, nn.Module):
            raise TypeError(f"modules[{i}]: expected an nn.Module, got {type(module).__name__}")
        for p in module.parameters():
            p.requires_grad_(flag)


def _no_sync(module: nn.Module) -> contextlib.AbstractContextManager[Any]:
    """DDP's ``no_sync`` for a forward whose backward must not all-reduce; a no-op for plain modules."""
    if isinstance(module, nn.parallel.DistributedDataParallel):
        return module.no_sync()
    return contextlib.nullcontext()


def _check_group(name: str, group: object, n: int | None) -> tuple[torch.Tensor, ...]:
    if not isinstance(group, tuple):
        raise TypeError(f"{name}: expected a tuple (x, *conditions) of tensors, got {type(group).__name__}")
    if not group:
        raise ValueError(f"{name}: expected at least the sample x, got an empty tuple")
    if n is not None and len(group) != n:
        raise ValueError(f"{name}: expected {n} tensors like real (x, *conditions), got {len(group)}")
    for i, t in enumerate(group):
        check_tensor(f"{name}[{i}]", t)
    check_same_batch(**{f"{name}[{i}]": t for i, t in enumerate(group)})
    return group


def _check_weights(d_weights: object) -> tuple[float, float, float]:
    if (
        isinstance(d_weights, (str, bytes))
        or not isinstance(d_weights, Sequence)
        or len(d_weights) != 3
        or not all(isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0 for w in d_weights)
    ):
        raise ValueError(
            f"d_weights: expected three non-negative floats (real, mismatch, fake), got {d_weights!r}"
        )
    return float(d_weights[0]), float(d_weights[1]), float(d_weights[2])


def _check_networks(
    generator: object, discriminator: object, g_optimizer: object, d_optimizer: object, precision: object
) -> None:
    for name, module in (("generator", generator), ("discriminator", discriminator)):
        if not isinstance(module, nn.Module):
            raise TypeError(f"{name}: expected an nn.Module, got {type(module).__name__}")
    for name, opt in (("g_optimizer", g_optimizer), ("d_optimizer", d_optimizer)):
        if not isinstance(opt, torch.optim.Optimizer):
            raise TypeError(f"{name}: expected a torch.optim.Optimizer, got {type(opt).__name__}")
    if not isinstance(precision, Precision):
        raise TypeError(
            f"precision: expected a Precision from make_precision(), got {type(precision).__name__}"
        )


def _check_batch(
    g_inputs: object, real: object, mismatched: object, fake_conditions: object
) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...] | None]:
    """Check the generator inputs and the three D input groups; return ``(real, mismatched)``."""
    if not isinstance(g_inputs, tuple):
        raise TypeError(f"g_inputs: expected a tuple of generator inputs, got {type(g_inputs).__name__}")
    real = _check_group("real", real, None)
    if mismatched is not None:
        mismatched = _check_group("mismatched", mismatched, len(real))
    if not isinstance(fake_conditions, tuple):
        raise TypeError(f"fake_conditions: expected a tuple of tensors, got {type(fake_conditions).__name__}")
    if len(fake_conditions) != len(real) - 1:
        raise ValueError(
            f"fake_conditions: expected {len(real) - 1} tensors (the conditions of real), "
            f"got {len(fake_conditions)}"
        )
    for i, t in enumerate(fake_conditions):
        check_tensor(f"fake_conditions[{i}]", t)
    return real, mismatched


def _check_reconstruction(reconstruction: object, reconstruction_weight: object) -> None:
    if reconstruction is not None and not callable(reconstruction):
        raise TypeError(
            f"reconstruction: expected a callable fake -> scalar or None, got {type(reconstruction).__name__}"
        )
    if (
        isinstance(reconstruction_weight, bool)
        or not isinstance(reconstruction_weight, (int, float))
        or not math.isfinite(reconstruction_weight)
        or reconstruction_weight < 0
    ):
        raise ValueError(
            f"reconstruction_weight: expected a finite float >= 0, got {reconstruction_weight!r}"
        )


def _check_auxiliary(auxiliary: object, d_optimizer: torch.optim.Optimizer, batch: int) -> None:
    if auxiliary is None:
        return
    if not isinstance(auxiliary, AuxiliaryClassification):
        raise TypeError(
            "auxiliary: expected a condgan.train.AuxiliaryClassification or None, got "
            f"{type(auxiliary).__name__}"
        )
    if not isinstance(auxiliary.classifier, nn.Module):
        raise TypeError(
            f"auxiliary.classifier: expected an nn.Module, got {type(auxiliary.classifier).__name__}"
        )
    stepped = {id(p) for group in d_optimizer.param_groups for p in group["params"]}
    missing = [name for name, p in auxiliary.classifier.named_parameters() if id(p) not in stepped]
    if missing:
        raise ValueError(
            "auxiliary.classifier: expected d_optimizer to step all its parameters, got "
            f"{len(missing)} it does not (e.g. {missing[0]!r}); make the classifier a submodule of the "
            "discriminator"
        )
    for name in ("d_weight", "g_weight"):
        w = getattr(auxiliary, name)
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise ValueError(f"auxiliary.{name}: expected a finite float >= 0, got {w!r}")
    for name in ("targets", "fake_targets"):
        targets = getattr(auxiliary, name)
        if targets is None and name == "fake_targets":
            continue
        if not isinstance(targets, Mapping):
            raise TypeError(f"auxiliary.{name}: expected a mapping attribute -> (B,) tensor, got {targets!r}")
        for key, t in targets.items():
            check_tensor(f"auxiliary.{name}[{key!r}]", t)
            if t.ndim != 1 or t.shape[0] != batch:
                raise ValueError(
                    f"auxiliary.{name}[{key!r}]: expected shape ({batch},), one class per sample, "
                    f"got {tuple(t.shape)}"
                )


def _check_stage_and_step(stage: object, step: object) -> None:
    if not isinstance(stage, str):
        raise TypeError(f"stage: expected a str, got {type(stage).__name__}")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"step: expected an int >= 0, got {step!r}")


def _d_parts(
    fake: torch.Tensor,
    real: tuple[torch.Tensor, ...],
    mismatched: tuple[torch.Tensor, ...] | None,
    fake_conditions: tuple[torch.Tensor, ...],
    single_d_call: bool,
) -> list[tuple[torch.Tensor, ...]]:
    """Check the generator output and build D's input groups: real, [mismatched,] (fake.detach(), *c)."""
    check_tensor("generator output", fake)
    check_same_batch(
        **{"generator output": fake}, **{f"fake_conditions[{i}]": t for i, t in enumerate(fake_conditions)}
    )
    fake_group = (fake.detach(), *fake_conditions)
    parts = [real, fake_group] if mismatched is None else [real, mismatched, fake_group]
    if single_d_call:
        for i in range(len(real)):
            shapes = [tuple(part[i].shape[1:]) for part in parts]
            if len(set(shapes)) > 1:
                raise ValueError(
                    f"single_d_call: D input {i} must have the same per-sample shape in real, mismatched and "
                    f"fake to be concatenated, got {shapes}"
                )
    return parts


def _discriminate(
    discriminator: nn.Module, parts: list[tuple[torch.Tensor, ...]], single_d_call: bool
) -> tuple[torch.Tensor, ...]:
    """D's logits for each part: one call on the concatenated batch, or one call per part."""
    if single_d_call:
        batched = [torch.cat([part[i] for part in parts], dim=0) for i in range(len(parts[0]))]
        sizes = [part[0].shape[0] for part in parts]
        return split_logits(discriminator(*batched), sizes)
    logits_list = []
    for k, part in enumerate(parts):  # under DDP only the last forward prepares the all-reduce
        ctx = _no_sync(discriminator) if k < len(parts) - 1 else contextlib.nullcontext()
        with ctx:
            logits_list.append(discriminator(*part))
    return tuple(logits_list)


def _d_losses(
    logits: tuple[torch.Tensor, ...], loss: str, weights: tuple[float, float, float], *, with_mismatch: bool
) -> dict[str, torch.Tensor]:
    """The D loss terms and total, in the order they are checked (a zero ``d_mismatch`` if unused)."""
    w_real, w_mismatch, w_fake = weights
    if not with_mismatch:
        d_real = d_real_loss(logits[0], kind=loss)
        d_fake = d_fake_loss(logits[1], kind=loss)
        d_mismatch = torch.zeros((), device=d_real.device)
        d_total = w_real * d_real + w_fake * d_fake
    else:
        d_total, d_real, d_mismatch, d_fake = matching_aware_d_loss(
            logits[0], logits[1], logits[2], kind=loss, weights=(w_real, w_mismatch, w_fake)
        )
    return {"d_real": d_real, "d_mismatch": d_mismatch, "d_fake": d_fake, "d_total": d_total}


def _reconstruction_term(
    reconstruction: Callable[[torch.Tensor], torch.Tensor] | None, fake: torch.Tensor, device: torch.device
) -> torch.Tensor:
    """``reconstruction(fake)`` checked to be a scalar, as a 0-d tensor; zero without a reconstruction."""
    if reconstruction is None:
        return torch.zeros((), device=device)
    g_rec = reconstruction(fake)
    check_tensor("reconstruction(fake)", g_rec)
    if g_rec.numel() != 1:
        raise ValueError(f"reconstruction(fake): expected a scalar, got shape {tuple(g_rec.shape)}")
    return g_rec.reshape(())


def _g_losses(
    discriminator: nn.Module,
    fake: torch.Tensor,
    fake_conditions: tuple[torch.Tensor, ...],
    loss: str,
    reconstruction: Callable[[torch.Tensor], torch.Tensor] | None,
    reconstruction_weight: float,
) -> dict[str, torch.Tensor]:
    """``g_adv, g_rec, g_total`` (in the order they are checked), D judging the non-detached fake."""
    g_adv = g_loss(discriminator(fake, *fake_conditions), kind=loss)
    g_rec = _reconstruction_term(reconstruction, fake, g_adv.device)
    g_total = g_adv + reconstruction_weight * g_rec
    return {"g_adv": g_adv, "g_rec": g_rec, "g_total": g_total}


def _add_auxiliary(
    losses: dict[str, torch.Tensor],
    side: str,
    auxiliary: AuxiliaryClassification,
    x: torch.Tensor,
    targets: Mapping[str, torch.Tensor],
) -> dict[str, torch.Tensor]:
    """``losses`` with ``<side>_aux`` (the classifier's loss on ``x``), checked first, added to the total."""
    term = auxiliary_classification_loss(
        auxiliary.classifier(x), targets, check_labels=auxiliary.check_labels
    )
    weight = auxiliary.d_weight if side == "d" else auxiliary.g_weight
    out = {k: v for k, v in losses.items() if k != f"{side}_total"}
    out[f"{side}_aux"] = term
    out[f"{side}_total"] = losses[f"{side}_total"] + weight * term
    return out


def _step_result(d_report: StepReport, g_report: StepReport) -> dict[str, float]:
    """The returned floats in their documented order, ``skipped``, then the gradient norms if computed."""
    out: dict[str, float] = {**d_report.values, **g_report.values}
    ordered = ["d_total", "d_real", "d_mismatch", "d_fake", "g_adv", "g_rec", "g_total"]
    result: dict[str, float] = {k: out[k] for k in ordered}
    for k in ("d_aux", "g_aux"):
        if k in out:
            result[k] = out[k]
    result["skipped"] = int(not d_report.stepped) + int(not g_report.stepped)
    for k in ("d_grad_norm", "g_grad_norm"):
        if k in out:
            result[k] = out[k]
    return result


def conditional_gan_step(
    *,
    generator: nn.Module,
    discriminator: nn.Module,
    g_optimizer: torch.optim.Optimizer,
    d_optimizer: torch.optim.Optimizer,
    g_inputs: tuple[Any, ...],
    real: tuple[torch.Tensor, ...],
    mismatched: tuple[torch.Tensor, ...] | None,
    fake_conditions: tuple[torch.Tensor, ...],
    reconstruction: Callable[[torch.Tensor], torch.Tensor] | None = None,
    reconstruction_weight: float = 100.0,
    loss: str = "bce",
    d_weights: Sequence[float] = (1.0, 1.0, 1.0),
    single_d_call: bool = True,
    precision: Precision,
    auxiliary: AuxiliaryClassification | None = None,
    check_finite: bool = True,
    on_nonfinite: str = "raise",
    stage: str = "",
    step: int = 0,
) -> dict[str, float]:
    """One discriminator step then one generator step of a conditional GAN.

    ``fake = generator(*g_inputs)``; the discriminator is called as ``discriminator(x, *conditions)``.

    D step: with ``single_d_call`` the real, mismatched and ``fake.detach()`` inputs are concatenated along
    the batch for ONE D call (faster; BatchNorm then sees the three parts together, and DDP sees one forward
    per backward) and the logits are split back; otherwise D is called once per part. The loss is
    [`matching_aware_d_loss`][condgan.losses.matching_aware.matching_aware_d_loss] with
    ``d_weights = (w_real, w_mismatch, w_fake)``; without ``mismatched`` it is
    ``w_real * real_term + w_fake * fake_term``.

    G step: D is frozen ([`set_requires_grad`][condgan.train.gan_step.set_requires_grad]) and called afresh on
    the non-detached fake;
    ``L_G = g_loss(D(fake, *fake_conditions)) + reconstruction_weight * reconstruction(fake)``.

    Both steps go through [`Precision.backward_step`][condgan.train.precision.Precision.backward_step]:
    autocast, fp16 scaling, and (``check_finite``) one sync per step that fetches the losses and the gradient
    norm and checks them before ``optimizer.step()`` (terms first, then the total, then the gradient norm, so
    the first name reported is the most specific). Under DDP the D call of the G step runs in ``no_sync`` (D
    gets no gradient there).

    Args:
        generator: ``G``; its output is a tensor ``(B, ...)``.
        discriminator: ``D``, returning logits ``(B,)`` or ``(B, 1, h, w)`` (PatchGAN).
        g_optimizer: Steps G's parameters.
        d_optimizer: Steps D's parameters.
        g_inputs: Positional inputs of G, e.g. ``(z, spatial_constraint, code)``.
        real: ``(x_real, *conditions_real)``.
        mismatched: ``(x_other, *conditions_other)``: another sample's x (and spatial condition) with the
            current code, judged fake; ``None`` drops the mismatch term.
        fake_conditions: The conditions D sees with the fake, ``len(real) - 1`` tensors.
        reconstruction: ``fake -> scalar`` supervised term (e.g. L1 to the real image); ``None`` for none.
        reconstruction_weight: Its weight (the official code uses 100 for L1).
        loss: Adversarial loss kind: ``"bce"``, ``"hinge"`` or ``"lsgan"``.
        d_weights: ``(w_real, w_mismatch, w_fake)``.
        single_d_call: One concatenated D call (True) or one call per part.
        precision: From [`make_precision`][condgan.train.precision.make_precision].
        auxiliary: An [`AuxiliaryClassification`][condgan.train.gan_step.AuxiliaryClassification]: its
            classifier learns the real samples' attributes in the D step (``L_D += d_weight * L_aux``) and the
            generator is asked to show ``fake_targets`` (``L_G += g_weight * L_aux``); ``None`` for none.
        check_finite: Check losses and gradient norms for NaN/Inf before each optimizer step.
        on_nonfinite: ``"raise"`` ([`NonFiniteError`][condgan.train.faults.NonFiniteError]) or ``"skip"`` the
            optimizer step.
        stage: Name for error messages (e.g. ``"shape"``).
        step: Step number for error messages.

    Returns:
        Floats ``d_total, d_real, d_mismatch, d_fake, g_adv, g_rec, g_total``, with ``auxiliary`` also
        ``d_aux, g_aux`` (the unweighted classification losses of the real samples and of the fakes),
        ``skipped`` (optimizer steps skipped in this call: 0, 1 or 2) and, with ``check_finite`` or fp16,
        ``d_grad_norm, g_grad_norm``.

    Examples:
        >>> from condgan.train import make_precision
        >>> g, d = nn.Linear(3, 4), nn.Bilinear(4, 2, 1)
        >>> x, c, z = torch.randn(4, 4), torch.randn(4, 2), torch.randn(4, 3)
        >>> out = conditional_gan_step(
        ...     generator=g, discriminator=d,
        ...     g_optimizer=torch.optim.Adam(g.parameters()), d_optimizer=torch.optim.Adam(d.parameters()),
        ...     g_inputs=(z,), real=(x, c), mismatched=(x.roll(1, 0), c), fake_conditions=(c,),
        ...     reconstruction=lambda fake: (fake - x).abs().mean(), precision=make_precision("cpu"))
        >>> sorted(out)  # doctest: +NORMALIZE_WHITESPACE
        ['d_fake', 'd_grad_norm', 'd_mismatch', 'd_real', 'd_total', 'g_adv', 'g_grad_norm', 'g_rec',
         'g_total', 'skipped']
    """
    _check_networks(generator, discriminator, g_optimizer, d_optimizer, precision)
    real, mismatched = _check_batch(g_inputs, real, mismatched, fake_conditions)
    _check_reconstruction(reconstruction, reconstruction_weight)
    if loss not in ADVERSARIAL_KINDS:
        raise ValueError(f"loss: expected one of {list(ADVERSARIAL_KINDS)}, got {loss!r}")
    weights = _check_weights(d_weights)
    _check_on_nonfinite(on_nonfinite)
    _check_stage_and_step(stage, step)
    _check_auxiliary(auxiliary, d_optimizer, real[0].shape[0])
    backward = functools.partial(
        precision.backward_step, check_finite=check_finite, on_nonfinite=on_nonfinite, stage=stage, step=step
    )

    with precision.autocast():
        fake = generator(*g_inputs)
    parts = _d_parts(fake, real, mismatched, fake_conditions, single_d_call)

    # ---- discriminator step ----
    set_requires_grad(discriminator, True)
    with precision.autocast():
        logits = _discriminate(discriminator, parts, single_d_call)
        d_losses = _d_losses(logits, loss, weights, with_mismatch=mismatched is not None)
        if auxiliary is not None:
            d_losses = _add_auxiliary(d_losses, "d", auxiliary, real[0], auxiliary.targets)
    d_report = backward(d_losses["d_total"], d_optimizer, losses=d_losses, grad_norm_name="d_grad_norm")

    # ---- generator step ----
    frozen = [discriminator] if auxiliary is None else [discriminator, auxiliary.classifier]
    set_requires_grad(frozen, False)
    try:
        with precision.autocast(), _no_sync(discriminator):
            g_losses = _g_losses(
                discriminator, fake, fake_conditions, loss, reconstruction, reconstruction_weight
            )
            if auxiliary is not None:
                wanted = auxiliary.targets if auxiliary.fake_targets is None else auxiliary.fake_targets
                g_losses = _add_auxiliary(g_losses, "g", auxiliary, fake, wanted)
        g_report = backward(g_losses["g_total"], g_optimizer, losses=g_losses, grad_norm_name="g_grad_norm")
    finally:
        set_requires_grad(frozen, True)
    return _step_result(d_report, g_report)
