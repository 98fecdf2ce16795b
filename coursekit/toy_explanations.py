"""The course's explanations of the toy models, map by map, and how often each points at the target.

One place that runs the course's own explainers (coursekit.explainers: notebook 01's CAM, 02's
Grad-CAM at its default layer, 03's attention maps, 04's rollout) on the toy models of
coursekit.toy_models, for the tests, `make toy-models` and notebook 05. Every map is of the
true class where the method takes a class, at the model's own 8 x 8 resolution.
"""
import torch

from coursekit import explainers
from coursekit.pointing import chance_rate, maps_of, pointing_hits
from coursekit.toy_models import attentions_of, model_input

RANDOM_SEED = 0   # the random baseline's maps


def cnn_maps(cnn, pictures):
    """{"CAM", "Grad-CAM"}: (n, 8, 8) maps of the toy CNN for the true class of each picture."""
    images, labels = model_input(pictures.images), pictures.labels
    with explainers.GradCAM(cnn) as gradcam:            # notebook 02's default layer: layer4[-1].conv2
        return {"CAM": maps_of(lambda x, c: explainers.compute_cam(cnn, x, c), images, labels),
                "Grad-CAM": maps_of(gradcam, images, labels)}


def vit_maps(vit, pictures):
    """{"rollout", "last-layer attention"}: (n, 8, 8) class-agnostic maps of the toy ViT (CLS row, heads averaged)."""
    config = vit.config
    every_picture = attentions_of(vit, pictures.images)  # one forward pass; the explainers take one picture's
    rollouts, last_layer = [], []
    for index in range(len(pictures)):
        attentions = tuple(layer[index:index + 1] for layer in every_picture)
        rollouts.append(explainers.compute_attention_rollout(attentions))
        last_layer.append(explainers.obtain_attention_maps(attentions, config.patch_size, config.image_size)[-1])
    return {"rollout": torch.stack(rollouts), "last-layer attention": torch.stack(last_layer)}


def random_maps(pictures, grid=8):
    """(n, grid, grid) uniformly random maps: the baseline that knows nothing."""
    return torch.rand(len(pictures), grid, grid, generator=torch.Generator().manual_seed(RANDOM_SEED))


def pointing_rates(cnn, vit, pictures):
    """{method: the fraction of pictures whose map's largest cell is in the target's box}, with "random" and "chance"."""
    maps = {**cnn_maps(cnn, pictures), **vit_maps(vit, pictures), "random": random_maps(pictures)}
    rates = {method: pointing_hits(found, pictures.boxes).float().mean().item() for method, found in maps.items()}
    rates["chance"] = chance_rate(pictures.boxes, grid=8)
    return rates
