"""The shared explainers that later notebooks import, and the guard that keeps them out of the exercises."""
import types

import pytest
import torch

from tools.references.cam import cam_by_stages
import coursekit.answers.cam
import coursekit.answers.cam as cam_answer
from coursekit import checks, explainers
from coursekit.hooks import count_hooks
from coursekit.images import preprocess_image
from coursekit.models import load_resnet18
from coursekit.paths import resource_path
from gradcam_cases import LAYERS, captum_gradcam, expect_matches_references, expect_same_map
from resnet_cases import MODELS


@pytest.fixture(scope="module")
def resnet_and_image():
    return load_resnet18(), preprocess_image(resource_path("coffee.png"))


@pytest.mark.parametrize("target_class", [0, 504, 967])
def test_shared_compute_cam_matches_the_stage_by_stage_reference(resnet_and_image, target_class):
    model, image = resnet_and_image
    cam = explainers.compute_cam(model, image, target_class)
    assert torch.allclose(cam.double(), cam_by_stages(model, image, target_class), atol=1e-4)
    assert count_hooks(model) == 0


def own_cam(model, image, target_class):
    return torch.zeros(7, 7)


def delegating_cam(model, image, target_class):
    return explainers.compute_cam(model, image, target_class)


def cam_through_its_defining_module(model, image, target_class):
    return cam_answer.compute_cam(model, image, target_class)


@pytest.mark.parametrize("answer", [explainers.compute_cam, delegating_cam, cam_through_its_defining_module])
def test_refusing_reference_rejects_answers_that_are_or_name_the_reference(answer):
    with pytest.raises(AssertionError, match="implement this exercise yourself"):
        with checks.refusing_reference(answer, explainers, "compute_cam"):
            pass


def test_refusing_reference_traps_a_call_made_through_an_import_inside_the_answer(resnet_and_image):
    def imports_inside(model, image, target_class):
        from coursekit.explainers import compute_cam
        return compute_cam(model, image, target_class)

    with pytest.raises(AssertionError, match="implement this exercise yourself"):
        with checks.refusing_reference(imports_inside, explainers, "compute_cam"):
            imports_inside(*resnet_and_image, 1)
    assert explainers.compute_cam.__module__ == "coursekit.answers.cam", "the reference must be restored"


def test_refusing_reference_traps_a_call_through_the_module_that_defines_the_reference(resnet_and_image):
    def through_the_package(model, image, target_class):
        return coursekit.answers.cam.compute_cam(model, image, target_class)

    with pytest.raises(AssertionError, match="implement this exercise yourself"):
        with checks.refusing_reference(through_the_package, explainers, "compute_cam"):
            through_the_package(*resnet_and_image, 1)
    assert coursekit.answers.cam.compute_cam is explainers.compute_cam, "the reference must be restored"


def test_refusing_reference_has_nothing_to_refuse_when_the_reference_is_not_shipped():
    """A student's release of an assignment does not ship that assignment's answer."""
    without_the_answer = types.ModuleType("coursekit.explainers")
    with checks.refusing_reference(own_cam, without_the_answer, "compute_cam"):
        assert own_cam(None, None, 0).shape == (7, 7)


def test_refusing_reference_lets_an_own_answer_through():
    with checks.refusing_reference(own_cam, explainers, "compute_cam"):
        assert own_cam(None, None, 0).shape == (7, 7)
    assert explainers.compute_cam is not own_cam


# ---- the shared Grad-CAM (notebook 02's answer) ------------------------------------------------

@pytest.mark.parametrize("layer_name", LAYERS)
@pytest.mark.parametrize("weights", ["standin", "seed1"])
def test_shared_gradcam_matches_captum_and_pytorch_grad_cam(weights, layer_name):
    expect_matches_references(explainers.GradCAM, MODELS[weights](), layer_name)


def test_shared_gradcam_works_on_a_frozen_model_as_captum_does():
    """A backbone frozen for transfer learning: no parameter requires grad, so the layer's output has no graph."""
    model = MODELS["seed1"]().requires_grad_(False)
    image = preprocess_image(resource_path("chelsea.png"))
    with explainers.GradCAM(model) as cam:
        heatmap = cam(image, 3)
    expect_same_map(heatmap, captum_gradcam(model, model.layer4[-1].conv2, image, 3))


@pytest.mark.parametrize("grad_enabled", [True, False])
def test_shared_gradcam_leaves_grad_mode_hooks_and_gradients_as_it_found_them(resnet_and_image, grad_enabled):
    model, image = resnet_and_image
    with torch.set_grad_enabled(grad_enabled):
        with explainers.GradCAM(model) as cam:
            first = cam(image, 504)
            assert torch.is_grad_enabled() == grad_enabled
            assert torch.equal(cam(image, 504), first)
    assert count_hooks(model) == 0 and all(p.grad is None for p in model.parameters())


class FailsAfterItsTargetLayer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Conv2d(1, 1, kernel_size=1)

    def forward(self, x):
        self.features(x)  # the target layer's hook has run by now
        raise RuntimeError("the forward fails after the target layer")


def test_shared_gradcam_restores_grad_mode_when_the_forward_fails():
    model = FailsAfterItsTargetLayer()
    with torch.no_grad():
        with explainers.GradCAM(model, model.features) as cam, pytest.raises(RuntimeError, match="fails after"):
            cam(torch.ones(1, 1, 2, 2), 0)
        assert not torch.is_grad_enabled()


def test_a_plain_forward_with_the_shared_gradcam_attached_leaves_grad_mode_off(resnet_and_image):
    """`torch.set_grad_enabled(False); model(x)` with the hook attached: grad mode stays off, even when the forward fails."""
    model, image = resnet_and_image
    with explainers.GradCAM(model), torch.set_grad_enabled(False):
        model(image)
        assert not torch.is_grad_enabled()
    failing = FailsAfterItsTargetLayer()
    with explainers.GradCAM(failing, failing.features), torch.set_grad_enabled(False):
        with pytest.raises(RuntimeError, match="fails after"):
            failing(torch.ones(1, 1, 2, 2))
        assert not torch.is_grad_enabled()


class SubclassedGradCAM(explainers.GradCAM):
    pass


def maps_with_a_subclass(model, image, classes):
    with SubclassedGradCAM(model) as cam:
        return [cam(image, c) for c in classes]


@pytest.mark.parametrize("answer", [SubclassedGradCAM, maps_with_a_subclass])
def test_refusing_reference_rejects_a_subclass_of_the_reference_and_code_that_uses_one(answer):
    with pytest.raises(AssertionError, match="implement this exercise yourself"):
        with checks.refusing_reference(answer, explainers, "GradCAM"):
            pass


def gradcam_beside_the_shared_cam(model, image, target_class):
    return explainers.compute_cam(model, image, target_class)


def test_refusing_reference_allows_other_names_of_the_same_module():
    with checks.refusing_reference(gradcam_beside_the_shared_cam, explainers, "GradCAM"):
        pass
    with pytest.raises(AssertionError, match="implement this exercise yourself"):
        with checks.refusing_reference(gradcam_beside_the_shared_cam, explainers, "compute_cam"):
            pass
