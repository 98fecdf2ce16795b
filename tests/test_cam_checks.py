"""Every check of notebook 01 accepts correct answers and rejects the plausible wrong ones.

Each wrong answer is fed to the visible check cell and to the hidden test cell
exactly as they stand in the solution notebook.
"""
import re

import pytest
import torch

from coursekit import explainers
from coursekit.hooks import capture_outputs
from notebook_cells import SHIPPED_ANSWER_ROWS, assert_stub_fails, run_cell, solution_namespace

ASSIGNMENT = "01_cam"


def features_of(model, image):
    """layer4 output (K, h, w) and logits, for building answers on any ResNet-like model."""
    with capture_outputs({"layer4": model.layer4}) as outputs, torch.no_grad():
        logits = model(image)[0]
    return outputs["layer4"][0], logits


def cam_of(model, image, target_class):
    features, _ = features_of(model, image)
    return torch.einsum("k,khw->hw", model.fc.weight.detach()[target_class], features)


# ---- compute_cam: correct variants -------------------------------------------------------------

def cam_with_matmul(model, image, target_class):
    features, _ = features_of(model, image)
    k, h, w = features.shape
    return (model.fc.weight[target_class] @ features.reshape(k, h * w)).reshape(h, w)  # keeps grad


def cam_by_broadcast_float64(model, image, target_class):
    features, _ = features_of(model, image)
    return (model.fc.weight.detach()[target_class, :, None, None] * features).sum(0).double()


CORRECT_CAMS = {"einsum": cam_of, "matmul_with_grad": cam_with_matmul, "broadcast_float64": cam_by_broadcast_float64}


# ---- compute_cam: plausible wrong answers, with the words the visible check must say -----------

def leaves_hook(model, image, target_class):
    model.layer4.register_forward_hook(lambda *args: None)
    return cam_of(model, image, target_class)


def leaves_train_mode(model, image, target_class):
    model.train()
    return cam_of(model, image, target_class)


def constant_with_right_mean(model, image, target_class):
    cam = cam_of(model, image, target_class)
    return torch.full_like(cam, float(cam.mean()))


def min_max_normalised(model, image, target_class):
    cam = cam_of(model, image, target_class)
    return (cam - cam.min()) / (cam.max() - cam.min() + 1e-8)


def calls_the_shipped_reference(model, image, target_class):
    from coursekit import explainers
    return explainers.compute_cam(model, image, target_class)


def hard_coded_7x7(model, image, target_class):
    return cam_of(model, image, target_class).reshape(7, 7)


WRONG_CAMS = {  # name: (answer, what the check raises, what its message must say)
    "another_class": (lambda m, x, c: cam_of(m, x, (c + 1) % m.fc.out_features), AssertionError,
                      "wrong values|logit"),
    "transposed": (lambda m, x, c: cam_of(m, x, c).T, AssertionError, r"wrong shape.*\(2, 3\), got \(3, 2\)"),
    "relu_applied": (lambda m, x, c: cam_of(m, x, c).relu(), AssertionError, "ReLU"),
    "min_max_normalised": (min_max_normalised, AssertionError, "ReLU|normal"),
    "constant_with_right_mean": (constant_with_right_mean, AssertionError, "wrong values"),
    "zeros": (lambda m, x, c: torch.zeros_like(cam_of(m, x, c)), AssertionError, "wrong values"),
    "channel_mean_not_sum": (lambda m, x, c: cam_of(m, x, c) / m.fc.in_features, AssertionError,
                             "wrong values|logit"),
    "batch_dim_kept": (lambda m, x, c: cam_of(m, x, c)[None], AssertionError,
                       r"expected \(2, 3\), got \(1, 2, 3\)"),
    "numpy_array": (lambda m, x, c: cam_of(m, x, c).numpy(), AssertionError, "torch.Tensor"),
    "hook_left_behind": (leaves_hook, AssertionError, "hook"),
    "train_mode_left": (leaves_train_mode, AssertionError, "train mode"),
    "hard_coded_7x7": (hard_coded_7x7, RuntimeError, "do not hard-code"),
    "calls_the_shipped_reference": (calls_the_shipped_reference, AssertionError, "implement this exercise yourself"),
    "is_the_shipped_reference": (explainers.compute_cam, AssertionError, "implement this exercise yourself"),
}


@pytest.fixture()
def namespace():
    return solution_namespace(ASSIGNMENT, "compute_cam", "top_class_cams")


@pytest.mark.parametrize("variant", CORRECT_CAMS)
def test_visible_and_hidden_cam_checks_accept_correct_answers(namespace, variant, capsys):
    namespace["compute_cam"] = CORRECT_CAMS[variant]
    run_cell(ASSIGNMENT, "compute_cam_visible", namespace)
    run_cell(ASSIGNMENT, "compute_cam_hidden", namespace)
    assert "all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", WRONG_CAMS)
def test_visible_cam_check_rejects_wrong_answer_with_a_helpful_message(namespace, wrong):
    answer, error, message = WRONG_CAMS[wrong]
    namespace["compute_cam"] = answer
    with pytest.raises(error) as failure:
        run_cell(ASSIGNMENT, "compute_cam_visible", namespace)
    text = "\n".join([str(failure.value), *getattr(failure.value, "__notes__", [])])
    assert re.search(message, text), text


@pytest.mark.parametrize("wrong", sorted(set(WRONG_CAMS) - {"hard_coded_7x7", *SHIPPED_ANSWER_ROWS}))
def test_hidden_cam_tests_reject_wrong_answer(namespace, wrong):
    namespace["compute_cam"] = WRONG_CAMS[wrong][0]
    with pytest.raises(AssertionError):
        run_cell(ASSIGNMENT, "compute_cam_hidden", namespace)


def test_hidden_cam_tests_reject_answers_hard_coded_for_the_visible_image(namespace):
    """An answer that memorised the visible check's image and classes fails at grading time."""
    visible = solution_namespace(ASSIGNMENT, "compute_cam")
    model = visible["load_resnet18"]()
    image = visible["preprocess_image"](visible["resource_path"]("chelsea.png"))
    features, _ = features_of(model, image)
    memorised = torch.einsum("ck,khw->chw", model.fc.weight.detach(), features)  # every class's CAM, one forward
    namespace["compute_cam"] = lambda m, x, c: memorised[c]
    with pytest.raises(AssertionError):
        run_cell(ASSIGNMENT, "compute_cam_hidden", namespace)


# ---- top_class_cams ---------------------------------------------------------------------------

def top_cams_of(model, image, k, order=slice(None)):
    features, logits = features_of(model, image)
    classes = torch.argsort(logits, descending=True)[:k].tolist()[order]
    return classes, torch.einsum("ck,khw->chw", model.fc.weight.detach()[classes], features)


def top_cams_by_repeated_forward(model, image, k):
    with torch.no_grad():
        classes = model(image)[0].topk(k).indices.tolist()
    return classes, torch.stack([cam_of(model, image, c) for c in classes])


def top_cams_of_first_classes(model, image, k):
    features, _ = features_of(model, image)
    return list(range(k)), torch.einsum("ck,khw->chw", model.fc.weight.detach()[:k], features)


def top_cams_with_mismatched_order(model, image, k):
    classes, cams = top_cams_of(model, image, k)
    return classes, cams.flip(0)


WRONG_TOP_CAMS = {
    "ascending_order": (lambda m, x, k: top_cams_of(m, x, k, slice(None, None, -1)), "descending"),
    "first_k_classes": (top_cams_of_first_classes, "descending"),
    "cams_in_wrong_order": (top_cams_with_mismatched_order, "wrong values"),
    "forward_per_class": (top_cams_by_repeated_forward, "forward passes"),
    "relu_applied": (lambda m, x, k: (top_cams_of(m, x, k)[0], top_cams_of(m, x, k)[1].relu()), "ReLU|wrong values"),
    "batch_dim_kept": (lambda m, x, k: (top_cams_of(m, x, k)[0], top_cams_of(m, x, k)[1][None]), "wrong shape"),
    "zeros": (lambda m, x, k: (top_cams_of(m, x, k)[0], torch.zeros_like(top_cams_of(m, x, k)[1])), "wrong values"),
    "numpy_cams": (lambda m, x, k: (top_cams_of(m, x, k)[0], top_cams_of(m, x, k)[1].numpy()), "torch.Tensor"),
}


def test_top_class_cams_checks_accept_the_numpy_free_list_and_tensor_answers(namespace, capsys):
    for answer in (top_cams_of, lambda m, x, k: tuple(top_cams_of(m, x, k))):
        namespace["top_class_cams"] = answer
        run_cell(ASSIGNMENT, "top_class_cams_visible", namespace)
        run_cell(ASSIGNMENT, "top_class_cams_hidden", namespace)
    assert capsys.readouterr().out.count("all checks passed") == 2


@pytest.mark.parametrize("wrong", WRONG_TOP_CAMS)
def test_visible_top_class_check_rejects_wrong_answer(namespace, wrong):
    answer, message = WRONG_TOP_CAMS[wrong]
    namespace["top_class_cams"] = answer
    with pytest.raises(AssertionError, match=message):
        run_cell(ASSIGNMENT, "top_class_cams_visible", namespace)


@pytest.mark.parametrize("wrong", sorted(set(WRONG_TOP_CAMS) - {"forward_per_class"}))
def test_hidden_top_class_tests_reject_wrong_answer(namespace, wrong):
    namespace["top_class_cams"] = WRONG_TOP_CAMS[wrong][0]
    with pytest.raises(AssertionError):
        run_cell(ASSIGNMENT, "top_class_cams_hidden", namespace)


# An answer to exercise 2 that calls exercise 1's compute_cam once per class (defined in the notebook's namespace,
# as a student's would be): it cannot pass (one forward per class), and when compute_cam is wrong that comes first.
TOP_CAMS_BY_COMPUTE_CAM = """
def top_class_cams(model, image_tensor, n=3):
    with torch.no_grad():
        classes = model(image_tensor)[0].topk(n).indices.tolist()
    return classes, torch.stack([compute_cam(model, image_tensor, c) for c in classes])
"""


@pytest.mark.parametrize("wrong_cam", ["relu_applied", "transposed", "hook_left_behind"])
def test_top_class_check_says_fix_exercise_1_first_when_the_compute_cam_it_calls_is_wrong(namespace, wrong_cam):
    namespace["compute_cam"] = WRONG_CAMS[wrong_cam][0]
    exec(TOP_CAMS_BY_COMPUTE_CAM, namespace)
    with pytest.raises(AssertionError, match="(?s)실습 1의 compute_cam이 실습 1의 확인을 통과하지 못합니다.*"
                                             "exercise 1's compute_cam, which does not pass"):
        run_cell(ASSIGNMENT, "top_class_cams_visible", namespace)


def test_top_class_check_says_one_compute_cam_per_class_is_one_forward_per_class(namespace):
    exec(TOP_CAMS_BY_COMPUTE_CAM, namespace)  # the notebook's compute_cam is right
    with pytest.raises(AssertionError, match="(?s)compute_cam을 클래스마다 부르면.*one forward per class"):
        run_cell(ASSIGNMENT, "top_class_cams_visible", namespace)


def test_top_class_check_does_not_blame_a_wrong_compute_cam_that_it_does_not_call(namespace):
    namespace["compute_cam"] = WRONG_CAMS["relu_applied"][0]
    namespace["top_class_cams"] = top_cams_of_first_classes
    with pytest.raises(AssertionError) as failure:
        run_cell(ASSIGNMENT, "top_class_cams_visible", namespace)
    assert "descending" in str(failure.value) and "exercise 1" not in str(failure.value)


def test_untouched_stubs_fail_every_check(namespace):
    def stub(*args):
        raise NotImplementedError()
    for name, cells in (("compute_cam", ("compute_cam_visible", "compute_cam_hidden")),
                        ("top_class_cams", ("top_class_cams_visible", "top_class_cams_hidden"))):
        namespace[name] = stub
        for cell in cells:
            assert_stub_fails(ASSIGNMENT, cell, namespace)
