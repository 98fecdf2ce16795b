"""An independent Grad-CAM reference in plain torch: forward hooks that hand the network a copy, then autograd.grad.

Each layer's forward hook keeps the layer's output A and returns a clone for the rest of the
network, so an in-place operation after the layer (BasicBlock's ReLU after bn1, `+=` after
bn2) changes the clone and A stays what the layer computed. The gradient of the pre-softmax
score with respect to A comes from torch.autograd.grad: no parameter .grad is touched.
"""
import torch


def gradcam_maps(model, layers, image, classes):
    """{(layer name, class): ReLU(sum_k alpha_k A^k) as float64 (h, w)}, alpha_k = spatial mean of dy^c/dA^k.

    `layers` is {name: module}; every module must run exactly once per forward.
    """
    kept = {}

    def keeper(name):
        def keep(module, inputs, output):
            kept[name] = output
            return output.clone()
        return keep

    handles = [layer.register_forward_hook(keeper(name)) for name, layer in layers.items()]
    try:
        with torch.enable_grad():
            logits = model(image)[0]
    finally:
        for handle in handles:
            handle.remove()
    names = list(layers)
    maps = {}
    for target_class in classes:
        gradients = torch.autograd.grad(logits[target_class], [kept[name] for name in names], retain_graph=True)
        for name, gradient in zip(names, gradients):
            alpha = gradient[0].double().mean(dim=(1, 2))
            maps[name, target_class] = torch.relu(torch.tensordot(alpha, kept[name][0].detach().double(), dims=1))
    return maps
