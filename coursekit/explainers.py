"""The course's explanation methods, shared by the notebooks that build on earlier ones.

Notebook 02 compares Grad-CAM with notebook 01's CAM, and notebook 04 puts
notebook 02's Grad-CAM beside attention rollout; both import them from here
instead of re-typing them, and the benchmarks time them. These are the answers of
earlier exercises, so the visible checks of those exercises refuse an answer that
only calls them (coursekit.checks.refusing_reference).
"""
import torch

from coursekit.hooks import capture_outputs


def compute_cam(model, image_tensor, target_class):
    """Raw CAM (h, w) of one image at `model.layer4`: sum_k fc.weight[c, k] * f_k, no ReLU (notebook 01)."""
    with capture_outputs({"layer4": model.layer4}) as outputs, torch.no_grad():
        model(image_tensor)
    return torch.einsum("k,khw->hw", model.fc.weight.detach()[target_class], outputs["layer4"][0])


class GradCAM:
    """Grad-CAM (Selvaraju et al.) of one image at a layer: ReLU(sum_k alpha_k A^k), alpha_k = mean of dy^c/dA^k.

    The forward hook only keeps the layer's output; the gradient is taken with
    torch.autograd.grad, so no parameter .grad accumulates and nothing needs zero_grad.
    Use as a context manager, or call remove(): the hook never outlives its use.
    """

    def __init__(self, model, target_layer=None):
        self.model = model
        self.target_layer = model.layer4[-1].conv2 if target_layer is None else target_layer
        self._activation = None
        self._handle = self.target_layer.register_forward_hook(self._keep_activation)

    def _keep_activation(self, module, inputs, output):
        self._activation = output

    def __call__(self, x, target_class):
        """Return the ReLU'd Grad-CAM (h, w) of the pre-softmax score of `target_class`."""
        with torch.enable_grad():
            score = self.model(x)[0, target_class]
            gradient, = torch.autograd.grad(score, self._activation)
        alpha = gradient[0].mean(dim=(1, 2))                   # (K,)
        cam = torch.einsum("k,khw->hw", alpha, self._activation[0].detach())
        self._activation = None
        return torch.relu(cam)

    def remove(self):
        """Remove the hook; calling it twice is harmless."""
        self._handle.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
