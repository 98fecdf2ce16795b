"""References computed by the field's libraries (captum, pytorch-grad-cam): for the tests and benchmarks only.

These need the development packages (requirements-dev.txt), which students and the grader do not have.

captum's LayerGradCam and pytorch-grad-cam both compute alpha = spatial mean of d(logit_c)/dA and
ReLU(sum_k alpha_k A^k). captum returns that map, (N, 1, h, w), when asked for relu_attributions=True.
pytorch-grad-cam returns it min-max normalised per image and resized to the input; with its scaling
step replaced by the identity it returns the raw map (N, h, w). It keeps the layer's output without a
copy, so it is a reference only for layers that no in-place operation follows (not, e.g., a
BasicBlock's bn1 or bn2). Without ReLU, captum's Grad-CAM at a GAP + fc head equals CAM / (h * w):
the gradient of a logit with respect to the last feature map is w^c / (h * w) at every position.
"""
from unittest import mock

import torch
from captum.attr import LayerGradCam
from pytorch_grad_cam import GradCAM as LibraryGradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget


def captum_gradcam(model, layer, image, target_class):
    """captum's raw Grad-CAM (h, w) of the first image, float64."""
    attribution = LayerGradCam(model, layer).attribute(image, target=target_class, relu_attributions=True)
    return attribution[0, 0].detach().double()


def library_gradcam(model, layer, image, target_class):
    """pytorch-grad-cam's Grad-CAM (h, w) of the first image before its scaling step, float64.

    The library leaves gradients in the parameters' .grad; they are cleared here.
    """
    with mock.patch("pytorch_grad_cam.base_cam.scale_cam_image", lambda cam, target_size=None: cam), \
            LibraryGradCAM(model=model, target_layers=[layer]) as cam:
        heatmap = cam(input_tensor=image, targets=[ClassifierOutputTarget(target_class)])
    model.zero_grad(set_to_none=True)
    return torch.from_numpy(heatmap[0]).double()


def cam_by_gradients(model, image, target_class):
    """(h * w) x captum's LayerGradCam at model.layer4 without ReLU, float64."""
    attribution = LayerGradCam(model, model.layer4).attribute(image, target=target_class,
                                                              relu_attributions=False)[0, 0]
    return attribution.detach().double() * attribution.numel()
