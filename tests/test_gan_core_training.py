"""gan_core.training: alternating updates, clipping, EMA, exact resume, checkpoints, logs."""

import copy
import csv
import random
import struct
import zipfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_core import (
    CheckpointError,
    ConfigError,
    DeviceError,
    LossFnError,
    NonFiniteLossError,
    Player,
    TwoPlayerTrainer,
    UnknownPlayerError,
    choose_device,
    set_seed,
)


def linear_player(name, n_in=3, n_out=2, lr=1e-2, seed=0, optimizer="adam", **options):
    torch.manual_seed(seed)
    model = nn.Linear(n_in, n_out)
    opt = (torch.optim.Adam(model.parameters(), lr=lr) if optimizer == "adam"
           else torch.optim.SGD(model.parameters(), lr=lr))
    return Player(name, model, opt, **options)


def gan_players(seed=0):
    """A tiny discriminator (2 -> 1) and generator (3 -> 2), discriminator first."""
    return [linear_player("D", 2, 1, seed=seed, grad_clip_norm=1.0, ema_decay=0.9),
            linear_player("G", 3, 2, seed=seed + 1, ema_decay=0.8)]


def gan_losses(trainer, generator):
    """Loss functions that draw from torch, NumPy, Python and a caller-owned NumPy Generator."""
    d, g = trainer.player("D").model, trainer.player("G").model

    def d_loss():
        z = torch.randn(8, 3) + float(np.random.rand()) + random.random()
        real = torch.randn(8, 2) + torch.from_numpy(generator.normal(size=(8, 2))).float()
        real_term = F.softplus(-d(real)).mean()
        fake_term = F.softplus(d(g(z).detach())).mean()
        return real_term + fake_term, {"real": real_term, "fake": fake_term}

    def g_loss():
        z = torch.randn(8, 3) * float(np.random.uniform(0.5, 1.5))
        return F.softplus(-d(g(z))).mean(), {}

    return {"D": d_loss, "G": g_loss}


def snapshot(trainer):
    return {p.name: [t.detach().clone() for t in p.model.state_dict().values()]
            for p in trainer.players}


def test_schedule_runs_players_in_order_with_n_critic():
    calls = []
    trainer = TwoPlayerTrainer(gan_players(), schedule={"D": 5}, device="cpu")
    assert trainer.schedule == {"D": 5, "G": 1}

    def recorder(name):
        def loss_fn():
            calls.append(name)
            model = trainer.player(name).model
            loss = model(torch.ones(1, model.in_features)).sum()
            return loss, {"count": float(len(calls))}
        return loss_fn

    losses = {name: recorder(name) for name in ("D", "G")}
    metrics = trainer.round(losses)
    trainer.round(losses)
    assert calls == (["D"] * 5 + ["G"]) * 2
    assert trainer.step == 2 and trainer.updates == {"D": 10, "G": 2}
    assert metrics["D/count"] == pytest.approx(3.0)  # mean of calls 1..5
    assert metrics["G/count"] == 6.0
    assert set(metrics) == {"D/count", "D/loss", "D/grad_norm", "G/count", "G/loss"}

    only_d = trainer.round({"D": losses["D"]})
    assert calls[-5:] == ["D"] * 5 and len(calls) == 17
    assert not any(key.startswith("G/") for key in only_d) and trainer.step == 3
    with pytest.raises(UnknownPlayerError, match="'critic'"):
        trainer.round({"critic": losses["D"]})


def test_updating_one_player_leaves_the_other_untouched():
    trainer = TwoPlayerTrainer(gan_players(), device="cpu")
    d, g = trainer.player("D").model, trainer.player("G").model

    # The discriminator loss here does not even detach the fakes: G's gradients appear,
    # but only D's optimizer steps.
    before = snapshot(trainer)
    trainer.update("D", lambda: (d(g(torch.randn(4, 3))).mean(), {}))
    after = snapshot(trainer)
    assert all(torch.equal(a, b) for a, b in zip(before["G"], after["G"], strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(before["D"], after["D"], strict=True))

    trainer.update("G", lambda: (-d(g(torch.randn(4, 3))).mean(), {}))
    final = snapshot(trainer)
    assert all(torch.equal(a, b) for a, b in zip(after["D"], final["D"], strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(after["G"], final["G"], strict=True))


def run_rounds(trainer, generator, rounds):
    losses = gan_losses(trainer, generator)
    for _ in range(rounds):
        trainer.round(losses)


def test_exact_resume_is_bit_identical(tmp_path):
    set_seed(0)
    straight = TwoPlayerTrainer(gan_players(), schedule={"D": 2}, device="cpu")
    generator = np.random.default_rng(7)
    run_rounds(straight, generator, 5)
    extra = {"rng": generator.bit_generator.state, "buffer": np.arange(6.0), "note": "round 5"}
    path = straight.save_checkpoint(tmp_path / "ckpt" / "run.pt", extra=extra)
    optimizer_at_5 = copy.deepcopy(straight.player("D").optimizer.state_dict())
    run_rounds(straight, generator, 5)

    # A fresh trainer, other initial weights, other global seeds and a fresh Generator.
    set_seed(123)
    resumed = TwoPlayerTrainer(gan_players(seed=50), schedule={"D": 1}, device="cpu")
    loaded = resumed.load_checkpoint(path)
    assert loaded["note"] == "round 5" and np.array_equal(loaded["buffer"], np.arange(6.0))
    assert resumed.step == 5 and resumed.schedule == {"D": 2, "G": 1}
    state = resumed.player("D").optimizer.state_dict()["state"]
    for index, moments in optimizer_at_5["state"].items():
        assert torch.equal(state[index]["exp_avg"], moments["exp_avg"])
        assert torch.equal(state[index]["exp_avg_sq"], moments["exp_avg_sq"])
        assert torch.equal(state[index]["step"], moments["step"])
    generator = np.random.default_rng()
    generator.bit_generator.state = loaded["rng"]
    run_rounds(resumed, generator, 5)

    assert resumed.step == straight.step == 10
    for a, b in zip(straight.players, resumed.players, strict=True):
        for key, tensor in a.model.state_dict().items():
            assert torch.equal(tensor, b.model.state_dict()[key]), f"{a.name}.{key} differs"
        for key, tensor in a.ema_model.state_dict().items():
            assert torch.equal(tensor, b.ema_model.state_dict()[key]), f"EMA {a.name}.{key}"
    assert not list(path.parent.glob(".*.tmp")), "the atomic write left a temporary file"


def test_nan_loss_raises_and_leaves_weights_unchanged():
    trainer = TwoPlayerTrainer(gan_players(), device="cpu")
    g = trainer.player("G").model
    before = snapshot(trainer)

    def bad_loss():
        adv = g(torch.ones(2, 3)).sum() * float("nan")
        return adv + 1.0, {"bce": 1.0, "adv": adv}

    with pytest.raises(NonFiniteLossError, match=r"player 'G': loss term 'adv' is nan") as err:
        trainer.update("G", bad_loss)
    assert (err.value.player, err.value.term) == ("G", "adv")
    assert isinstance(err.value, FloatingPointError)
    assert all(torch.equal(a, b) for a, b in zip(before["G"], snapshot(trainer)["G"],
                                                 strict=True))
    assert trainer.player("G").optimizer.state_dict()["state"] == {}
    assert trainer.updates["G"] == 0

    with pytest.raises(NonFiniteLossError, match=r"loss term 'loss' is inf"):
        trainer.update("G", lambda: g(torch.ones(1, 3)).sum() * float("inf"))

    # Finite loss, infinite gradient (d sqrt(x)/dx at 0): caught by the clipping norm.
    d = trainer.player("D").model
    with pytest.raises(NonFiniteLossError, match=r"player 'D': loss term 'grad_norm' is inf"):
        trainer.update("D", lambda: torch.sqrt(d.bias - d.bias.detach()).sum())
    assert all(torch.equal(a, b) for a, b in zip(before["D"], snapshot(trainer)["D"],
                                                 strict=True))


def test_grad_clipping_limits_the_step():
    # SGD with lr=1 moves the weights by exactly minus the (clipped) gradient.
    player = linear_player("A", 4, 1, lr=1.0, optimizer="sgd", grad_clip_norm=0.5)
    trainer = TwoPlayerTrainer([player], device="cpu")
    start = [p.detach().clone() for p in player.model.parameters()]
    metrics = trainer.update("A", lambda: player.model(torch.full((1, 4), 10.0)).sum())

    # The gradient is 10 on each of the 4 weights and 1 on the bias.
    norm = float(np.hypot(20.0, 1.0))
    assert metrics["grad_norm"] == pytest.approx(norm)
    step = torch.cat([(p.detach() - s).flatten()
                      for p, s in zip(player.model.parameters(), start, strict=True)])
    assert float(torch.linalg.vector_norm(step)) == pytest.approx(0.5, rel=1e-5)
    expected = -torch.tensor([10.0, 10.0, 10.0, 10.0, 1.0]) * 0.5 / norm
    assert torch.allclose(step, expected, atol=1e-6)

    # Below the limit the gradient passes unchanged.
    start = [p.detach().clone() for p in player.model.parameters()]
    metrics = trainer.update("A", lambda: player.model(torch.full((1, 4), 0.01)).sum() * 0.1)
    assert metrics["grad_norm"] < 0.5
    assert torch.allclose(player.model.bias.detach() - start[1], torch.tensor([-0.1]))


def test_ema_is_the_decay_weighted_average():
    player = linear_player("G", 3, 2, lr=0.1, optimizer="sgd", ema_decay=0.9)
    trainer = TwoPlayerTrainer([player], device="cpu")
    assert not any(p.requires_grad for p in player.ema_model.parameters())
    expected = [p.detach().clone() for p in player.model.parameters()]
    for i in range(4):
        trainer.update("G", lambda i=i: (player.model(torch.full((2, 3), i + 1.0)) ** 2).mean())
        live = list(player.model.parameters())
        expected = [0.9 * e + 0.1 * p.detach() for e, p in zip(expected, live, strict=True)]
    for e, p in zip(expected, player.ema_model.parameters(), strict=True):
        assert torch.allclose(p, e, atol=1e-6)
    assert not torch.allclose(expected[0], player.model.weight)


def flip_first_tensor_byte(path):
    """The file's bytes with one bit flipped inside the first tensor record's data."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        record = next(i for i in archive.infolist() if "/data/" in i.filename)
    name_length, extra_length = struct.unpack("<HH", data[record.header_offset + 26:
                                                          record.header_offset + 30])
    data[record.header_offset + 30 + name_length + extra_length] ^= 0x01
    return bytes(data)


@pytest.fixture
def saved(tmp_path):
    trainer = TwoPlayerTrainer(gan_players(), device="cpu")
    return trainer, trainer.save_checkpoint(tmp_path / "good.pt", extra={"a": 1})


def test_checkpoint_errors_name_the_file(saved, tmp_path):
    trainer, good = saved
    data = good.read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[: len(data) // 2])
    foreign = tmp_path / "foreign.pt"
    torch.save({"a": 1}, foreign)
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint\n")
    flipped = tmp_path / "flipped.pt"
    flipped.write_bytes(flip_first_tensor_byte(good))
    cases = [(tmp_path / "missing.pt", "not found"),
             (truncated, "cannot read checkpoint .*it may be truncated"),
             (foreign, "not a gan_core checkpoint"),
             (text, "cannot read checkpoint"),
             (flipped, "cannot read checkpoint .*fails its CRC check")]
    for path, pattern in cases:
        with pytest.raises(CheckpointError, match=pattern) as err:
            trainer.load_checkpoint(path)
        assert str(path) in str(err.value)

    others = TwoPlayerTrainer([linear_player("grasper"), linear_player("adversary")],
                              device="cpu")
    with pytest.raises(CheckpointError, match=r"has players \['D', 'G'\], this trainer has "
                                              r"\['grasper', 'adversary'\]") as err:
        others.load_checkpoint(good)
    assert str(good) in str(err.value)

    payload = torch.load(good, weights_only=True)
    payload["version"] = 99
    newer = tmp_path / "newer.pt"
    torch.save(payload, newer)
    with pytest.raises(CheckpointError, match="format version 99, newer"):
        trainer.load_checkpoint(newer)

    wider = TwoPlayerTrainer([linear_player("D", 2, 4), linear_player("G", 3, 2)], device="cpu")
    with pytest.raises(CheckpointError, match="does not fit this trainer"):
        wider.load_checkpoint(good)


def test_metrics_csv_and_tensorboard(tmp_path):
    trainer = TwoPlayerTrainer(gan_players(), device="cpu", log_dir=tmp_path / "run")
    trainer.log({"D/loss": 0.5})
    trainer.log({"D/loss": torch.tensor(0.25), "success": 0.75}, step=10)
    trainer.save_checkpoint(tmp_path / "run" / "ckpt.pt")
    trainer.log({"D/loss": 0.1}, step=11)
    with pytest.raises(ConfigError, match="'step' clashes"):
        trainer.log({"step": 3})
    trainer.close()
    trainer.close()

    with open(tmp_path / "run" / "metrics.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["step", "D/loss", "success"], ["0", "0.5", ""], ["10", "0.25", "0.75"],
                    ["11", "0.1", ""]]
    assert list((tmp_path / "run").glob("events.out.tfevents.*"))

    # Resuming from the checkpoint drops the row logged after it, then appends.
    resumed = TwoPlayerTrainer(gan_players(), device="cpu", log_dir=tmp_path / "run")
    resumed.load_checkpoint(tmp_path / "run" / "ckpt.pt")
    resumed.log({"success": 1.0}, step=11)
    resumed.close()
    with open(tmp_path / "run" / "metrics.csv", newline="") as handle:
        assert list(csv.reader(handle))[-2:] == [["10", "0.25", "0.75"], ["11", "", "1.0"]]


def test_no_log_dir_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    trainer = TwoPlayerTrainer(gan_players(), device="cpu")
    trainer.log({"x": 1.0})
    trainer.close()
    assert list(tmp_path.iterdir()) == []


def test_progress_bar_counts_and_shows_postfix():
    trainer = TwoPlayerTrainer(gan_players(), device="cpu", progress=True, progress_total=10,
                               progress_unit="attempt")
    trainer.progress_update(3, success="0.50")
    assert trainer.progress_bar.n == 3 and trainer.progress_bar.unit == "attempt"
    assert "success=0.50" in str(trainer.progress_bar)
    trainer.close()


def test_choose_device():
    assert choose_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert choose_device("cpu") == torch.device("cpu")
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        choose_device("tpu")
    if not torch.cuda.is_available():
        assert choose_device("auto") == torch.device("cpu")
        with pytest.raises(DeviceError, match="'cuda' requested but CUDA is not available.*"
                                              "device='cpu'"):
            choose_device("cuda")
        with pytest.raises(DeviceError):
            TwoPlayerTrainer(gan_players(), device="cuda")


def test_mixed_precision_is_off_on_cpu():
    trainer = TwoPlayerTrainer(gan_players(), device="cpu", mixed_precision=True)
    assert trainer.amp is False
    seen = []

    def loss_fn():
        out = trainer.player("G").model(torch.randn(2, 3))
        seen.append((out.dtype, torch.is_autocast_enabled("cpu")))
        return out.mean()

    trainer.update("G", loss_fn)
    assert seen == [(torch.float32, False)]


def test_bad_settings_name_the_value():
    with pytest.raises(ConfigError, match="ema_decay 1.0"):
        linear_player("G", ema_decay=1.0)
    with pytest.raises(ConfigError, match="grad_clip_norm -1"):
        linear_player("G", grad_clip_norm=-1)
    with pytest.raises(ConfigError, match="'a/b'"):
        linear_player("a/b")
    with pytest.raises(ConfigError, match=r"unique"):
        TwoPlayerTrainer([linear_player("G"), linear_player("G")], device="cpu")
    with pytest.raises(ConfigError, match=r"unknown players \['C'\]"):
        TwoPlayerTrainer(gan_players(), schedule={"C": 2}, device="cpu")
    with pytest.raises(ConfigError, match=r"schedule\['D'\] = -1"):
        TwoPlayerTrainer(gan_players(), schedule={"D": -1}, device="cpu")
    with pytest.raises(ConfigError, match="seed -1"):
        set_seed(-1)

    trainer = TwoPlayerTrainer(gan_players(), device="cpu")
    g = trainer.player("G").model
    with pytest.raises(LossFnError, match="returned list"):
        trainer.update("G", lambda: [g(torch.ones(1, 3)).sum()])
    with pytest.raises(LossFnError, match=r"shape \(2, 2\)"):
        trainer.update("G", lambda: g(torch.ones(2, 3)))
    with pytest.raises(LossFnError, match="does not require grad"):
        trainer.update("G", lambda: g(torch.ones(1, 3)).sum().detach())
    with pytest.raises(UnknownPlayerError, match=r"no player 'X'; players are \['D', 'G'\]"):
        trainer.player("X")


def test_set_seed_repeats_every_generator():
    draws = []
    for _ in range(2):
        set_seed(5)
        draws.append((random.random(), np.random.rand(), torch.rand(1).item()))
    assert draws[0] == draws[1]


def test_after_step_runs_right_after_each_step_of_its_player_only():
    calls = []
    d_player = linear_player("D", 2, 1, lr=1.0, optimizer="sgd")
    d_player.after_step = lambda: (calls.append(d_player.model.weight.detach().clone()),
                                   d_player.model.weight.data.clamp_(-0.01, 0.01))
    trainer = TwoPlayerTrainer([d_player, linear_player("G", 3, 2)], {"D": 3}, device="cpu")
    x = torch.randn(8, 2)
    trainer.round({"D": lambda: d_player.model(x).pow(2).mean() + d_player.model.weight.sum(),
                   "G": lambda: trainer.player("G").model(torch.randn(4, 3)).pow(2).mean()})
    assert len(calls) == 3
    assert calls[0].abs().max().item() > 0.01  # the step moved past the bound, the hook clamped
    assert d_player.model.weight.abs().max().item() <= 0.01
    with pytest.raises(ConfigError, match="after_step 3 must be callable"):
        linear_player("E", after_step=3)


def test_data_parallel_needs_a_process_group():
    with pytest.raises(ConfigError, match="launch with torchrun"):
        TwoPlayerTrainer(gan_players(), device="cpu", data_parallel=True)


def test_linear_decay_scales_each_rounds_learning_rate_and_survives_a_resume(tmp_path):
    from gan_core.training import linear_decay

    scale = linear_decay(8)
    assert [scale(s) for s in range(8)] == [1, 1, 1, 1, 1.0, 0.75, 0.5, 0.25]

    def run(rounds, resume_from=None):
        # SGD on the loss sum(w): every step moves the weights by exactly -lr.
        player = linear_player("A", 1, 1, lr=0.1, optimizer="sgd")
        trainer = TwoPlayerTrainer([player], device="cpu", lr_scale=linear_decay(8))
        if resume_from:
            trainer.load_checkpoint(resume_from)
        moves = []
        while trainer.step < rounds:
            before = player.model.bias.item()
            trainer.round({"A": lambda: player.model.bias.sum()})
            moves.append(before - player.model.bias.item())
        return trainer, moves

    trainer, moves = run(8)
    assert moves == pytest.approx([0.1] * 5 + [0.075, 0.05, 0.025])
    half, _ = run(6)
    half.save_checkpoint(tmp_path / "half.pt")
    _, rest = run(8, resume_from=tmp_path / "half.pt")
    assert rest == pytest.approx([0.05, 0.025])
