"""Notebook 02_gradcam's answers, as solutions/02_gradcam/02_gradcam.ipynb teaches them.

Written by `make student` (python -m tools.answer_modules) from the notebook's cells tagged as
answers: edit the notebook, not this file.
"""
import torch

__all__ = ["GradCAM"]


class GradCAM:
    """Grad-CAM of one image at one layer: ReLU(sum_k alpha_k A^k), alpha_k = spatial mean of dy^c/dA^k.

    Use it in a `with` block (or call remove()) so that its hook never outlives its use:

        with GradCAM(model) as cam:
            heatmap = cam(image_tensor, target_class)   # (h, w), e.g. (7, 7)
    """

    def __init__(self, model, target_layer=None):
        self.model = model
        self.target_layer = model.layer4[-1].conv2 if target_layer is None else target_layer
        self.activation = None   # A: the target layer's output in the last forward, (1, K, h, w)
        self._handle = self.target_layer.register_forward_hook(self._keep_activation)

    def _keep_activation(self, module, inputs, output):
        """Forward hook, called after every forward of the target layer: keep what __call__ needs."""
        self.activation = output.detach().requires_grad_()   # A as a leaf: the rest of the network is a function of A
        return self.activation.clone()   # the network goes on with a copy: in-place ops after the layer cannot touch A

    def __call__(self, x, target_class):
        """Return the raw Grad-CAM (h, w) of the first image in x for target_class (pre-softmax score)."""
        with torch.enable_grad():                    # a graph is needed even when called under torch.no_grad()
            score = self.model(x)[0, target_class]   # y^c: the logit, before any softmax
            gradient, = torch.autograd.grad(score, self.activation)   # dy^c/dA only: no parameter's .grad
        alpha = gradient[0].mean(dim=(1, 2))                                  # (K,)
        cam = torch.relu((alpha[:, None, None] * self.activation[0].detach()).sum(dim=0))  # ReLU after the sum
        return cam

    def remove(self):
        """Remove the forward hook from the model; calling it twice is harmless."""
        self._handle.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
