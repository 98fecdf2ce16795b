"""What notebook 05's text says of the shipped toy CNN, checked, so that the text cannot go stale.

Section 5: randomising the top layer (fc) changes Grad-CAM's maps a lot and Guided Backprop's hardly at all,
and some Grad-CAM maps become all zeros (the notebook leaves them out of the mean). Section 6: Guided
Backprop points at the target about as often as Grad-CAM, far above chance. Section 7: both orders delete and
insert far better than a random one, and Guided Backprop's maps of a model whose classifier is re-initialised are
as faithful to the trained model as its own, which Grad-CAM's are not. Same pictures and steps as the notebook;
the cascade, the correlation and the curves are the notebook's own answers (coursekit.answers.trust).
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


DELETION_PICTURES = 40         # notebook 05, section 7.1


@pytest.fixture(scope="module")
def faithfulness(setting):
    """Mean deletion and insertion AUCs on the trained toy CNN, as section 7.1 computes them, for the maps of the
    trained CNN and of a copy whose fc is re-initialised (torch.manual_seed(0), as the notebook does)."""
    import copy

    import torch.nn.functional as F

    from coursekit.answers.trust import area_under_curve, replacement_curve
    from coursekit.sanity import reinitialise

    cnn, pictures, images = setting
    images, labels = images[:DELETION_PICTURES], pictures.labels[:DELETION_PICTURES]
    grey = torch.zeros_like(images)
    blurred = F.avg_pool2d(F.pad(images, (5, 5, 5, 5), mode="replicate"), kernel_size=11, stride=1)
    noise = torch.rand(len(labels), 64, 64, generator=torch.Generator().manual_seed(0))
    broken = copy.deepcopy(cnn)
    torch.manual_seed(0)
    reinitialise(broken.fc)

    def orders(model):
        with GradCAM(model) as gradcam:
            coarse = maps_of(gradcam, images, labels)
        return {"Grad-CAM": F.interpolate(coarse[:, None], size=64, mode="bilinear")[:, 0],
                "Guided Backprop": maps_of(lambda image, c: guided_backprop(model, image, c), images, labels)}

    def mean_auc(maps, start, end):
        return sum(area_under_curve(replacement_curve(cnn, start[i:i + 1], end[i:i + 1], maps[i], int(labels[i])))
                   for i in range(len(labels))) / len(labels)

    found = {"random": {"deletion": mean_auc(noise, images, grey), "insertion": mean_auc(noise, blurred, images)}}
    for method, maps in orders(cnn).items():
        found[method] = {"deletion": mean_auc(maps, images, grey), "insertion": mean_auc(maps, blurred, images)}
    for method, maps in orders(broken).items():
        found[f"{method} of the broken model"] = {"deletion": mean_auc(maps, images, grey)}
    return found


@pytest.mark.parametrize("method", ["Grad-CAM", "Guided Backprop"])
def test_both_maps_are_far_more_faithful_than_a_random_order(faithfulness, method):
    assert faithfulness[method]["deletion"] < faithfulness["random"]["deletion"] - 0.15, faithfulness
    assert faithfulness[method]["insertion"] > faithfulness["random"]["insertion"] + 0.15, faithfulness


def test_guided_backprop_without_the_classifier_is_as_faithful_and_gradcam_is_not(faithfulness):
    guided, gradcam = faithfulness["Guided Backprop"]["deletion"], faithfulness["Grad-CAM"]["deletion"]
    assert abs(faithfulness["Guided Backprop of the broken model"]["deletion"] - guided) < 0.05, faithfulness
    assert faithfulness["Grad-CAM of the broken model"]["deletion"] > gradcam + 0.1, faithfulness
