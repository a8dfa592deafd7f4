"""Training utilities: a thin GAN step, precision, checkpoints, EMA, learning-rate decay, distributed helpers,
metrics log, faults.

Nothing here owns a training loop: [`conditional_gan_step`][condgan.train.gan_step.conditional_gan_step] is
one readable function, the rest are small tools a loop calls (see ``docs/training.md`` for a complete loop
with resume and graceful exit).
"""

from condgan.train.checkpoint import (
    CheckpointError,
    CheckpointInfo,
    checkpoint_step,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    read_checkpoint_meta,
    save_checkpoint,
)
from condgan.train.classifier_warmup import warm_up_classifier
from condgan.train.distributed import (
    DistInfo,
    all_reduce_mean,
    barrier,
    cleanup,
    get_rank,
    get_world_size,
    init_distributed,
    is_main_process,
    seed_everything,
    unwrap_model,
    wrap_ddp,
)
from condgan.train.ema import make_ema, update_ema
from condgan.train.faults import (
    GracefulExit,
    NonFiniteError,
    check_finite,
    fetch_values,
    first_nonfinite_tensor,
)
from condgan.train.gan_step import AuxiliaryClassification, conditional_gan_step, set_requires_grad
from condgan.train.lr_schedule import LR_DECAYS, lr_factor, set_lr
from condgan.train.metrics_log import MetricsLog, read_metrics
from condgan.train.precision import (
    PRECISION_MODES,
    Precision,
    StepReport,
    make_adam,
    make_precision,
    to_channels_last,
)

__all__ = [
    # step
    "conditional_gan_step",
    "set_requires_grad",
    "AuxiliaryClassification",
    "warm_up_classifier",
    # precision and speed
    "Precision",
    "StepReport",
    "PRECISION_MODES",
    "make_precision",
    "make_adam",
    "to_channels_last",
    # checkpoints
    "CheckpointError",
    "CheckpointInfo",
    "save_checkpoint",
    "load_checkpoint",
    "latest_checkpoint",
    "list_checkpoints",
    "read_checkpoint_meta",
    "checkpoint_step",
    # learning rate
    "LR_DECAYS",
    "lr_factor",
    "set_lr",
    # EMA
    "make_ema",
    "update_ema",
    # distributed
    "DistInfo",
    "init_distributed",
    "seed_everything",
    "wrap_ddp",
    "unwrap_model",
    "all_reduce_mean",
    "barrier",
    "cleanup",
    "is_main_process",
    "get_rank",
    "get_world_size",
    # logging and faults
    "MetricsLog",
    "read_metrics",
    "NonFiniteError",
    "GracefulExit",
    "check_finite",
    "fetch_values",
    "first_nonfinite_tensor",
]
