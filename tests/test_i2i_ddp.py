"""`torchrun --nproc_per_node 2` trains the four-network CycleGAN and the two-stage StackGAN
with the gloo backend on the CPU; both processes end with the same parameters."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

SCRIPT = textwrap.dedent("""
    import os, sys
    import torch
    torch.set_num_threads(1)
    from gan_core import training
    from gan_core.run import train
    from gan_core.variants import GanConfig

    out, model, data, iterations = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    rank = int(os.environ["RANK"])
    close = training.TwoPlayerTrainer.close

    def close_and_dump(self):
        # Each process writes its own live parameters, to compare them across processes.
        params = {p.name: {k: v.detach().clone() for k, v in p.model.named_parameters()}
                  for p in self.players}
        torch.save(params, os.path.join(out, f"rank{rank}.pt"))
        close(self)

    training.TwoPlayerTrainer.close = close_and_dump
    config = GanConfig(model=model, data=data, batch_size=8, width=8, z_dim=8, image_size=16,
                       iterations=iterations, device="cpu", checkpoint_every=100, log_every=1)
    train(config, out)
    """)


@pytest.mark.parametrize("model,data,iterations,updates", [
    ("cyclegan", "digits2inverted", 2, {"D": 2, "G": 2}),
    pytest.param("stackgan", "digits-train", 4, {"D1": 2, "G1": 2, "D2": 2, "G2": 2},
                 marks=pytest.mark.slow)])
def test_torchrun_two_processes_stay_in_step(tmp_path, model, data, iterations, updates):
    script = tmp_path / "ddp_i2i.py"
    script.write_text(SCRIPT)
    run = tmp_path / "run"
    run.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    # A standalone rendezvous on this machine's loopback only.
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(script), str(run), model, data, str(iterations)],
        env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    saved = torch.load(run / "checkpoint.pt", weights_only=False)
    assert saved["state"]["step"] == iterations
    assert saved["state"]["updates"] == updates
    rank0, rank1 = torch.load(run / "rank0.pt"), torch.load(run / "rank1.pt")
    assert sorted(rank0) == sorted(saved["state"]["players"])
    # The processes drew different batches and noise: only averaged gradients keep them equal.
    for player, params in rank0.items():
        for name, tensor in params.items():
            torch.testing.assert_close(tensor, rank1[player][name], rtol=0, atol=1e-6)
