"""`torchrun --nproc_per_node 2` trains a GAN variant with the gloo backend on the CPU."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import torch

SCRIPT = textwrap.dedent("""
    import os, sys
    import torch
    torch.set_num_threads(1)
    from gan_core.run import train
    from gan_core.variants import GanConfig

    import gan_core.run as run

    out = sys.argv[1]
    save = run._save

    def save_every_rank(trainer, variant, sampler, config, path, rank):
        # Each process also writes its own weights, to compare them across processes.
        save(trainer, variant, sampler, config, path, rank)
        weights = {p.name: p.model.state_dict() for p in variant.players()}
        torch.save(weights, os.path.join(out, f"rank{rank}.pt"))

    run._save = save_every_rank
    config = GanConfig(model="wgan-gp", data="ring", batch_size=16, width=16, z_dim=8,
                       iterations=3, device="cpu", checkpoint_every=100, log_every=1)
    train(config, out)
    """)


def test_torchrun_two_processes_train_in_step(tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    # A standalone rendezvous on this machine's loopback only.
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(script), str(tmp_path / "run")],
        env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    saved = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    assert saved["state"]["step"] == 3
    assert saved["state"]["updates"] == {"D": 15, "G": 3}
    rank0, rank1 = (torch.load(tmp_path / "run" / f"rank{r}.pt") for r in (0, 1))
    for name in ("D", "G"):
        for key, tensor in rank0[name].items():
            assert torch.equal(tensor, rank1[name][key]), (name, key)
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert len(rows) == 4  # only rank 0 logs: a header and three rounds
