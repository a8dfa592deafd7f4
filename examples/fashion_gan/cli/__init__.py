"""``fashion-gan``: train, generate, evaluate FashionGAN; ``demo`` does all three on the synthetic data.

Run ``fashion-gan <command> --help`` for every option. Errors in what you asked for (a wrong path, an unknown
word, a checkpoint of another configuration) print one clear line and exit with status 2; a run stopped early
with an intact checkpoint exits with status 3.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

# OpenMP threads that spin while they wait make a shared CPU crawl (measured: a demo step took 8-18 s
# instead of 1.5 s with another busy process on 2 cores); sleeping waiters cost almost nothing when the CPU
# is free. It must be set before torch starts its thread pool, so before anything below imports torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .parser import build_parser, config_from_args  # noqa: E402

__all__ = ["main", "build_parser", "config_from_args"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``fashion-gan`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from condgan.text.vocabulary import UnknownWordError
    from condgan.train import CheckpointError
    from condgan.train.distributed import cleanup

    from ..training.stopping import TrainingStopped

    try:
        code = _dispatch(args)
        # Under torchrun: a last barrier, then the process group destroyed, before the interpreter exits
        # (else gloo can abort the rank at exit: see condgan.train.distributed.cleanup). Only after success: a
        # failed rank may leave others inside a collective, and the barrier would then wait for them.
        cleanup()
        return code
    except TrainingStopped as err:
        print(f"fashion-gan: {err}", file=sys.stderr)
        return 3
    except (ValueError, TypeError, OSError, CheckpointError, UnknownWordError) as err:
        # OSError: a missing file or run folder, an --out below a regular file, a read-only folder.
        print(f"fashion-gan {args.command}: error: {err}", file=sys.stderr)
        return 2


def _identity(args) -> str:
    """``--identity``, or structural (``--keep-identity`` says the same; both together must agree)."""
    if args.keep_identity and args.identity not in (None, "structural"):
        raise ValueError(f"--keep-identity means --identity structural, got --identity {args.identity} too")
    return args.identity or "structural"


def _evaluation_sizes(args) -> dict:
    """``--num-test``, ``--detector-steps``, ``--detector-people``, ``--parser-steps`` as keyword arguments of
    the commands."""
    return {
        "num_test": args.num_test,
        "detector_steps": args.detector_steps,
        "detector_people": args.detector_people,
        "parser_steps": args.parser_steps,
    }


def _dispatch(args) -> int:
    """Turn the parsed options into one call of [`commands`][fashion_gan.cli.commands]."""
    import json

    from . import commands

    if args.command == "train":
        cfg = config_from_args(args, run_dir=args.out)
        commands.train_models(
            cfg, args.out, stage=args.stage, resume=args.resume, progress=not args.no_progress
        )
    elif args.command == "generate":
        written = commands.generate_images(
            args.run,
            model=args.model,
            people=args.person,
            image=args.image,
            labels=args.labels,
            sentences=args.sentence,
            grid=args.grid,
            sweep=args.sweep,
            seeds=args.seed,
            identity=_identity(args),
            out=args.out,
            device=args.device,
        )
        print("\n".join(str(p) for p in written))
    elif args.command == "evaluate":
        from ..evaluation.evaluate import format_table

        result = commands.evaluate(
            args.run,
            **_evaluation_sizes(args),
            identities=args.identity,
            device=args.device,
            progress=not args.no_progress,
        )
        print(format_table(result))
    elif args.command == "demo":
        commands.demo(
            config_from_args(args, default_preset="demo"),
            args.out,
            **_evaluation_sizes(args),
            progress=not args.no_progress,
        )
    elif args.command == "ablation":
        cfg = config_from_args(args, run_dir=args.out, default_preset="demo")
        commands.ablation(cfg, args.out, **_evaluation_sizes(args), progress=not args.no_progress)
    elif args.command == "teacher":
        from ..training.teacher import train_teacher

        cfg = config_from_args(args, default_preset="demo")
        train_teacher(
            cfg, args.out, steps=args.warmup_steps, people=args.people, progress=not args.no_progress
        )
    elif args.command == "serve":
        from ..serve import serve_run

        serve_run(
            commands.run_folder(args.run),
            host=args.host,
            port=args.port,
            people=args.people,
            device=args.device,
            draw_grid=commands.redress_grid,
            grid_sentences=commands.DEMO_SENTENCES,
        )
    elif args.command == "plot":
        from ..plots import plot_run

        print(plot_run(commands.run_folder(args.run), args.out, smooth=args.smooth))
    else:  # prepare-data
        print(json.dumps({"cache": str(commands.prepare_data(args.data_root, args.out))}))
    return 0
