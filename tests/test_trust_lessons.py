"""What notebook 05's text says of the shipped toy CNN, checked, so that the text cannot go stale.

Section 5: randomising the top layer (fc) changes Grad-CAM's maps a lot and Guided Backprop's hardly at all,
and some Grad-CAM maps become all zeros (the notebook leaves them out of the mean). Section 6: Guided
Backprop points at the target about as often as Grad-CAM, far above chance. Same pictures and steps as the
notebook; the cascade and the correlation are the notebook's own answers (coursekit.answers.trust).
"""
import pytest
import torch

from coursekit import toy_models
from coursekit.answers.trust import cascading_randomization, spearman_rank_correlation
from coursekit.explainers import GradCAM
from coursekit.guided_backprop import guided_backprop
from coursekit.pointing import chance_rate, maps_of, pointing_hits

LAYERS = ["fc", "layer4", "layer3", "layer2", "layer1", "conv1"]
PICTURES = 8                   # notebook 05, section 5.1
POINTING_PICTURES = 200        # notebook 05, sections 2 and 6


@pytest.fixture(scope="module")
def setting():
    cnn, pictures = toy_models.load("cnn"), toy_models.held_out_pictures(POINTING_PICTURES)
    return cnn, pictures, toy_models.model_input(pictures.images)


@pytest.fixture(scope="module")
def correlations(setting):
    """{method: [(mean Spearman rho without the constant maps, how many constant maps) per step]}."""
    cnn, pictures, images = setting
    images, labels = images[:PICTURES], pictures.labels[:PICTURES]

    def explain_gradcam(model):
        with GradCAM(model) as gradcam:
            return maps_of(gradcam, images, labels)

    def explain_guided(model):
        return maps_of(lambda image, c: guided_backprop(model, image, c), images, labels)

    found = {}
    for method, explain in (("Grad-CAM", explain_gradcam), ("Guided Backprop", explain_guided)):
        cascade = cascading_randomization(cnn, LAYERS, explain)
        steps = [torch.tensor([spearman_rank_correlation(o, m) for o, m in zip(cascade["original"], maps)])
                 for maps in cascade.values()]
        found[method] = [(float(rho.nanmean()), int(rho.isnan().sum())) for rho in steps]
    return found


def test_randomising_the_classifier_changes_gradcam_and_hardly_guided_backprop(correlations):
    gradcam_after_fc, constant = correlations["Grad-CAM"][1]
    guided_after_fc, _ = correlations["Guided Backprop"][1]
    assert gradcam_after_fc < 0.6 and guided_after_fc > 0.85, correlations
    assert constant >= 1, "the notebook says some Grad-CAM maps become all zeros"


def test_guided_backprop_stays_closer_to_its_original_at_every_step(correlations):
    for (gradcam, _), (guided, _) in zip(correlations["Grad-CAM"][1:], correlations["Guided Backprop"][1:]):
        assert guided > gradcam, correlations


def test_guided_backprop_points_at_the_target_far_above_chance(setting):
    cnn, pictures, images = setting
    found = maps_of(lambda image, c: guided_backprop(cnn, image, c), images, pictures.labels)
    assert pointing_hits(found, pictures.boxes).float().mean().item() >= 0.9
    assert chance_rate(pictures.boxes, grid=64) < 0.1
