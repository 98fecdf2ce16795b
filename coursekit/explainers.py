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


def _cls_patch_map(row):
    """A CLS row over the patch tokens (N - 1,) as a square map, row-major."""
    side = int(round((row.numel()) ** 0.5))
    return row.reshape(side, side)


def obtain_attention_maps(attentions):
    """One (14, 14) map per layer: the heads' mean attention from the CLS query to each patch (notebook 03).

    `attentions` is the model's tuple of (1, heads, N, N) tensors, N = 1 + patches.
    """
    return [_cls_patch_map(layer[0].mean(dim=0)[0, 1:]) for layer in attentions]


_HEAD_FUSIONS = {"mean": lambda a: a.mean(dim=0), "max": lambda a: a.amax(dim=0), "min": lambda a: a.amin(dim=0)}


def compute_attention_rollout(attentions, discard_ratio=0.0, head_fusion="mean"):
    """Attention rollout (Abnar & Zuidema 2020) of one image as a (14, 14) map (notebook 04).

    Per layer: fuse the heads, zero the lowest `discard_ratio` of the fused entries
    (never the CLS-to-CLS entry), add the identity for the residual, normalise each
    ROW to sum 1, and accumulate R_l = A_hat_l @ R_(l-1). The map is R's CLS row over
    the patches, not rescaled. The inputs are not modified.
    """
    if head_fusion not in _HEAD_FUSIONS:
        raise ValueError(f"head_fusion must be one of {sorted(_HEAD_FUSIONS)}, got {head_fusion!r}")
    tokens = attentions[0].shape[-1]
    identity = torch.eye(tokens, dtype=attentions[0].dtype, device=attentions[0].device)
    rollout = identity
    for layer in attentions:
        fused = _HEAD_FUSIONS[head_fusion](layer[0].detach())  # a new tensor: the input stays intact
        n_discard = int(fused.numel() * discard_ratio)
        if n_discard:
            flat = fused.view(-1)
            lowest = flat.topk(n_discard, largest=False).indices
            flat[lowest[lowest != 0]] = 0
        a_hat = fused + identity
        a_hat = a_hat / a_hat.sum(dim=-1, keepdim=True)
        rollout = a_hat @ rollout
    return _cls_patch_map(rollout[0, 1:])
