"""Networks of the image-to-image and multi-stage variants: shapes, skips, patches, stages."""

import pytest
import torch

from gan_core.errors import ConfigError
from gan_core.i2i_nets import (
    PatchDiscriminator,
    ResidualBlock,
    ResnetGenerator,
    UNetGenerator,
    norm_layer,
)
from gan_core.i2i_stages import (
    CoarseCritic,
    CoarseGenerator,
    ConditionalCritic,
    ConditioningAugmentation,
    LaplacianCritic,
    LaplacianStage,
    RefineGenerator,
    StageGenerator,
    downsample,
    upsample,
)

torch.set_num_threads(1)


@pytest.mark.parametrize("size", [16, 32])
def test_unet_and_resnet_keep_the_image_size_and_map_channels(size):
    torch.manual_seed(0)
    x = torch.rand(3, 1, size, size) * 2 - 1
    for net in (UNetGenerator(1, 3, size, 8), UNetGenerator(1, 3, size, 8, skips=False),
                ResnetGenerator(1, 3, 8, blocks=2)):
        out = net(x)
        assert out.shape == (3, 3, size, size)
        assert out.abs().max() <= 1.0


def _zero_bottleneck(net):
    # Zero the innermost encoder layer: only the skips can carry the input to the output.
    with torch.no_grad():
        for p in net.down[-1].parameters():
            p.zero_()
    return net.eval()


def test_unet_skips_carry_the_input_past_the_bottleneck():
    torch.manual_seed(0)
    x1, x2 = torch.rand(2, 1, 1, 16, 16) * 2 - 1
    with_skips = _zero_bottleneck(UNetGenerator(1, 1, 16, 8, skips=True, norm="none"))
    without = _zero_bottleneck(UNetGenerator(1, 1, 16, 8, skips=False, norm="none"))
    assert (with_skips(x1) - with_skips(x2)).abs().max() > 1e-3
    assert torch.equal(without(x1), without(x2))


def test_patch_discriminator_is_local():
    torch.manual_seed(0)
    critic = PatchDiscriminator(2, 8, layers=2, norm="none")
    x = torch.zeros(1, 2, 32, 32)
    base = critic(x)
    assert base.shape == (1, 1, 6, 6)
    poked = x.clone()
    poked[0, :, 0, 0] = 1.0
    changed = (critic(poked) - base).abs()[0, 0] > 0
    # A corner pixel reaches only the patches near that corner.
    assert changed[0, 0]
    assert not changed[3:, :].any() and not changed[:, 3:].any()


def test_residual_block_is_identity_when_its_body_is_zero():
    block = ResidualBlock(4, norm="none")
    with torch.no_grad():
        for p in block.parameters():
            p.zero_()
    x = torch.randn(2, 4, 8, 8)
    assert torch.equal(block(x), x)


def test_bad_sizes_and_norms_are_refused_with_the_value():
    with pytest.raises(ConfigError, match="image size 24"):
        UNetGenerator(1, 1, 24)
    with pytest.raises(ConfigError, match="norm 'group'"):
        norm_layer("group", 4)


def test_conditioning_augmentation_samples_its_gaussian():
    torch.manual_seed(0)
    ca = ConditioningAugmentation(10, 4)
    with torch.no_grad():
        # mu = 0.5 and logvar = log 4 whatever the condition: sigma is 2.
        ca.fc.weight.zero_()
        ca.fc.bias.copy_(torch.tensor([0.5] * 4 + [float(torch.log(torch.tensor(4.0)))] * 4))
    c, mu, logvar = ca(torch.eye(10)[[3]].expand(4000, 10))
    assert c.shape == mu.shape == logvar.shape == (4000, 4)
    torch.testing.assert_close(c.mean(0), torch.full((4,), 0.5), atol=0.1, rtol=0)
    torch.testing.assert_close(c.std(0), torch.full((4,), 2.0), atol=0.1, rtol=0)


def test_stage_networks_shapes():
    torch.manual_seed(0)
    z, code, label = torch.randn(4, 8), torch.randn(4, 6), torch.eye(10)[:4]
    low = StageGenerator(8, 6, 1, 4, width=8)(z, code)
    assert low.shape == (4, 1, 4, 4)
    high = RefineGenerator(1, 6, factor=4, width=8)(low, code)
    assert high.shape == (4, 1, 16, 16)
    assert ConditionalCritic(1, 16, 10, 8)(high, label).shape == (4,)
    assert ConditionalCritic(1, 4, 10, 8)(low, label).shape == (4,)
    assert CoarseCritic(1, 4)(CoarseGenerator(8, 1, 4)(z)).shape == (4,)
    coarse_up = upsample(downsample(torch.rand(4, 1, 16, 16)))
    residual = LaplacianStage(1, width=8)(coarse_up)
    assert residual.shape == (4, 1, 16, 16)
    assert LaplacianCritic(1, 16, 8)(residual, coarse_up).shape == (4,)


def test_conditional_critic_uses_the_condition():
    torch.manual_seed(0)
    critic = ConditionalCritic(1, 16, 10, 8).eval()
    x = torch.rand(2, 1, 16, 16)
    assert not torch.allclose(critic(x, torch.eye(10)[[1, 2]]), critic(x, torch.eye(10)[[5, 7]]))


def test_pyramid_steps_invert_on_constant_images():
    flat = torch.full((1, 1, 8, 8), 0.25)
    assert downsample(flat).shape == (1, 1, 4, 4)
    torch.testing.assert_close(upsample(downsample(flat)), flat)
