"""`advgrasp gan`: train, sample and evaluate the GAN variants of `gan_core`, and render
object images for them."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

log = logging.getLogger("advgrasp.gan")


def _option(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"option {text!r} must be KEY=VALUE, e.g. clip=0.02")
    key, value = text.split("=", 1)
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def register(subparsers) -> None:
    """Add the `gan` command group to the `advgrasp` subparsers."""
    from gan_core.data import DATASETS
    from gan_core.variants import VARIANTS, GanConfig

    defaults = GanConfig()
    gan = subparsers.add_parser("gan", help="GAN variants of gan_core: train, sample, evaluate")
    sub = gan.add_subparsers(dest="gan_command", required=True)

    train = sub.add_parser("train", help="train a GAN variant (resumes from --out)",
                           formatter_class=argparse.RawDescriptionHelpFormatter,
                           epilog="models:\n" + "\n".join(
                               f"  {name:13s} {cls.description}"
                               for name, cls in sorted(VARIANTS.items())))
    train.add_argument("--model", required=True, choices=sorted(VARIANTS), help="the variant")
    train.add_argument("--data", default=defaults.data, choices=sorted(DATASETS),
                       help=f"data set (default {defaults.data})")
    train.add_argument("--data-dir", help="image folder for --data folder")
    train.add_argument("--out", help="run folder (default runs/gan-MODEL-DATA-SEED)")
    train.add_argument("--iterations", type=int, default=defaults.iterations,
                       help=f"training rounds (default {defaults.iterations})")
    train.add_argument("--batch-size", type=int, default=defaults.batch_size)
    train.add_argument("--image-size", type=int, default=defaults.image_size,
                       help="image side in pixels, a power of two (digits: 16 or 32 as in the "
                            "README; the metrics train a classifier once per size)")
    train.add_argument("--width", type=int, default=defaults.width,
                       help="MLP hidden units, or channels of the widest-resolution conv layer")
    train.add_argument("--z-dim", type=int, default=defaults.z_dim)
    train.add_argument("--lr-g", type=float, help="generator learning rate (variant default)")
    train.add_argument("--lr-d", type=float, help="discriminator learning rate (variant default)")
    train.add_argument("--betas", type=float, nargs=2, help="Adam betas (variant default)")
    train.add_argument("--seed", type=int, default=defaults.seed)
    train.add_argument("--pack", type=int, default=1,
                       help="PacGAN: the discriminator judges this many samples at once")
    train.add_argument("--network", default="auto", choices=["auto", "mlp", "conv"])
    train.add_argument("--lr-decay", default="none", choices=["none", "linear"],
                       help="linear: learning rates fixed for the first half, then falling "
                            "linearly to zero (default none)")
    train.add_argument("--g-loss", choices=["saturating", "non-saturating"],
                       help="generator loss of --model gan (default non-saturating)")
    train.add_argument("--option", type=_option, action="append", default=[],
                       metavar="KEY=VALUE", help="a variant option, e.g. clip=0.02 for wgan")
    train.add_argument("--device", default=defaults.device)
    train.add_argument("--no-mixed-precision", action="store_true",
                       help="train in float32 on CUDA too")
    train.add_argument("--checkpoint-every", type=int, default=defaults.checkpoint_every)
    train.add_argument("--log-every", type=int, default=defaults.log_every)
    train.add_argument("--no-resume", action="store_true", help="start afresh in --out")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument("--threads", type=int,
                       help="torch CPU threads (default: torch's choice; 1 on a shared machine)")
    train.set_defaults(func=cmd_train)

    sample = sub.add_parser("sample", help="samples of a trained model: a PNG grid (images), "
                            "a scatter plot (points), or N images to a folder")
    sample.add_argument("checkpoint", help="checkpoint.pt of a run, or its folder")
    sample.add_argument("--count", type=int, default=64, help="samples (default 64)")
    sample.add_argument("--out", help="PNG file (default CHECKPOINT_DIR/samples.png)")
    sample.add_argument("--folder", help="write each image as a PNG into this folder instead")
    sample.add_argument("--seed", type=int, default=0)
    sample.set_defaults(func=cmd_sample)

    evaluate = sub.add_parser("evaluate", help="metrics of a trained model (no download)")
    evaluate.add_argument("checkpoint", help="checkpoint.pt of a run, or its folder")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--inception-weights",
                          help="TorchScript Inception file for an Inception FID (never fetched)")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.set_defaults(func=cmd_evaluate)

    render = sub.add_parser("render-objects", help="render top-down images of the grasp "
                            "objects into a folder (for --data folder)")
    render.add_argument("--out", default="runs/object-images", help="folder for the PNGs")
    render.add_argument("--count", type=int, default=200, help="images (default 200)")
    render.add_argument("--split", default="train", choices=["train", "test", "all"])
    render.add_argument("--object-set", default="random_urdfs")
    render.add_argument("--image-size", type=int, default=64, help="side in pixels (>= 48)")
    render.add_argument("--seed", type=int, default=0)
    render.add_argument("--pairs", action="store_true",
                        help="write A/ (RGB) and B/ (depth) image pairs of the same names, for "
                        "--data pairs (image-to-image models); two runs with different "
                        "--object-set into OUT/A and OUT/B make data for --data unpaired")
    render.set_defaults(func=cmd_render_objects)


def config_from_args(args):
    """The `GanConfig` of `gan train` arguments."""
    from gan_core.variants import GanConfig

    options = dict(args.option)
    if args.g_loss:
        options["g_loss"] = args.g_loss
    return GanConfig(model=args.model, data=args.data, image_size=args.image_size,
                     batch_size=args.batch_size, iterations=args.iterations, lr_g=args.lr_g,
                     lr_d=args.lr_d, betas=tuple(args.betas) if args.betas else None,
                     z_dim=args.z_dim, width=args.width, seed=args.seed, pack=args.pack,
                     device=args.device, mixed_precision=not args.no_mixed_precision,
                     network=args.network, data_dir=args.data_dir, lr_decay=args.lr_decay,
                     checkpoint_every=args.checkpoint_every, log_every=args.log_every,
                     options=options)


def cmd_train(args) -> int:
    import torch

    from gan_core.errors import ConfigError
    from gan_core.run import train

    if args.threads is not None:
        if args.threads < 1:
            raise ConfigError(f"--threads {args.threads} must be at least 1")
        torch.set_num_threads(args.threads)
    config = config_from_args(args)
    config.validate()
    out = Path(args.out or f"runs/gan-{config.model}-{config.data}-{config.seed}")
    start = time.perf_counter()
    path = train(config, out, resume=not args.no_resume, progress=not args.no_progress)
    print(f"trained {config.model} on {config.data} to {config.iterations} iterations in "
          f"{time.perf_counter() - start:.1f} s -> {path}")
    return 0


def cmd_sample(args) -> int:
    import torch

    from gan_core.data import images_to_grid, save_png
    from gan_core.errors import ConfigError
    from gan_core.evaluation import generate_many
    from gan_core.run import load_run

    if args.count < 1:
        raise ConfigError(f"--count {args.count} must be at least 1")
    if args.out and Path(args.out).suffix.lower() != ".png":
        raise ConfigError(f"--out {args.out} must name a .png file (or use --folder DIR for "
                          "one file per image)")
    variant = load_run(args.checkpoint)
    torch.manual_seed(args.seed)
    samples = generate_many(variant, args.count)
    run_dir = Path(args.checkpoint) if Path(args.checkpoint).is_dir() \
        else Path(args.checkpoint).parent
    if args.folder:
        if samples.dim() != 4:
            raise SystemExit("--folder writes images; this model makes 2-D points: use --out")
        folder = Path(args.folder)
        for index, image in enumerate(samples):
            save_png(images_to_grid(image[None], 1)[2:-2, 2:-2], folder / f"{index:05d}.png")
        print(f"wrote {len(samples)} images to {folder}")
        return 0
    out = Path(args.out or run_dir / "samples.png")
    if samples.dim() == 4:
        save_png(images_to_grid(samples), out)
    else:
        _scatter(samples.numpy(), variant.data_info, out)
    print(f"wrote {len(samples)} samples to {out}")
    return 0


def _scatter(points, info, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5, label="samples")
    modes = np.asarray(info.extra.get("modes", []))
    if len(modes):
        ax.scatter(modes[:, 0], modes[:, 1], s=20, marker="x", color="red", label="modes")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)


def cmd_evaluate(args) -> int:
    from gan_core.errors import ConfigError
    from gan_core.evaluation import evaluate_variant
    from gan_core.run import load_run

    variant = load_run(args.checkpoint)
    if args.inception_weights and variant.data_info.kind != "images":
        raise ConfigError(f"--inception-weights applies to image models; {variant.config.model} "
                          f"on {variant.data_info.name!r} makes {variant.data_info.kind}")
    result = evaluate_variant(variant, seed=args.seed, inception_weights=args.inception_weights)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{variant.config.model} on {variant.data_info.name}:")
    for key, value in result.items():
        print(f"  {key:22s} {value:.4f}")
    if "frechet" in result:
        print("  (classifier-feature distances: not comparable to published Inception FIDs)")
    return 0


def cmd_render_objects(args) -> int:
    from envs.config import WorldConfig
    from envs.world import GraspWorld
    from gan_core.data import save_png

    world = GraspWorld(WorldConfig(object_set=args.object_set, split=args.split,
                                   image_size=args.image_size,
                                   obs_mode="rgbd" if args.pairs else "rgb"))
    folder = Path(args.out)
    try:
        for index in range(args.count):
            world.reset(seed=args.seed + index)
            image, name = world.observe(), f"object_{index:05d}.png"
            if args.pairs:
                # Top-down colour and its quantised height map: a paired translation task.
                save_png(image[:, :, :3], folder / "A" / name)
                save_png(image[:, :, 3], folder / "B" / name)
            else:
                save_png(image, folder / name)
    finally:
        world.close()
    kind = "RGB/depth pairs" if args.pairs else "object images"
    print(f"rendered {args.count} {kind} to {folder}")
    return 0
