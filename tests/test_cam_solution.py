"""Notebook 01's solution agrees with independent references for many images, classes and weights."""
import pytest
import torch

from coursekit.hooks import count_hooks
from coursekit.images import preprocess_image
from coursekit.models import load_resnet18
from coursekit.paths import resource_path
from notebook_cells import solution_namespace
from resnet_cases import MODELS, seeded_resnet
from tools.references.cam import cam_by_stages
from tools.references.libraries import cam_by_gradients

IMAGES = ["chelsea.png", "coffee.png", "rocket.jpg", "grace_hopper.jpg"]


@pytest.fixture(scope="module")
def solution():
    return solution_namespace("01_cam", "compute_cam", "top_class_cams")




@pytest.mark.parametrize("weights", MODELS)
@pytest.mark.parametrize("image_name", IMAGES)
def test_compute_cam_matches_both_references(solution, weights, image_name):
    model = MODELS[weights]()
    image = preprocess_image(resource_path(image_name))
    with torch.no_grad():
        logits = model(image)[0]
    for target_class in (int(logits.argmax()), int(logits.argmin()), 500):
        cam = solution["compute_cam"](model, image, target_class)
        assert cam.shape == (7, 7)
        torch.testing.assert_close(cam.double(), cam_by_stages(model, image, target_class), atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(cam.double(), cam_by_gradients(model, image, target_class), atol=1e-3, rtol=1e-3)
        # The identity the visible check relies on: logit = mean over positions + bias.
        torch.testing.assert_close(cam.mean() + model.fc.bias[target_class], logits[target_class],
                                   atol=1e-4, rtol=1e-4)
    assert count_hooks(model) == 0 and not model.training


@pytest.mark.parametrize("k", [1, 3, 5])
def test_top_class_cams_matches_reference(solution, k):
    model = seeded_resnet(3)
    image = preprocess_image(resource_path("coffee.png"))
    with torch.no_grad():
        logits = model(image)[0]
    classes, cams = solution["top_class_cams"](model, image, k)
    assert classes == sorted(range(1000), key=lambda c: -float(logits[c]))[:k]
    assert all(type(c) is int for c in classes)
    assert cams.shape == (k, 7, 7)
    for cam, target_class in zip(cams, classes):
        torch.testing.assert_close(cam.double(), cam_by_stages(model, image, target_class), atol=1e-4, rtol=1e-4)
    assert count_hooks(model) == 0


@pytest.mark.parametrize("bad_class, error", [(1000, IndexError), (-1, IndexError), (2.0, TypeError)])
def test_compute_cam_rejects_bad_class_index_clearly(solution, bad_class, error):
    model = load_resnet18()
    image = preprocess_image(resource_path("chelsea.png"))
    with pytest.raises(error, match="클래스 인덱스.*\n.*class index"):
        solution["compute_cam"](model, image, bad_class)
    assert count_hooks(model) == 0
