"""Notebook 02's solution agrees with captum and pytorch-grad-cam for several weights, images, classes and layers."""
import pytest
import torch

from tools.references.cam import cam_by_stages
from coursekit.hooks import count_hooks
from coursekit.images import preprocess_image
from coursekit.paths import resource_path
from gradcam_cases import LAYERS, captum_gradcam, expect_matches_references, expect_same_map, two_classes
from notebook_cells import solution_namespace
from resnet_cases import MODELS


@pytest.fixture(scope="module")
def solution():
    return solution_namespace("02_gradcam", "gradcam_class", "gradcams_at_layers", "gradcams_for_classes",
                              "gradcam_vs_cam")


@pytest.mark.parametrize("layer_name", LAYERS)
@pytest.mark.parametrize("weights", MODELS)
def test_gradcam_matches_captum_and_pytorch_grad_cam(solution, weights, layer_name):
    expect_matches_references(solution["GradCAM"], MODELS[weights](), layer_name)


@pytest.mark.parametrize("weights", MODELS)
def test_gradcam_at_layer4_is_relu_cam_over_49(solution, weights):
    model = MODELS[weights]()
    image = preprocess_image(resource_path("rocket.jpg"))
    for target_class in two_classes(model, image):
        with solution["GradCAM"](model, model.layer4) as cam:
            heatmap = cam(image, target_class)
        expect_same_map(heatmap, torch.relu(cam_by_stages(model, image, target_class)) / 49)


def test_gradcam_works_under_no_grad_and_leaves_no_hook_after_an_error(solution):
    model = MODELS["seed1"]()
    image = preprocess_image(resource_path("chelsea.png"))
    with torch.no_grad(), solution["GradCAM"](model) as cam:
        model(image)
        heatmap = cam(image, 3)
    expect_same_map(heatmap, captum_gradcam(model, model.layer4[-1].conv2, image, 3))
    with pytest.raises(IndexError), solution["GradCAM"](model) as cam:
        cam(image, 1000)
    assert count_hooks(model) == 0


def test_gradcams_at_layers_matches_captum(solution):
    model = MODELS["seed2"]()
    image = preprocess_image(resource_path("grace_hopper.jpg"))
    layers = {"layer4": model.layer4, "layer2": model.layer2, "layer1[1].conv2": model.layer1[1].conv2}
    maps = solution["gradcams_at_layers"](model, image, 7, layers)
    assert list(maps) == list(layers)
    for name, layer in layers.items():
        expect_same_map(maps[name], captum_gradcam(model, layer, image, 7))
    assert count_hooks(model) == 0


@pytest.mark.parametrize("weights", MODELS)
def test_gradcams_for_classes_matches_captum(solution, weights):
    model = MODELS[weights]()
    image = preprocess_image(resource_path("grace_hopper.jpg"))
    classes = [652, 906, *two_classes(model, image)]
    maps = solution["gradcams_for_classes"](model, image, classes, model.layer3[1].conv2)
    assert maps.shape == (4, 14, 14)
    for heatmap, target_class in zip(maps, classes):
        expect_same_map(heatmap, captum_gradcam(model, model.layer3[1].conv2, image, target_class))
    assert count_hooks(model) == 0


@pytest.mark.parametrize("weights", MODELS)
def test_gradcam_vs_cam_returns_two_equal_maps(solution, weights):
    model = MODELS[weights]()
    image = preprocess_image(resource_path("coffee.png"))
    target_class = two_classes(model, image)[0]
    grad_cam, scaled_cam = solution["gradcam_vs_cam"](model, image, target_class)
    expected = torch.relu(cam_by_stages(model, image, target_class)) / 49
    expect_same_map(grad_cam, expected)
    expect_same_map(scaled_cam, expected)
    expect_same_map(grad_cam, captum_gradcam(model, model.layer4, image, target_class))
