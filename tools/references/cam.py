"""An independent CAM reference, computed without hooks and without the solution's code.

`cam_by_stages` runs ResNet18's stages by hand and mixes the feature maps with the fc weights.
(tools/references/libraries.py has a second one through captum's Grad-CAM.)
"""
import torch


def resnet_features(model, image):
    """layer4 output (K, h, w) of a torchvision ResNet, computed stage by stage."""
    with torch.no_grad():
        x = model.maxpool(model.relu(model.bn1(model.conv1(image))))
        for stage in (model.layer1, model.layer2, model.layer3, model.layer4):
            x = stage(x)
    return x[0]


def cams_by_stages(model, image, target_classes):
    """M_c = sum_k w_k^c f_k for each class c, as a tensordot over the channel axis: (classes, h, w), float64."""
    features = resnet_features(model, image).double()
    weights = model.fc.weight.detach()[list(target_classes)].double()
    return torch.tensordot(weights, features, dims=1)


def cam_by_stages(model, image, target_class):
    """M_c of one class (h, w), float64."""
    return cams_by_stages(model, image, [target_class])[0]

