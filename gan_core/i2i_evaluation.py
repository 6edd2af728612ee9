"""Held-out evaluation of the image-to-image and multi-stage variants, with no download.

Figures, all on data the variant never trained on (`gan_core.i2i_data.held_out`):

- paired (pix2pix): L1 and PSNR of G(a) against b;
- unpaired (CycleGAN, DualGAN, DiscoGAN): the cycle errors and, on digits against inverted
  digits, the L1 of G(a) against the true translation -a (and of F(-a) against a);
- every variant on one-channel data: the Frechet distance on the digits classifier's features
  (`gan_core.digits_classifier`) between its outputs and held-out real images of the output
  domain, beside the floor: the same distance between as many training images and the held-out
  ones (equal sample counts keep the two comparable);
- LAPGAN: per pyramid level, that distance for (up-sampled real coarser image + generated
  residual) against the plain up-sampled coarser image;
- StackGAN: the distance of stage I samples (up-sampled) and of stage II samples;
- GAN-CLS (and StackGAN): the area under the ROC curve of the critic's scores for held-out
  (image, right label) against (image, wrong label) pairs, and the classifier's accuracy on
  samples of asked-for labels.

The distances use locally trained features: they are not comparable to published FIDs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gan_core.errors import ConfigError
from gan_core.i2i_data import digit_split, held_out
from gan_core.i2i_metrics import paired_figures, translate_all, unpaired_figures
from gan_core.metrics import frechet_distance
from gan_core.variants import Variant

TRUE_TRANSLATIONS = {"digits2inverted": torch.neg}
I2I_MODELS = ("pix2pix", "cyclegan", "dualgan", "discogan", "lapgan", "stackgan", "gan-cls")


def roc_auc(positive: torch.Tensor, negative: torch.Tensor) -> float:
    """Probability that a positive score exceeds a negative one (ties count half): the AUC.

    Shapes:
        positive (P,), negative (M,) -> a float in [0, 1].
    """
    pos, neg = positive.double().flatten()[:, None], negative.double().flatten()[None, :]
    return float((pos > neg).double().mean() + 0.5 * (pos == neg).double().mean())


class FeatureDistance:
    """Frechet distances on the digits classifier's features against fixed held-out images.

    Images of another side than `size` are resized bilinearly to it first.

    Args:
        real: held-out real images (N, 1, s, s) in [-1, 1] of the domain being judged.
        reference: as many other real images of that domain (for the floor).
        size: the classifier's image side in px (default: that of `real`).
    """

    def __init__(self, real: torch.Tensor, reference: torch.Tensor, size: int | None = None):
        from gan_core.digits_classifier import load_classifier

        if real.shape[1] != 1:
            raise ConfigError(f"the digits classifier reads one-channel images, got "
                              f"{real.shape[1]} channels; no feature distance for this data")
        self.size = size or real.shape[-1]
        self.classifier = load_classifier(self.size)
        self.count = min(len(real), len(reference))
        self.real = self.features(real[:self.count])
        self.floor = frechet_distance(self.features(reference[:self.count]), self.real)

    def features(self, images: torch.Tensor):
        images = images.detach().float().cpu()
        if images.shape[-1] != self.size:
            images = F.interpolate(images, size=self.size, mode="bilinear", align_corners=False)
        return self.classifier.features_and_logits(images)[0]

    def __call__(self, images: torch.Tensor) -> float:
        if len(images) < self.count:
            raise ConfigError(f"{len(images)} images given, the distance uses {self.count}")
        return frechet_distance(self.features(images[:self.count]), self.real)

    def accuracy(self, images: torch.Tensor, labels: torch.Tensor) -> float:
        """Share of `images` that the classifier labels as `labels` (N,)."""
        _, logits = self.classifier.features_and_logits(images.float().cpu())
        return float((torch.from_numpy(logits.argmax(1)) == labels.cpu()).double().mean())


def _training_split(variant: Variant) -> dict[str, torch.Tensor]:
    from gan_core.data import make_dataset

    dataset, _ = make_dataset(variant.config)
    return dataset.tensors


def evaluate_translation(variant: Variant) -> dict[str, float]:
    """Held-out figures of pix2pix, CycleGAN, DualGAN or DiscoGAN (see the module docstring)."""
    config, device = variant.config, variant.device
    test = held_out(config)
    train = _training_split(variant)

    def forward(images):
        return variant.generate(len(images), {"a": images})

    if variant.kind == "paired":
        result = paired_figures(forward, test, device=device)
        judged, real, reference = translate_all(forward, test["a"], device=device), \
            test["b"], train["b"]
    else:
        result = unpaired_figures(forward, variant.translate_back, test,
                                  TRUE_TRANSLATIONS.get(config.data), device=device)
        # Translations into A (digits) are judged against held-out real A images.
        judged, real, reference = translate_all(variant.translate_back, test["b"],
                                                device=device), test["a"], train["a"]
    if real.shape[1] == 1:
        distance = FeatureDistance(real, reference)
        result["frechet"], result["frechet_floor"] = distance(judged), distance.floor
    return result


def evaluate_generation(variant: Variant, seed: int = 0) -> dict[str, float]:
    """Held-out figures of LAPGAN, StackGAN or GAN-CLS (see the module docstring)."""
    size = variant.config.image_size
    test_x, test_y = digit_split(size, held_out=True)
    train_x, _ = digit_split(size)
    distance = FeatureDistance(test_x, train_x[-len(test_x):])
    count = distance.count
    result = {"frechet_floor": distance.floor}
    torch.manual_seed(seed)
    labels = torch.arange(count) % variant.data_info.num_classes
    if variant.name == "lapgan":
        result["frechet"] = distance(variant.generate(count).cpu())
        for level in range(1, variant.stages):
            real = variant.pyramid(test_x)[level]
            coarse = F.avg_pool2d(real, 2)
            refined = variant.refine(level, coarse.to(variant.device)).cpu()
            plain = F.interpolate(coarse, scale_factor=2, mode="bilinear", align_corners=False)
            judge = FeatureDistance(real, variant.pyramid(train_x[-len(test_x):])[level], size)
            result[f"level{level}_frechet"] = judge(refined)
            result[f"level{level}_upsample_frechet"] = judge(plain)
            result[f"level{level}_floor"] = judge.floor
        return result
    samples = variant.generate(count, labels=labels).cpu()
    result["frechet"] = distance(samples)
    result["conditional_accuracy"] = distance.accuracy(samples, labels)
    if variant.name == "stackgan":
        torch.manual_seed(seed)
        stage_one = variant.generate(count, labels=labels, stage=1).cpu()
        result["stage1_frechet"] = distance(stage_one)
        result["stage1_conditional_accuracy"] = distance.accuracy(
            F.interpolate(stage_one, size=size, mode="bilinear", align_corners=False), labels)
    generator = torch.Generator().manual_seed(seed)
    shift = torch.randint(1, variant.data_info.num_classes, test_y.shape, generator=generator)
    right = variant.critic_scores(test_x, test_y)
    wrong = variant.critic_scores(test_x, (test_y + shift) % variant.data_info.num_classes)
    result["match_auc"] = roc_auc(right.cpu(), wrong.cpu())
    return result


def evaluate_i2i(variant: Variant, seed: int = 0) -> dict[str, float]:
    """The held-out figures of any image-to-image or multi-stage family."""
    torch.manual_seed(seed)
    if variant.kind in ("paired", "unpaired"):
        return evaluate_translation(variant)
    if variant.name in I2I_MODELS:
        return evaluate_generation(variant, seed)
    raise ConfigError(f"model {variant.name!r} is not an image-to-image or multi-stage variant")
