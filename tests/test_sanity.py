"""coursekit.sanity.reinitialise: a layer back to how PyTorch builds it, repeatably, and nothing else touched."""
import copy

import torch

from coursekit import toy_models
from coursekit.sanity import reinitialise


def test_a_seeded_reinitialisation_is_a_fresh_layer_of_the_same_seed():
    trained = toy_models.load("cnn")
    torch.manual_seed(7)
    assert reinitialise(trained.layer3) == 2            # its conv and its batch norm
    fresh = copy.deepcopy(toy_models.load("cnn").layer3)
    torch.manual_seed(7)
    for module in fresh.modules():                      # what building the layer anew draws, in the same order
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    for (name, value), expected in zip(trained.layer3.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(value, expected), name
    norm = trained.layer3[1]
    assert torch.equal(norm.weight, torch.ones_like(norm.weight)) and torch.equal(norm.running_var,
                                                                                  torch.ones_like(norm.running_var))


def test_only_the_given_layer_changes():
    trained, original = toy_models.load("cnn"), toy_models.load("cnn")
    reinitialise(trained.fc)
    changed = {name for name, value in trained.state_dict().items()
               if not torch.equal(value, original.state_dict()[name])}
    assert changed == {"fc.weight", "fc.bias"}


def test_a_layer_without_parameters_is_left_alone():
    assert reinitialise(torch.nn.ReLU()) == 0
