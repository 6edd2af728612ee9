"""Training speed of our DCGAN (gan_core variant on the shared TwoPlayerTrainer) against a plain
reference loop written here, in the same process: iterations (one D and one G step) per second.

Both use G: z(100) -> 4x4x256 -> 8x8x128 -> 16x16x64 -> 32x32xC, the mirrored D, Adam(2e-4,
(0.5, 0.999)), the non-saturating loss, batch 64, 32 px digits (C = 1). The two loops alternate
in blocks so that machine load hits both alike. Where CUDA is present, our DCGAN at batch 512
is also timed with mixed precision against float32 (target: at least 1.5x); elsewhere that
check is skipped and the reason printed.

    python benchmarks/bench_gan_speed.py [--iterations 20] [--blocks 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn


def reference_networks(channels: int) -> tuple[nn.Module, nn.Module]:
    """The plain DCGAN pair, written out layer by layer."""
    generator = nn.Sequential(
        nn.ConvTranspose2d(100, 256, 4, 1, 0, bias=False), nn.BatchNorm2d(256), nn.ReLU(True),
        nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(True),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
        nn.ConvTranspose2d(64, channels, 4, 2, 1), nn.Tanh())
    discriminator = nn.Sequential(
        nn.Conv2d(channels, 64, 4, 2, 1), nn.LeakyReLU(0.2, True),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2, True),
        nn.Conv2d(128, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.LeakyReLU(0.2, True),
        nn.Conv2d(256, 1, 4, 1, 0))
    return generator, discriminator


def reference_loop(images: torch.Tensor, iterations: int, batch: int, device) -> float:
    """A plain DCGAN loop; returns iterations per second."""
    generator, discriminator = (m.to(device) for m in reference_networks(images.shape[1]))
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    start = None
    for step in range(iterations + 2):
        if step == 2:  # two warm-up iterations
            _sync(device)
            start = time.perf_counter()
        real = images[torch.randint(len(images), (batch,))].to(device)
        fake = generator(torch.randn(batch, 100, 1, 1, device=device))
        real_logits = discriminator(real).flatten()
        fake_logits = discriminator(fake.detach()).flatten()
        loss_d = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                  + F.binary_cross_entropy_with_logits(fake_logits,
                                                       torch.zeros_like(fake_logits)))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        logits = discriminator(fake).flatten()
        loss_g = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    _sync(device)
    return iterations / (time.perf_counter() - start)


def ours(iterations: int, batch: int, device, mixed_precision: bool = False) -> float:
    """Our DCGAN: the loop body of `gan_core.run.train`; returns iterations per second."""
    from gan_core.run import BatchSampler, build_variant
    from gan_core.training import TwoPlayerTrainer
    from gan_core.variants import GanConfig

    config = GanConfig(model="dcgan", data="digits", image_size=32, batch_size=batch,
                       z_dim=100, width=64, device=str(device),
                       mixed_precision=mixed_precision)
    variant, dataset, _ = build_variant(config)
    sampler = BatchSampler(dataset, batch, seed=0)
    trainer = TwoPlayerTrainer(variant.players(), variant.schedule(), device=device,
                               mixed_precision=mixed_precision)
    start = None
    with trainer:
        for step in range(iterations + 2):
            if step == 2:
                _sync(device)
                start = time.perf_counter()
            batch_dict = {k: v.to(trainer.device) for k, v in sampler.next().items()}
            trainer.round(variant.loss_fns(batch_dict))
        _sync(device)
    return iterations / (time.perf_counter() - start)


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=20, help="timed iterations a block")
    parser.add_argument("--blocks", type=int, default=3, help="alternating blocks per loop")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    from gan_core.data import digits_tensors

    images, _ = digits_tensors(32)
    rates = {"ours": [], "reference": []}
    for _ in range(args.blocks):
        rates["reference"].append(reference_loop(images, args.iterations, 64, device))
        rates["ours"].append(ours(args.iterations, 64, device))
    best = {name: max(values) for name, values in rates.items()}
    print(f"DCGAN 32 px, batch 64, {device}, {args.threads} thread(s), best of {args.blocks} "
          f"blocks of {args.iterations} iterations:")
    for name in ("ours", "reference"):
        blocks = ", ".join(f"{v:.2f}" for v in rates[name])
        print(f"  {name:10s} {best[name]:7.2f} it/s   (blocks: {blocks})")
    ratio = best["ours"] / best["reference"]
    print(f"  ours / reference = {ratio:.3f} ({'not slower' if ratio >= 0.97 else 'SLOWER'}; "
          "within 3 % counts as not slower)")
    if device.type == "cuda":
        fp32 = ours(args.iterations, 512, device, mixed_precision=False)
        amp = ours(args.iterations, 512, device, mixed_precision=True)
        print(f"mixed precision, batch 512: float32 {fp32:.2f} it/s, float16 autocast "
              f"{amp:.2f} it/s, speed-up {amp / fp32:.2f}x (target >= 1.5x)")
    else:
        print("mixed precision, batch 512: skipped: no CUDA device here (autocast to float16 "
              "runs on CUDA only, so there is nothing to compare on the CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
