"""The grasp network, the adversary network, and the policy that turns scores into grasps.

Grasp network (after Pinto and Gupta 2016, Duan et al. 2019): a small CNN scores 18 grasp angles
for image patches around candidate grasp points. Here it is fully convolutional, so one forward
pass scores every patch of a (4, 64, 64) image at once: the output is (18, 16, 16) logits, one
per angle for each cell of a 16 x 16 grid over the workspace (the environment's discrete grid;
each output's receptive field is a 25 px = 11.7 cm patch around the cell). Candidates whose cell
shows only tray are skipped.

`RotatingGraspNet` (after Zeng et al. 2018) scores the same (18, 16, 16) pairs with one output:
the image is turned 18 ways so that each angle's closing direction runs along the rows, and the
score maps are turned back (`TrainConfig.grasp_net`).

Adversary network (after Pinto et al. 2017): scores every allowed push for the held state (the
side view of the held object and the grasp angle) with the probability that it drops the object.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ANGLES = 18
STRIDE = 4
"""Input pixels per output cell: a 64 px image gives a 16 x 16 grid."""
MIN_OBJECT_HEIGHT_M = 0.004


def _body(in_channels: int, width: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, width, 5, stride=2, padding=2), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.ReLU(),
        nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.ReLU(),
        nn.Conv2d(2 * width, outputs, 1),
    )


def _grid_layers_at(body: nn.Sequential, features: torch.Tensor, rows: torch.Tensor,
                    cols: torch.Tensor, count: int) -> torch.Tensor:
    """The body's last layers (3 x 3, 3 x 3, 1 x 1) at grid cells rows .. rows + count - 1 and
    cols .. cols + count - 1 of each image: (B, outputs, count, count), equal to running them
    on the whole map.

    They run on the (count + 4)-cell square of `features` (the output of `body[:4]`) that those
    cells see, cut from the features padded with zeros as the layers pad them; the middle
    layer's outputs that fall off the grid are zeroed as the last 3 x 3 layer's padding would
    be. `rows` and `cols` may run from -1 to the grid's last cell.
    """
    conv3, conv4, head = body[4], body[6], body[8]
    size = features.shape[-1]
    padded = F.pad(features, (3, 3, 3, 3))
    span = torch.arange(count + 4, device=features.device)
    batch = torch.arange(len(features), device=features.device)[:, None, None]
    window = padded[batch, :, (rows[:, None] + 1 + span)[:, :, None],
                    (cols[:, None] + 1 + span)[:, None, :]].permute(0, 3, 1, 2)
    middle = F.relu(F.conv2d(window, conv3.weight, conv3.bias))  # cells rows - 1 .. + count
    near = span[:count + 2] - 1
    on_grid = [(axis[:, None] + near >= 0) & (axis[:, None] + near < size) for axis in (rows, cols)]
    middle = middle * (on_grid[0][:, :, None] & on_grid[1][:, None, :])[:, None].to(middle.dtype)
    return head(F.relu(F.conv2d(middle, conv4.weight, conv4.bias)))


class GraspNet(nn.Module):
    """Fully convolutional grasp scorer.

    Input: (B, C, H, W) float in [0, 1] (C = 4 for RGB-D). Output: (B, 18, H/4, W/4) logits of
    the probability that a grasp at that cell with angle k * pi / 18 lifts (and keeps) the object.
    """

    FINE_ANGLES = (0.0,)
    """Angle offsets, in bins, that the fine search (`GraspPolicy.refine`) tries around the
    grid's best angle: one output per whole bin, so none."""

    def __init__(self, in_channels: int = 4, width: int = 32):
        super().__init__()
        self.body = _body(in_channels, width, ANGLES)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images)

    def maps_at(self, images: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
        """(B, H/4, W/4) logits of one whole angle index per image."""
        return self.forward(images)[torch.arange(len(images), device=images.device),
                                    angles.long()]

    def chosen(self, images: torch.Tensor, angles: torch.Tensor, rows: torch.Tensor,
               cols: torch.Tensor) -> torch.Tensor:
        """(B,) logits of one (angle, row, col) per image, equal to `forward`'s there.

        Training needs one cell per image, so the two 3 x 3 layers at grid resolution (about
        70 % of the compute) run only on the 5 x 5 window of features that the cell's output
        sees: the window is cut from the features padded with zeros as those layers pad them,
        and the middle layer's outputs that fall outside the grid are zeroed as the last layer's
        padding would be.
        """
        logits = _grid_layers_at(self.body, self.body[:4](images), rows, cols, 1)
        return logits[torch.arange(len(images), device=images.device), angles, 0, 0]


class RotatingGraspNet(nn.Module):
    """Grasp scorer that turns the image instead of keeping one output per angle.

    After Zeng et al. (2018): for grasp angle k the image is turned so that the closing
    direction k * pi / 18 runs along the image's rows (left to right), and one network that
    scores horizontal-closing grasps sees it; its score map is turned back. Every attempt,
    whatever its angle, trains the same filters, so the network learns one "is the object
    narrow across here" detector instead of 18 separate ones. The image is padded by
    `PAD` pixels first, so that turning it keeps everything within 40 px of the image's centre
    (objects spawn within 6 cm, 13 px, of it). The corner cells, beyond that, fall outside the
    turned map at angles near 45 and 135 degrees; there they score a constant logit 0.

    Input and output as `GraspNet`: (B, C, H, W) -> (B, 18, H/4, W/4) logits.
    """

    PAD = 8
    FINE_ANGLES = (-0.5, 0.0, 0.5)
    """Angle offsets, in bins, that the fine search (`GraspPolicy.refine`) tries around the
    grid's best angle: any angle is one turn of the image, so also the 5 degrees either side."""

    def __init__(self, in_channels: int = 4, width: int = 32):
        super().__init__()
        self.body = _body(in_channels, width, 1)

    @staticmethod
    def _turns(angles: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """(N, 2, 2) matrices M (normalised x = column, y = row downwards) with M (1, 0) the
        pixel direction of angle index k's closing direction theta = k * pi / 18; the camera
        maps world x to columns and world y to rows upwards, so that direction is
        (cos theta, -sin theta)."""
        theta = angles.to(dtype) * (np.pi / ANGLES)
        c, s = torch.cos(theta), torch.sin(theta)
        return torch.stack([torch.stack([c, s], -1), torch.stack([-s, c], -1)], -2)

    @staticmethod
    def _resample(tensor: torch.Tensor, matrices: torch.Tensor) -> torch.Tensor:
        """out(p) = tensor(M p) for each image's M, about the image's centre (zeros outside)."""
        shift = torch.zeros(len(tensor), 2, 1, dtype=tensor.dtype, device=tensor.device)
        grid = F.affine_grid(torch.cat([matrices, shift], dim=2), list(tensor.shape),
                             align_corners=False)
        return F.grid_sample(tensor, grid, align_corners=False)

    def _turned(self, images: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
        """Pad each image and turn it for its angle index: (N, C, H + 2P, W + 2P)."""
        return self._resample(F.pad(images, (self.PAD,) * 4), self._turns(angles, images.dtype))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        b, c, h, w = images.shape
        angles = torch.arange(ANGLES, device=images.device).repeat(b)
        maps = self.maps_at(images.repeat_interleave(ANGLES, 0), angles)
        return maps.reshape(b, ANGLES, h // STRIDE, w // STRIDE)

    def maps_at(self, images: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
        """(B, H/4, W/4) logits of one angle index per image; fractions of a bin are angles
        between the bins (0.5: 5 degrees)."""
        maps = self.body(self._turned(images, angles))
        # Turn each map back: the score of original point p sits at M^T p in the turned map.
        maps = self._resample(maps, self._turns(angles, maps.dtype).transpose(1, 2))
        crop = self.PAD // STRIDE
        return maps[:, 0, crop:maps.shape[2] - crop, crop:maps.shape[3] - crop]

    def chosen(self, images: torch.Tensor, angles: torch.Tensor, rows: torch.Tensor,
               cols: torch.Tensor) -> torch.Tensor:
        """(B,) logits of one (angle, row, col) per image, equal to `forward`'s there.

        Only that angle's turn is made, and, as in `GraspNet.chosen`, the two 3 x 3 layers at
        grid resolution run only where the bilinear read of the cell needs them: the 2 x 2
        outputs around the cell's turned position, from a 6 x 6 window of features. Outputs
        outside the turned map count as zero, as the layers' padding and the read's do.
        """
        features = self.body[:4](self._turned(images, angles))  # (B, C, S, S)
        size = features.shape[-1]
        crop = self.PAD // STRIDE
        # The cell centre in the padded map (normalised), then where the turn put it, in cells.
        point = torch.stack([(2 * (cols + crop) + 1) / size - 1,
                             (2 * (rows + crop) + 1) / size - 1], -1).to(features.dtype)
        turned = (self._turns(angles, features.dtype).transpose(1, 2) @ point[:, :, None])[:, :, 0]
        where = ((turned + 1) * size - 1) / 2  # (x = column, y = row), as grid_sample reads it
        first = torch.floor(where)
        frac = where - first
        first = first.long()
        # Clamping keeps the window inside the padded features; a read cell off the map (or
        # moved by the clamp) gets weight 0, as grid_sample reads zeros there.
        clamped = first.clamp(-1, size - 1)
        last = _grid_layers_at(self.body, features, clamped[:, 1], clamped[:, 0], 2)[:, 0]
        cells = first[:, :, None] + torch.arange(2, device=images.device)  # (B, x / y, 2)
        read = (cells >= 0) & (cells < size) & (first == clamped)[:, :, None]
        wx = torch.stack([1 - frac[:, 0], frac[:, 0]], -1) * read[:, 0]
        wy = torch.stack([1 - frac[:, 1], frac[:, 1]], -1) * read[:, 1]
        return (last * wy[:, :, None] * wx[:, None, :]).sum(dim=(1, 2))


GRASP_NETS = {"angles": GraspNet, "rotating": RotatingGraspNet}
"""The grasp network kinds (`TrainConfig.grasp_net`)."""


class AdversaryNet(nn.Module):
    """Scores each allowed push for a held state.

    Input: side-view images (B, 3, S, S) float in [0, 1] and pose features (B, 2) =
    (sin 2 theta, cos 2 theta) of the grasp angle. Output: (B, n_pushes) drop logits.
    """

    def __init__(self, n_pushes: int, width: int = 16):
        super().__init__()
        self.image = nn.Sequential(
            nn.Conv2d(3, width, 5, stride=2, padding=2), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(2), nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Linear(8 * width + 2, 64), nn.ReLU(), nn.Linear(64, n_pushes))

    def forward(self, images: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.image(images), pose], dim=1))


def to_tensor(images: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """(B, H, W, C) or (H, W, C) uint8 -> (B, C, H, W) float32 in [0, 1]."""
    array = images[None] if images.ndim == 3 else images
    tensor = torch.from_numpy(np.ascontiguousarray(array)).to(device)
    return tensor.permute(0, 3, 1, 2).float() / 255


def pose_features(theta: np.ndarray | float) -> np.ndarray:
    """(B, 2) grasp-angle features; the gripper is symmetric, so theta and theta + pi match."""
    theta = np.atleast_1d(np.asarray(theta, dtype=np.float32))
    return np.stack([np.sin(2 * theta), np.cos(2 * theta)], axis=1).astype(np.float32)


def candidate_mask(depth_u8: np.ndarray, depth_range_m: float) -> np.ndarray:
    """(G, G) bool: cells whose 4 x 4 pixel block shows some object (not only tray).

    Args:
        depth_u8: (H, W) quantised height above the tray (255 = depth_range_m).
        depth_range_m: the height that 255 stands for.
    """
    threshold = MIN_OBJECT_HEIGHT_M / depth_range_m * 255
    h, w = depth_u8.shape
    blocks = depth_u8.reshape(h // STRIDE, STRIDE, w // STRIDE, STRIDE)
    mask = blocks.max(axis=(1, 3)) > threshold
    return mask if mask.any() else np.ones_like(mask)


def augment(images: np.ndarray, cells: np.ndarray, angles: np.ndarray, grid: int,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random rotations by multiples of 90 degrees and mirror images of a batch.

    The scene seen from above has no preferred direction: rotating the image counter-clockwise
    by 90 degrees rotates the grasp point with it and adds pi / 2 to the angle (k + 9); a
    left-right mirror maps x to -x and theta to pi - theta (k -> -k).

    Args:
        images: (B, H, W, C) uint8. cells: (B,) flat cell index row * grid + col. angles: (B,).
    """
    out_images = np.empty_like(images)
    rows, cols = np.divmod(cells, grid)
    out_rows, out_cols, out_angles = rows.copy(), cols.copy(), angles.copy()
    for i in range(len(images)):
        image, r, c, k = images[i], rows[i], cols[i], angles[i]
        for _ in range(rng.integers(4)):
            image = np.rot90(image, 1, axes=(0, 1))
            r, c, k = grid - 1 - c, r, (k + ANGLES // 2) % ANGLES
        if rng.integers(2):
            image = image[:, ::-1]
            c, k = grid - 1 - c, (-k) % ANGLES
        out_images[i], out_rows[i], out_cols[i], out_angles[i] = image, r, c, k
    return out_images, out_rows * grid + out_cols, out_angles


SYMMETRIES = [(flip, turns) for flip in (False, True) for turns in range(4)]
"""The 8 symmetries of the square top-down image: an optional left-right mirror, then 0 to 3
counter-clockwise quarter turns."""


def symmetric_views(image: np.ndarray, symmetries=SYMMETRIES) -> np.ndarray:
    """(N, H, W, C): `image` (H, W, C) under each of `symmetries` (flip, turns), in order."""
    views = []
    for flip, turns in symmetries:
        base = image[:, ::-1] if flip else image
        views.append(np.rot90(base, turns, axes=(0, 1)))
    return np.ascontiguousarray(np.stack(views))


def cells_to_original(maps: np.ndarray, flip: bool, turns: int) -> np.ndarray:
    """Maps whose last two axes are a view's (row, col) cells, moved back to the original
    image's cells (the angles, if any, stay as they are)."""
    back = np.rot90(maps, -turns, axes=(-2, -1))
    return back[..., ::-1] if flip else back


def to_original(maps: np.ndarray, flip: bool, turns: int) -> np.ndarray:
    """Score maps (18, G, G) of a view made by (flip, turns), moved back to the original
    image's cells and angles (as in `augment`, a quarter turn adds pi / 2 to the angle and a
    mirror negates it)."""
    back = np.roll(cells_to_original(maps, flip, turns), -(ANGLES // 2) * turns, axis=0)
    return back[(-np.arange(ANGLES)) % ANGLES] if flip else back
