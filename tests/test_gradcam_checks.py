"""Every check of notebook 02 accepts correct answers and rejects the plausible wrong ones.

Each answer is fed to the visible check cell and to the hidden test cell exactly as
they stand in the solution notebook. The Grad-CAM classes below are written for these
tests only: a cut-at-the-layer design (the target layer's output is replaced by a
detached leaf, so torch.autograd.grad gives dy^c/dA) and a tensor-hook design, each
with one deliberate mistake per variant.
"""
import re

import pytest
import torch

from coursekit import explainers
from coursekit.explainers import compute_cam
from notebook_cells import SHIPPED_ANSWER_ROWS, assert_stub_fails, failure_text, run_cell, solution_namespace

ASSIGNMENT = "02_gradcam"
EXERCISES = ("gradcam_class", "gradcams_at_layers", "gradcams_for_classes", "gradcam_vs_cam")


# ---- Grad-CAM classes for the tests ------------------------------------------------------------

class LeafGradCAM:
    """Correct: the hook hands the network a copy of a detached leaf A, and autograd.grad(score, A) gives dy^c/dA."""

    def __init__(self, model, target_layer=None):
        self.model = model
        self.layer = model.layer4[-1].conv2 if target_layer is None else target_layer
        self.handle = self.layer.register_forward_hook(self.cut)

    def cut(self, module, inputs, output):
        self.leaf = output.detach().requires_grad_()
        return self.leaf.clone()  # in-place ops after the layer change the copy

    def score(self, logits, target_class):
        return logits[0, target_class]

    def weights(self, gradient):
        return gradient.mean(dim=(1, 2))

    def combine(self, alpha, activation):
        return torch.relu(torch.tensordot(alpha, activation, dims=1))

    def gradient(self, score):
        return torch.autograd.grad(score, self.leaf)[0][0]

    def __call__(self, x, target_class):
        with torch.enable_grad():
            score = self.score(self.model(x), target_class)
            gradient = self.gradient(score)
        return self.combine(self.weights(gradient), self.leaf[0].detach())

    def remove(self):
        self.handle.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class TensorHookGradCAM(LeafGradCAM):
    """Correct: keeps a copy of A and receives dy^c/dA through a tensor hook, clearing .grad afterwards."""

    def cut(self, module, inputs, output):
        self.leaf = output.detach().clone()
        if output.requires_grad:
            output.register_hook(self.keep_gradient)

    def keep_gradient(self, gradient):
        self.received = gradient

    def gradient(self, score):
        score.backward()
        self.model.zero_grad(set_to_none=True)
        return self.received[0]


class ReturnsACopyGradCAM(LeafGradCAM):
    """Correct: keeps the layer's own output A and hands the network a copy, then autograd.grad(score, A)."""

    def cut(self, module, inputs, output):
        self.leaf = output
        return output.clone()


class HooksPerCallGradCAM(LeafGradCAM):
    """Correct: registers its hook for each call and removes it before returning; remove() has nothing to do."""

    def __init__(self, model, target_layer=None):
        self.model = model
        self.layer = model.layer4[-1].conv2 if target_layer is None else target_layer

    def __call__(self, x, target_class):
        self.handle = self.layer.register_forward_hook(self.cut)
        try:
            return super().__call__(x, target_class)
        finally:
            self.handle.remove()

    def remove(self):
        pass


class Float64GradCAM(LeafGradCAM):
    """Correct: returns the map in float64."""

    def combine(self, alpha, activation):
        return super().combine(alpha, activation).double()


CORRECT_GRADCAMS = {answer.__name__: answer for answer in (LeafGradCAM, TensorHookGradCAM, ReturnsACopyGradCAM,
                                                           HooksPerCallGradCAM, Float64GradCAM)}


# ---- plausible wrong Grad-CAM classes ----------------------------------------------------------

class SumOfGradients(LeafGradCAM):
    def weights(self, gradient):
        return gradient.sum(dim=(1, 2))


class SoftmaxProbability(LeafGradCAM):
    def score(self, logits, target_class):
        return logits.softmax(dim=1)[0, target_class]


class LogSoftmax(LeafGradCAM):
    def score(self, logits, target_class):
        return logits.log_softmax(dim=1)[0, target_class]


class CrossEntropyLoss(LeafGradCAM):
    """Backpropagates the training loss for the target class, as a training loop would."""

    def score(self, logits, target_class):
        return torch.nn.functional.cross_entropy(logits, torch.tensor([target_class]))


class NoRelu(LeafGradCAM):
    def combine(self, alpha, activation):
        return torch.tensordot(alpha, activation, dims=1)


class ReluBeforeSum(LeafGradCAM):
    def combine(self, alpha, activation):
        return torch.relu(alpha[:, None, None] * activation).sum(dim=0)


class ReluOnAlpha(LeafGradCAM):
    def weights(self, gradient):
        return torch.relu(gradient.mean(dim=(1, 2)))


class AnotherClass(LeafGradCAM):
    def score(self, logits, target_class):
        return logits[0, (target_class + 1) % logits.shape[1]]


class ConstantMap(LeafGradCAM):
    def combine(self, alpha, activation):
        heatmap = super().combine(alpha, activation)
        return torch.full_like(heatmap, float(heatmap.mean()))


class MinMaxNormalised(LeafGradCAM):
    def combine(self, alpha, activation):
        heatmap = super().combine(alpha, activation)
        return (heatmap - heatmap.min()) / (heatmap.max() - heatmap.min() + 1e-8)


class BatchDimKept(LeafGradCAM):
    def combine(self, alpha, activation):
        return super().combine(alpha, activation)[None]


class Transposed(LeafGradCAM):
    def combine(self, alpha, activation):
        return super().combine(alpha, activation).T


class NumpyMap(LeafGradCAM):
    def combine(self, alpha, activation):
        return super().combine(alpha, activation).numpy()


class ActivationNotCloned(LeafGradCAM):
    """Keeps the layer's own output: an in-place op after the layer overwrites it (and its graph)."""

    def cut(self, module, inputs, output):
        self.leaf = output


class CopyNotReturned(ReturnsACopyGradCAM):
    """Keeps A and differentiates with respect to it, but the copy it makes is not what the network uses."""

    def cut(self, module, inputs, output):
        self.leaf = output
        output.clone()


class TensorHookWithoutClone(TensorHookGradCAM):
    def cut(self, module, inputs, output):
        super().cut(module, inputs, output)
        self.leaf = output


class FullBackwardHook(TensorHookGradCAM):
    """The original course notebook's design: a module backward hook on the target layer."""

    def __init__(self, model, target_layer=None):
        super().__init__(model, target_layer)
        self.backward_handle = self.layer.register_full_backward_hook(
            lambda module, grad_input, grad_output: setattr(self, "received", grad_output[0]))

    def cut(self, module, inputs, output):
        self.leaf = output.detach().clone()

    def remove(self):
        super().remove()
        self.backward_handle.remove()


class UnguardedTensorHook(TensorHookGradCAM):
    def cut(self, module, inputs, output):
        self.leaf = output.detach().clone()
        output.register_hook(self.keep_gradient)  # fails when output does not require grad


class NoEnableGrad(TensorHookGradCAM):
    def __call__(self, x, target_class):
        score = self.score(self.model(x), target_class)
        return self.combine(self.weights(self.gradient(score)), self.leaf[0])


class GradLeftOnParameters(TensorHookGradCAM):
    def gradient(self, score):
        score.backward()
        return self.received[0]


class GradientsAddUpOverCalls(TensorHookGradCAM):
    def keep_gradient(self, gradient):
        self.received = gradient + getattr(self, "received", 0)


class TrainMode(LeafGradCAM):
    def __call__(self, x, target_class):
        self.model.train()
        return super().__call__(x, target_class)


class HookNeverRemoved(LeafGradCAM):
    def remove(self):
        pass


class HookPerCallNeverRemoved(LeafGradCAM):
    """Registers another hook at every call, as a cell run again does; remove() removes only the last one."""

    def __call__(self, x, target_class):
        self.handle = self.layer.register_forward_hook(self.cut)
        return super().__call__(x, target_class)


class CallsTheShippedReference(LeafGradCAM):
    def __call__(self, x, target_class):
        with explainers.GradCAM(self.model) as cam:
            return cam(x, target_class)


class SubclassesTheShippedReference(explainers.GradCAM):
    pass


WRONG_GRADCAMS = {  # name: (class, what the visible check's message must say)
    "sum_of_gradients": (SumOfGradients, "not its sum"),
    "softmax_probability": (SoftmaxProbability, "(?s)softmax 확률 p_c를 점수로 삼아.*softmax probability p_c taken as the score.*pre-softmax"),
    "log_softmax": (LogSoftmax, "(?s)log-softmax.*pre-softmax"),
    "cross_entropy_loss": (CrossEntropyLoss, "(?s)cross-entropy 손실 -log p_c를.*cross-entropy loss.*pre-softmax"),
    "no_relu": (NoRelu, "negative values"),
    "relu_before_sum": (ReluBeforeSum, "wrong values.*ReLU applied per channel"),
    "relu_on_alpha": (ReluOnAlpha, "wrong values.*ReLU on alpha"),
    "gradients_of_another_class": (AnotherClass, "another class"),
    "constant_map": (ConstantMap, "constant map"),
    "min_max_normalised": (MinMaxNormalised, "raw map"),
    "batch_dim_kept": (BatchDimKept, r"expected \(2, 3\), got \(1, 2, 3\)"),
    "transposed": (Transposed, r"expected \(2, 3\), got \(3, 2\)"),
    "numpy_map": (NumpyMap, "torch.Tensor"),
    "activation_not_cloned": (ActivationNotCloned, r"(?s)clone\(\)이 빠졌습니다.*clone\(\) is missing"),
    "copy_not_returned": (CopyNotReturned, r"clone\(\) is missing"),
    "tensor_hook_without_clone": (TensorHookWithoutClone, r"clone\(\) is missing"),
    "full_backward_hook": (FullBackwardHook, "tensor hook"),
    "unguarded_tensor_hook": (UnguardedTensorHook, "requires_grad"),
    "no_enable_grad": (NoEnableGrad, "enable_grad"),
    "grad_left_on_parameters": (GradLeftOnParameters, "zero_grad"),
    "gradients_add_up_over_calls": (GradientsAddUpOverCalls, "second call"),
    "train_mode": (TrainMode, "train mode"),
    "hook_never_removed": (HookNeverRemoved, "hook"),
    "hook_per_call_never_removed": (HookPerCallNeverRemoved, "pile up"),
    "calls_the_shipped_reference": (CallsTheShippedReference, "implement this exercise yourself"),
    "subclasses_the_shipped_reference": (SubclassesTheShippedReference, "implement this exercise yourself"),
    "is_the_shipped_reference": (explainers.GradCAM, "implement this exercise yourself"),
}
# ---- exercise 2: gradcams_at_layers ------------------------------------------------------------

def maps_at_layers(model, image, target_class, layers, gradcam=LeafGradCAM):
    maps = {}
    for name, layer in layers.items():
        with gradcam(model, layer) as cam:
            maps[name] = cam(image, target_class)
    return maps


def maps_at_layers_leaving_hooks(model, image, target_class, layers):
    return {name: TensorHookGradCAM(model, layer)(image, target_class) for name, layer in layers.items()}


def maps_at_the_default_layer(model, image, target_class, layers):
    with LeafGradCAM(model) as cam:
        return {name: cam(image, target_class) for name in layers}


def maps_with_the_shipped_reference(model, image, target_class, layers):
    return maps_at_layers(model, image, target_class, layers, gradcam=explainers.GradCAM)


CORRECT_LAYER_MAPS = {
    "leaf": maps_at_layers,
    "tensor_hook": lambda m, x, c, layers: maps_at_layers(m, x, c, layers, gradcam=TensorHookGradCAM),
}
WRONG_LAYER_MAPS = {  # name: (answer, what the visible check's message must say)
    "hooks_left": (maps_at_layers_leaving_hooks, "hook"),
    "default_layer_for_all": (maps_at_the_default_layer, "pass the layers you are given"),
    "list_not_dict": (lambda m, x, c, layers: list(maps_at_layers(m, x, c, layers).values()), "dict"),
    "reversed_order": (lambda m, x, c, layers: dict(reversed(maps_at_layers(m, x, c, layers).items())), "order"),
    "sum_of_gradients": (lambda m, x, c, layers: maps_at_layers(m, x, c, layers, gradcam=SumOfGradients),
                         "not its sum"),
    "no_relu": (lambda m, x, c, layers: maps_at_layers(m, x, c, layers, gradcam=NoRelu), "negative"),
    "activation_not_cloned": (lambda m, x, c, layers: maps_at_layers(m, x, c, layers, gradcam=ActivationNotCloned),
                              r"clone\(\) is missing"),
    "softmax_probability": (lambda m, x, c, layers: maps_at_layers(m, x, c, layers, gradcam=SoftmaxProbability),
                            "softmax probability"),
    "calls_the_shipped_reference": (maps_with_the_shipped_reference, "implement this exercise yourself"),
}


# ---- exercise 3: gradcams_for_classes ----------------------------------------------------------

def maps_for_classes(model, image, classes, target_layer=None, gradcam=LeafGradCAM):
    with gradcam(model, target_layer) as cam:
        return torch.stack([cam(image, c) for c in classes])


def maps_for_classes_leaving_hooks(model, image, classes, target_layer=None):
    cam = TensorHookGradCAM(model, target_layer)
    return torch.stack([cam(image, c) for c in classes])


CORRECT_CLASS_MAPS = {
    "leaf": maps_for_classes,
    "one_gradcam_per_class_float64": lambda m, x, classes, layer=None: torch.stack(
        [maps_for_classes(m, x, [c], layer, gradcam=Float64GradCAM)[0] for c in classes]),
}
WRONG_CLASS_MAPS = {
    "reversed_classes": (lambda m, x, classes, layer=None: maps_for_classes(m, x, classes, layer).flip(0),
                         "another class"),
    "first_class_for_all": (lambda m, x, classes, layer=None: maps_for_classes(m, x, classes[:1] * len(classes), layer),
                            "another class|wrong values"),
    "target_layer_ignored": (lambda m, x, classes, layer=None: maps_for_classes(m, x, classes),
                             "pass the layers you are given"),
    "list_of_maps": (lambda m, x, classes, layer=None: list(maps_for_classes(m, x, classes, layer)), "torch.Tensor"),
    "hooks_left": (maps_for_classes_leaving_hooks, "hook"),
    "softmax_probability": (lambda m, x, classes, layer=None: maps_for_classes(
        m, x, classes, layer, gradcam=SoftmaxProbability), "wrong values.*softmax probability"),
    "activation_not_cloned": (lambda m, x, classes, layer=None: maps_for_classes(
        m, x, classes, layer, gradcam=TensorHookWithoutClone), r"clone\(\) is missing"),
    "calls_the_shipped_reference": (lambda m, x, classes, layer=None: maps_for_classes(
        m, x, classes, layer, gradcam=explainers.GradCAM), "implement this exercise yourself"),
}


# ---- exercise 4: gradcam_vs_cam ------------------------------------------------------------------

def pair_of_maps(model, image, target_class, gradcam_layer=None, scale=None, relu=torch.relu):
    with LeafGradCAM(model, model.layer4 if gradcam_layer is None else gradcam_layer(model)) as cam:
        grad_cam = cam(image, target_class)
    cam_map = compute_cam(model, image, target_class)
    return grad_cam, relu(cam_map) / (cam_map.numel() if scale is None else scale)


CORRECT_PAIRS = {
    "shared_compute_cam": pair_of_maps,
    "as_a_list": lambda m, x, c: list(pair_of_maps(m, x, c)),
}
WRONG_PAIRS = {
    "cam_without_relu": (lambda m, x, c: pair_of_maps(m, x, c, relu=lambda t: t), "negative"),
    "hard_coded_49": (lambda m, x, c: pair_of_maps(m, x, c, scale=49), "wrong values"),
    "cam_not_scaled": (lambda m, x, c: pair_of_maps(m, x, c, scale=1), "not its sum"),
    "gradcam_at_the_default_layer": (lambda m, x, c: pair_of_maps(m, x, c, gradcam_layer=lambda m: m.layer4[-1].conv2),
                                     "target_layer=model.layer4"),
    "single_map": (lambda m, x, c: pair_of_maps(m, x, c)[0], "pair"),
    "calls_the_shipped_reference": (lambda m, x, c: (explainers.GradCAM(m, m.layer4)(x, c),) * 2,
                                    "implement this exercise yourself"),
}


# ---- the tests: every table above, fed to the cells as they stand in the notebook ----------------

NAMES = {"gradcam_class": "GradCAM", "gradcams_at_layers": "gradcams_at_layers",
         "gradcams_for_classes": "gradcams_for_classes", "gradcam_vs_cam": "gradcam_vs_cam"}
CORRECT = {"gradcam_class": CORRECT_GRADCAMS, "gradcams_at_layers": CORRECT_LAYER_MAPS,
           "gradcams_for_classes": CORRECT_CLASS_MAPS, "gradcam_vs_cam": CORRECT_PAIRS}
WRONG = {"gradcam_class": WRONG_GRADCAMS, "gradcams_at_layers": WRONG_LAYER_MAPS,
         "gradcams_for_classes": WRONG_CLASS_MAPS, "gradcam_vs_cam": WRONG_PAIRS}
VISIBLE_ONLY = {
    ("gradcam_class", "unguarded_tensor_hook"),  # the hidden test runs no plain forward under no_grad
    ("gradcam_vs_cam", "hard_coded_49"),         # right for ResNet18; the visible tiny model has Z = 6
}
CORRECT_CASES = [(exercise, name) for exercise, table in CORRECT.items() for name in table]
WRONG_CASES = [(exercise, name) for exercise, table in WRONG.items() for name in table]


@pytest.fixture()
def namespace():
    return solution_namespace(ASSIGNMENT, *EXERCISES)



@pytest.mark.parametrize("exercise, variant", CORRECT_CASES)
def test_visible_and_hidden_checks_accept_correct_answers(namespace, exercise, variant, capsys):
    namespace[NAMES[exercise]] = CORRECT[exercise][variant]
    run_cell(ASSIGNMENT, f"{exercise}_visible", namespace)
    run_cell(ASSIGNMENT, f"{exercise}_hidden", namespace)
    assert "all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("exercise, wrong", WRONG_CASES)
def test_visible_check_rejects_wrong_answer_with_a_helpful_message(namespace, exercise, wrong):
    answer, message = WRONG[exercise][wrong]
    namespace[NAMES[exercise]] = answer
    with pytest.raises(Exception) as failure:
        run_cell(ASSIGNMENT, f"{exercise}_visible", namespace)
    assert re.search(message, failure_text(failure)), failure_text(failure)


@pytest.mark.parametrize("exercise, wrong", sorted(c for c in set(WRONG_CASES) - VISIBLE_ONLY if c[1] not in SHIPPED_ANSWER_ROWS))
def test_hidden_tests_reject_wrong_answer(namespace, exercise, wrong):
    namespace[NAMES[exercise]] = WRONG[exercise][wrong][0]
    with pytest.raises(Exception):
        run_cell(ASSIGNMENT, f"{exercise}_hidden", namespace)


def test_hidden_gradcam_tests_reject_maps_memorised_for_the_visible_image(namespace):
    """An answer that returns maps computed beforehand for the visible check's image fails at grading time."""
    image = namespace["preprocess_image"](namespace["resource_path"]("chelsea.png"))
    memorised = {}

    class Memorised(LeafGradCAM):
        def __call__(self, x, target_class):
            key = (id(self.layer), target_class)
            if key not in memorised:
                memorised[key] = super().__call__(image, target_class)
            return memorised[key]

    namespace["GradCAM"] = Memorised
    with pytest.raises(AssertionError, match="differs from the grader's result"):
        run_cell(ASSIGNMENT, "gradcam_class_hidden", namespace)


BLAMED_GRADCAMS = [(exercise, wrong) for exercise in EXERCISES[1:] for wrong in ("softmax_probability", "no_relu")] + [
    ("gradcams_at_layers", "activation_not_cloned"), ("gradcams_for_classes", "activation_not_cloned")]
# (gradcam_vs_cam uses GradCAM at layer4 of models where no in-place op follows it: a missing clone() does no harm there)


@pytest.mark.parametrize("exercise, wrong", BLAMED_GRADCAMS)
def test_later_checks_say_pass_exercise_1_first_when_the_gradcam_they_use_is_wrong(namespace, exercise, wrong):
    """The notebook's own answers to exercises 2-4 use the namespace's GradCAM: a wrong one is named as the cause."""
    namespace["GradCAM"] = WRONG_GRADCAMS[wrong][0]
    with pytest.raises(AssertionError, match="(?s)실습 1의 GradCAM이 실습 1의 확인을 통과하지 못합니다.*"
                                             "exercise 1's GradCAM, which does not pass"):
        run_cell(ASSIGNMENT, f"{exercise}_visible", namespace)


def test_untouched_stubs_fail_every_check(namespace):
    def stub(*args):
        raise NotImplementedError()

    class StubGradCAM(LeafGradCAM):
        __call__ = stub

    namespace["GradCAM"] = StubGradCAM
    for name in EXERCISES[1:]:
        namespace[name] = stub
    for exercise in EXERCISES:
        for cell in (f"{exercise}_visible", f"{exercise}_hidden"):
            assert_stub_fails(ASSIGNMENT, cell, namespace)
