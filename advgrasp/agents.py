"""The grasping robot and the learned adversary: acting, and the losses that train them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from advgrasp.buffer import ReplayBuffer
from advgrasp.policy import (
    ANGLES,
    GRASP_NETS,
    STRIDE,
    SYMMETRIES,
    AdversaryNet,
    augment,
    candidate_mask,
    cells_to_original,
    pose_features,
    symmetric_views,
    to_original,
    to_tensor,
)
from envs.camera import TopDownCamera
from envs.errors import ConfigError, InvalidActionError
from envs.perturbation import Perturbation
from gan_core.errors import CheckpointError

POLICY_FORMAT = "advgrasp.grasp_policy"


FINE_SHIFTS = [(down, right) for down in range(STRIDE) for right in range(STRIDE)]
"""Pixel shifts of the image in the fine search: each moves the grid's cell centres by that
much, so together they reach every pixel corner."""
HALF_TURN_VIEWS = [(flip, turns) for flip in (False, True) for turns in (0, 2)]
"""The fine search's views: mirror or not, half turn or not; 4 of the 8 symmetries at half their
cost (for the rotating network a quarter turn of the image is one of its own turns)."""


@dataclass
class Grasp:
    """A chosen grasp: cell of the grid, angle bin, world pose and predicted success (after
    `GraspPolicy.refine`: the cell that holds its point and the nearest bin to its angle)."""

    cell: int
    angle: int
    x: float
    y: float
    theta: float
    predicted: float


class GraspPolicy:
    """The grasp network with what it needs to turn an RGB-D image into a world grasp.

    Args:
        image_size: side of the RGB-D observation in pixels.
        workspace_side_m: side of the square workspace the image covers.
        depth_range_m: the height the depth channel's 255 stands for.
        width: channels of the network's first layer.
        device: torch device.
        net: the network kind, "angles" (`GraspNet`) or "rotating" (`RotatingGraspNet`).
    """

    def __init__(self, image_size: int = 64, workspace_side_m: float = 0.30,
                 depth_range_m: float = 0.15, width: int = 32, device="cpu",
                 net: str = "angles"):
        self.image_size, self.grid = image_size, image_size // 4
        self.workspace_side_m, self.depth_range_m, self.width = (workspace_side_m,
                                                                 depth_range_m, width)
        if net not in GRASP_NETS:
            raise ConfigError(f"grasp network {net!r}: use one of {sorted(GRASP_NETS)}")
        self.kind = net
        self.camera = TopDownCamera(side_m=workspace_side_m, size_px=image_size,
                                    depth_range_m=depth_range_m)
        self.device = torch.device(device)
        self.net = GRASP_NETS[net](4, width).to(self.device)

    def check_observation(self, observation) -> np.ndarray:
        """`observation` as an (H, W, 4) uint8 array, or an error naming what is wrong."""
        observation = np.asarray(observation)
        expected = (self.image_size, self.image_size, 4)
        if observation.ndim != 3 or observation.shape[2] != 4:
            raise InvalidActionError(
                f"observation shape {observation.shape} is not one (H, W, 4) RGB-D image; make "
                "the world or environment with obs_mode='rgbd' and pass one image, channels last")
        if observation.shape != expected:
            raise InvalidActionError(
                f"observation size {observation.shape[:2]} does not match the policy's "
                f"{expected[:2]}; render at image_size={self.image_size}, the size it was "
                "trained at")
        if observation.dtype != np.uint8:
            raise InvalidActionError(
                f"observation dtype {observation.dtype} is not uint8; pass the image as the "
                "simulator renders it (0-255 colours, depth channel 0-255 over depth_range_m)")
        return observation

    @torch.no_grad()
    def scores(self, observation: np.ndarray, symmetric: bool = False
               ) -> tuple[np.ndarray, np.ndarray]:
        """Success probabilities (18, G, G) and the on-object candidate mask (G, G).

        Args:
            observation: (H, W, 4) RGB-D uint8.
            symmetric: average the probabilities over the image's 8 symmetries (quarter turns
                and mirror images, each mapped back to this image's cells and angles), in one
                batched forward pass. The network was trained on all 8, so this only removes
                noise; it costs 8 images' compute instead of one.
        """
        observation = self.check_observation(observation)
        self.net.eval()
        mask = candidate_mask(observation[:, :, 3], self.depth_range_m)
        if not symmetric:
            logits = self.net(to_tensor(observation, self.device))[0]
            return torch.sigmoid(logits).cpu().numpy(), mask
        views = torch.sigmoid(self.net(to_tensor(symmetric_views(observation), self.device)))
        maps = [to_original(view, flip, turns)
                for view, (flip, turns) in zip(views.cpu().numpy(), SYMMETRIES, strict=True)]
        return np.mean(maps, axis=0), mask

    def choose(self, observation: np.ndarray, rng: np.random.Generator | None = None,
               top_k: int = 1, epsilon: float = 0.0, symmetric: bool = False) -> Grasp:
        """Pick a grasp: with chance `epsilon` a random on-object one, else uniformly among
        the `top_k` best-scored on-object (cell, angle) pairs (`symmetric`: see `scores`)."""
        probs, mask = self.scores(observation, symmetric)
        flat = probs.transpose(1, 2, 0).reshape(-1, ANGLES)  # (cells, angles)
        allowed = np.repeat(mask.reshape(-1), ANGLES)
        scores = np.where(allowed, flat.reshape(-1), -np.inf)
        candidates = np.flatnonzero(allowed)
        if rng is not None and rng.random() < epsilon:
            pick = int(rng.choice(candidates))
        else:
            k = max(1, min(top_k, candidates.size))
            best = np.argpartition(-scores, k - 1)[:k]
            pick = int(best[rng.integers(k)]) if rng is not None and k > 1 else \
                int(np.argmax(scores))
        return self._grasp(pick, float(flat.reshape(-1)[pick]))

    def _grasp(self, pick: int, predicted: float) -> Grasp:
        cell, angle = divmod(pick, ANGLES)
        row, col = divmod(cell, self.grid)
        x, y = self.camera.pixel_to_world(STRIDE * row + 1.5, STRIDE * col + 1.5)
        return Grasp(cell, angle, float(x), float(y), angle * np.pi / ANGLES, predicted)

    @torch.no_grad()
    def refine(self, observation: np.ndarray, grasp: Grasp) -> Grasp:
        """Search the grasp point at pixel resolution, and the angle between bins where the
        network can score it, around a grid pick's angle.

        The grid's cells are 4 px (1.9 cm) apart and its angles 10 degrees, coarser than the
        tolerance of a grasp that survives every push (README.md, "Fine search"). The image is
        shifted by 0 to 3 px down and right, 16 ways, so the cell centres reach every pixel
        corner; each shift is scored at the grid pick's angle (the rotating network also 5
        degrees either side, `FINE_ANGLES`) in 4 views (mirror, half turn) averaged, and the
        best on-object position and angle wins, wherever it is in the image.

        Args:
            observation: (H, W, 4) RGB-D uint8.
            grasp: the grid pick, usually `choose(observation, symmetric=True)`.
        """
        observation = self.check_observation(observation)
        size, offsets = self.image_size, self.net.FINE_ANGLES
        shifted = [np.pad(observation, ((down, 0), (right, 0), (0, 0)), mode="edge")[:size, :size]
                   for down, right in FINE_SHIFTS]
        # Per shift, per angle offset, the 4 views; a mirror negates the angle it is scored at.
        views = np.concatenate([np.tile(symmetric_views(image, HALF_TURN_VIEWS),
                                        (len(offsets), 1, 1, 1)) for image in shifted])
        angles = [(-angle) % ANGLES if flip else angle
                  for angle in ((grasp.angle + offset) % ANGLES for offset in offsets)
                  for flip, _ in HALF_TURN_VIEWS] * len(shifted)
        self.net.eval()
        logits = self.net.maps_at(to_tensor(views, self.device),
                                  torch.tensor(angles, dtype=torch.float32, device=self.device))
        probs = torch.sigmoid(logits).cpu().numpy().reshape(
            len(shifted), len(offsets), len(HALF_TURN_VIEWS), self.grid, self.grid)
        back = [cells_to_original(probs[:, :, v], flip, turns)
                for v, (flip, turns) in enumerate(HALF_TURN_VIEWS)]
        masks = np.stack([candidate_mask(image[:, :, 3], self.depth_range_m) for image in shifted])
        # Shifted cells of the first row or column may sit beyond the image's edge: not there.
        centres = STRIDE * np.arange(self.grid) + 1.5
        for mask, (down, right) in zip(masks, FINE_SHIFTS, strict=True):
            mask &= (centres - down >= 0)[:, None] & (centres - right >= 0)[None, :]
        mean = np.where(masks[:, None], np.mean(back, axis=0), -1.0)
        shift, offset, row, col = np.unravel_index(np.argmax(mean), mean.shape)
        down, right = FINE_SHIFTS[shift]
        x, y = self.camera.pixel_to_world(STRIDE * row + 1.5 - down, STRIDE * col + 1.5 - right)
        angle = (grasp.angle + offsets[offset]) % ANGLES
        # The grid cell whose 4 x 4 block holds the point (the one below and right of a corner
        # it shares), and the nearest angle bin: what the grid would call this grasp.
        near_row, near_col = ((STRIDE * i + 2 - d) // STRIDE
                              for i, d in ((row, down), (col, right)))
        return Grasp(int(near_row * self.grid + near_col), int(round(angle)) % ANGLES, float(x),
                     float(y), float(angle * np.pi / ANGLES), float(mean[shift, offset, row, col]))

    def predict(self, observation: np.ndarray, symmetric: bool = True, fine: bool = True
                ) -> tuple[float, float, float]:
        """The best grasp (x, y, theta) in metres and radians for an (H, W, 4) RGB-D image.

        By default the scores are averaged over the image's 8 symmetries (see `scores`), and
        the grid's best pick is then refined to pixel resolution (see `refine`; the full
        preset's results in README.md compare both with one view and with the grid alone).
        Training's own exploratory choices use one view and the grid.
        """
        grasp = self.choose(observation, symmetric=symmetric)  # checks the observation
        if fine:
            grasp = self.refine(observation, grasp)
        return grasp.x, grasp.y, grasp.theta

    def loss(self, buffer: ReplayBuffer, batch_size: int, rng: np.random.Generator):
        """Binary cross-entropy of the executed (cell, angle) logits against r = R_R - a R_H."""
        batch = buffer.sample(batch_size, rng)
        images, cells, angles = augment(batch["image"], batch["cell"], batch["angle"],
                                        self.grid, rng)
        self.net.train()
        rows, cols = np.divmod(cells, self.grid)
        chosen = self.net.chosen(to_tensor(images, self.device),
                                 *(torch.from_numpy(a).long().to(self.device)
                                   for a in (angles, rows, cols)))
        target = torch.from_numpy(batch["target"]).to(self.device)
        loss = F.binary_cross_entropy_with_logits(chosen, target)
        return loss, {"bce": loss.detach(), "target_mean": target.mean()}

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        torch.save({"format": POLICY_FORMAT, "version": 1, "image_size": self.image_size,
                    "workspace_side_m": self.workspace_side_m,
                    "depth_range_m": self.depth_range_m, "width": self.width, "net": self.kind,
                    "state_dict": self.net.state_dict()}, path)
        return path

    @classmethod
    def load(cls, path: str | Path, device="cpu") -> GraspPolicy:
        """Load a policy saved by `save` (a run folder's `policy.pt`)."""
        path = Path(path)
        if path.is_dir():
            path = path / "policy.pt"
        if not path.is_file():
            where = (f"the run folder {path.parent} has no policy.pt (its training has not "
                     "finished a checkpoint yet, or it is a folder of runs)"
                     if path.parent.is_dir() and path.name == "policy.pt" else "file not found")
            raise CheckpointError(f"cannot read grasp policy {path}: {where}; pass a run "
                                  "folder that holds policy.pt, or the file itself")
        try:
            saved = torch.load(path, map_location=device, weights_only=True)
        except Exception as err:
            raise CheckpointError(f"cannot read grasp policy {path}: {err.__class__.__name__}; "
                                  "the file is corrupt or not a policy") from None
        if not isinstance(saved, dict) or saved.get("format") != POLICY_FORMAT:
            raise CheckpointError(f"{path} is not an advgrasp grasp policy (no "
                                  f"{POLICY_FORMAT!r} header)")
        kind = saved.get("net", "angles")  # files from before the rotating network: angles
        if kind not in GRASP_NETS:
            raise CheckpointError(f"{path} holds a grasp network of unknown kind {kind!r}; "
                                  f"this version reads {sorted(GRASP_NETS)}: upgrade advgrasp "
                                  "or use a policy.pt that this version's training wrote")
        policy = cls(saved["image_size"], saved["workspace_side_m"], saved["depth_range_m"],
                     saved["width"], device, kind)
        try:
            policy.net.load_state_dict(saved["state_dict"])
        except RuntimeError as err:
            raise CheckpointError(
                f"{path}: its weights do not fit a {kind!r} grasp network of width "
                f"{saved['width']} ({str(err).splitlines()[-1].strip()}); the file is damaged or "
                "its header was edited: use the policy.pt that training wrote") from None
        return policy


class LearnedAdversary:
    """An adversary network that pushes where it predicts a drop, with some exploration.

    Follows the `envs.adversary` protocol: `reset(rng)` and `act(held_state)`.
    """

    def __init__(self, pushes: list[Perturbation], image_size: int = 32, epsilon: float = 0.0,
                 device="cpu"):
        self.pushes, self.epsilon, self.image_size = pushes, epsilon, image_size
        self.device = torch.device(device)
        self.net = AdversaryNet(len(pushes)).to(self.device)
        self.rng = np.random.default_rng()
        self.last_index: int | None = None

    def reset(self, rng: np.random.Generator) -> None:
        self.rng = rng

    @torch.no_grad()
    def drop_probabilities(self, held_state: dict) -> np.ndarray:
        self.net.eval()
        pose = torch.from_numpy(pose_features(held_state["pose"].theta)).to(self.device)
        logits = self.net(to_tensor(held_state["image"], self.device), pose)[0]
        return torch.sigmoid(logits).cpu().numpy()

    def act(self, held_state: dict) -> Perturbation:
        if self.epsilon and self.rng.random() < self.epsilon:
            self.last_index = int(self.rng.integers(len(self.pushes)))
        else:
            self.last_index = int(np.argmax(self.drop_probabilities(held_state)))
        return self.pushes[self.last_index]

    def loss(self, buffer: ReplayBuffer, batch_size: int, rng: np.random.Generator):
        """Binary cross-entropy of the executed push's logit against R_H."""
        batch = buffer.sample(batch_size, rng)
        self.net.train()
        pose = torch.from_numpy(pose_features(batch["theta"])).to(self.device)
        logits = self.net(to_tensor(batch["image"], self.device), pose)
        chosen = logits[torch.arange(len(logits)), torch.from_numpy(batch["push"]).long()]
        target = torch.from_numpy(batch["dropped"]).to(self.device)
        loss = F.binary_cross_entropy_with_logits(chosen, target)
        return loss, {"bce": loss.detach(), "drop_rate": target.mean()}


class OracleSearch:
    """The oracle's verdict for training, reached with few pushes.

    Every allowed push is tried from the held state (and undone), the likeliest to drop first in
    the learned adversary's ranking, until one drops the object: R_H is 1 when some push drops
    it, the verdict of the evaluation's oracle (`envs.adversary.OracleAdversary`), which always
    tries all of them. (Only up to the order of the tries: `GraspWorld.trial_push` restores the
    held state as PyBullet can, not bit for bit, so a borderline grasp can end either way; 4 of
    a trained policy's 94 lifts did, `benchmarks/bench_oracle_search.py`.) Each try is a label
    for the learned adversary, so it learns as the grasper does and its ranking cuts the search
    short: the first try drops most grasps that can be dropped.

    Args:
        world: the `GraspWorld` whose held object is pushed.
        learned: the learned adversary that ranks the pushes.
    """

    def __init__(self, world, learned: LearnedAdversary):
        self.world, self.learned = world, learned

    def reset(self, rng: np.random.Generator) -> None:
        self.learned.reset(rng)

    def search(self, held_state: dict) -> tuple[Perturbation, float, list[tuple[int, float]]]:
        """(the last push tried, R_H, every try as (push index, dropped) in order)."""
        order = np.argsort(-self.learned.drop_probabilities(held_state), kind="stable")
        tries = []
        for index in order:
            dropped = float(self.world.trial_push(self.learned.pushes[index]).dropped)
            tries.append((int(index), dropped))
            if dropped:
                break
        return self.learned.pushes[tries[-1][0]], tries[-1][1], tries

    def act(self, held_state: dict) -> Perturbation:
        return self.search(held_state)[0]
