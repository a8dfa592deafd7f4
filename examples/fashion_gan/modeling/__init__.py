"""FashionGAN's models: conditions of a batch, the official networks, and the registry of trainable stages.

Importing this package registers every stage (stage 1, the render variants, the One-Step baselines) in
[`STAGES`][fashion_gan.modeling.stage.STAGES].
"""

from . import onestep, render, shape  # noqa: F401  (importing them registers their stages)
from .conditions import APPEARANCE_DIM, NUM_LABELS, Conditions, build_conditions
from .stage import (
    KINDS,
    STAGES,
    Stage,
    StepInputs,
    all_stages,
    code_dim,
    demo_stages,
    design_code,
    evaluation_stages,
    get_stage,
    net_kwargs,
    register,
    stage_for,
    variants,
)

__all__ = [
    "APPEARANCE_DIM",
    "NUM_LABELS",
    "Conditions",
    "build_conditions",
    "KINDS",
    "STAGES",
    "all_stages",
    "Stage",
    "StepInputs",
    "code_dim",
    "design_code",
    "demo_stages",
    "evaluation_stages",
    "get_stage",
    "net_kwargs",
    "register",
    "stage_for",
    "variants",
]
