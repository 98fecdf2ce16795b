"""Guided Backpropagation (coursekit.guided_backprop): a hand-computed answer, captum's, and a model left as it was."""
import copy

import pytest
import torch
from captum.attr import GuidedBackprop
from torch import nn

from coursekit import toy_models
from coursekit.guided_backprop import guided_backprop
from coursekit.hooks import count_hooks
from coursekit.models import load_resnet18


def test_a_hand_computed_two_layer_network():
    """score = w2 . ReLU(W1 x): the gradient reaches x only through units with u > 0 AND w2 > 0.

    x = (1, 2), W1 rows (1, 0), (0, 1), (1, -1): u = (1, 2, -1); w2 = (2, -3, 5).
    Unit 0: u > 0, w2 > 0, passes 2. Unit 1: u > 0 but w2 < 0, blocked (plain backprop passes -3).
    Unit 2: u < 0, blocked (w2 > 0 does not matter). Gradient = 2 * W1[0] = (2, 0); plain: (2, -3).
    """
    layer = nn.Linear(2, 3, bias=False)
    head = nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]]))
        head.weight.copy_(torch.tensor([[2.0, -3.0, 5.0]]))
    model = nn.Sequential(nn.Flatten(), layer, nn.ReLU(), head)   # a (1, 1, 1, 2) "picture" in
    found = guided_backprop(model, torch.tensor([1.0, 2.0]).reshape(1, 1, 1, 2), 0)
    assert torch.equal(found, torch.tensor([[2.0, 0.0]]))


@pytest.mark.parametrize("target_class", [0, 3])
def test_it_equals_captums_guided_backprop_on_the_toy_cnn(target_class):
    cnn = toy_models.load("cnn")
    image = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(target_class))
    without_in_place = copy.deepcopy(cnn)
    for module in without_in_place.modules():
        if isinstance(module, nn.ReLU):
            module.inplace = False           # captum's backward hooks cannot sit on an in-place ReLU
    with pytest.warns(UserWarning, match="backward hooks on ReLU"):
        expected = GuidedBackprop(without_in_place).attribute(image, target=target_class)[0].abs().amax(dim=0)
    assert torch.allclose(guided_backprop(cnn, image, target_class), expected, atol=1e-7)


def test_the_model_is_left_as_it_was():
    """ResNet18's BasicBlocks reuse one ReLU(inplace=True): switched off while guiding, switched back after."""
    model = load_resnet18()
    in_place = [m.inplace for m in model.modules() if isinstance(m, nn.ReLU)]
    assert any(in_place)
    found = guided_backprop(model, torch.randn(1, 3, 224, 224), 5)
    assert found.shape == (224, 224) and bool((found >= 0).all()) and bool(found.any())
    assert count_hooks(model) == 0
    assert [m.inplace for m in model.modules() if isinstance(m, nn.ReLU)] == in_place
    assert all(p.grad is None for p in model.parameters())


def test_hooks_are_removed_when_the_model_raises():
    model = toy_models.build("cnn")
    with pytest.raises(IndexError):
        guided_backprop(model, torch.randn(1, 3, 64, 64), 99)   # 4 classes
    assert count_hooks(model) == 0 and model.layer4[0].relu.inplace
