"""Notebook 02's answer: Grad-CAM."""
import torch

__all__ = ["GradCAM"]


class GradCAM:
    """Grad-CAM (Selvaraju et al.) of one image at a layer: ReLU(sum_k alpha_k A^k), alpha_k = mean of dy^c/dA^k.

    The forward runs without autograd up to the target layer, whose forward hook turns
    recording on and hands the rest of the network a copy of its output A: the graph
    covers only the layers after A (all that dy^c/dA needs, so the explanation costs
    less than a forward with gradients), and an in-place op after the layer
    (BasicBlock's ReLU after bn1, `+=` after bn2) changes the copy, not A. The gradient
    is taken with torch.autograd.grad, so no parameter .grad accumulates.
    Use as a context manager, or call remove(): the hook never outlives its use.
    """

    def __init__(self, model, target_layer=None):
        self.model = model
        self.target_layer = model.layer4[-1].conv2 if target_layer is None else target_layer
        self._activation = None
        self._handle = self.target_layer.register_forward_hook(self._keep_activation)

    def _keep_activation(self, module, inputs, output):
        torch.set_grad_enabled(True)  # until the no_grad block in __call__ ends
        self._activation = output.detach().requires_grad_()
        return self._activation.clone()

    def __call__(self, x, target_class):
        """Return the ReLU'd Grad-CAM (h, w) of the pre-softmax score of `target_class`."""
        with torch.no_grad():
            score = self.model(x)[0, target_class]
        if self._activation is None:
            raise RuntimeError("the target layer did not run in the model's forward")
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
