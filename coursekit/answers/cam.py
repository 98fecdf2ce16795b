"""Notebook 01's answer: the class activation map."""
import torch

from coursekit.hooks import capture_outputs

__all__ = ["compute_cam"]


def compute_cam(model, image_tensor, target_class):
    """Raw CAM (h, w) of one image at `model.layer4`: sum_k fc.weight[c, k] * f_k, no ReLU (notebook 01)."""
    with capture_outputs({"layer4": model.layer4}) as outputs, torch.no_grad():
        model(image_tensor)
    return torch.einsum("k,khw->hw", model.fc.weight.detach()[target_class], outputs["layer4"][0])
