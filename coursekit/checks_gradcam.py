"""Visible checks for notebook 02 (Grad-CAM): a tiny model with hand-computed maps, then
properties of the loaded ResNet18 that hold for any weights.

The tiny model (TinyGradCamNet) has 2 channels on a 2 x 3 grid (Z = 6 positions) and 3 classes.
Its target layer `features` is a 1x1 convolution with identity weights, so A = x:
    A^0 = [[1, 2, -1], [-2, 1, 3]],   A^1 = [[-1, 2, -2], [1, -3, -1]].
Then come ReLU(inplace=True), which overwrites the layer's output as the ReLU after bn1 does in
a BasicBlock, global average pooling and fc with rows w^0 = (1, 1), w^1 = (2, -1), w^2 = (-1, 3)
and biases (0.5, -0.5, 0.2). The pooled features are mean(relu(A^0)) = 7/6 and
mean(relu(A^1)) = 1/2, so the logits are (13/6, 4/3, 8/15).

Since y^c = sum_k w_k^c mean(relu(A^k)) + b_c, the gradient dy^c/dA^k_ij is w_k^c / Z where
A^k_ij > 0 and 0 elsewhere. A^0 has 4 positive entries and A^1 has 2, so the spatial means are
alpha^c = (w_0^c * 4 / 36, w_1^c * 2 / 36) = (w_0^c / 9, w_1^c / 18):
    class 0: alpha = (1/9, 1/18),  sum_k alpha_k A^k = [[1, 6, -4], [-3, -1, 5]] / 18,
             Grad-CAM = [[1, 6, 0], [0, 0, 5]] / 18;
    class 1: alpha = (2/9, -1/18), sum_k alpha_k A^k = [[5, 6, -2], [-9, 7, 13]] / 18,
             Grad-CAM = [[5, 6, 0], [0, 7, 13]] / 18.
At `relu` (R^k = relu(A^k)) the gradient is w_k^c / Z at every position, alpha^c = w^c / 6 and
Grad-CAM = ReLU(sum_k w_k^c R^k) / 6, the CAM identity in miniature:
    class 0: [[1, 4, 0], [1, 1, 3]] / 6;   class 1: [[2, 2, 0], [0, 2, 6]] / 6.

The plausible mistakes give other numbers at `features`: the sum of the gradients is 6 times
the map; without the ReLU, negative entries remain; a ReLU inside the sum, or an A kept without
clone() (so the in-place ReLU overwrote it), gives [[2, 6, 0], [1, 2, 6]] / 18 for class 0; the
softmax probability gives about [[0, 0.29, 0], [0.25, 0, 0]] / 18 for class 0; class 1's
gradients give class 1's map. The grid is not square, so a transposed map has the wrong shape.
A full backward hook on `features` fails here, because of the in-place ReLU after it.
"""
import torch
from torch import nn

from coursekit import checks, explainers
from coursekit.checks_cam import TINY_CAMS, TINY_INPUT as TINY_CAM_INPUT, TinyCamNet
from coursekit.checks_cam import _expect_model_untouched, _resnet_case
from coursekit.hooks import count_hooks

TINY_INPUT = torch.tensor([[[[1.0, 2.0, -1.0], [-2.0, 1.0, 3.0]],
                            [[-1.0, 2.0, -2.0], [1.0, -3.0, -1.0]]]])
TINY_GRADCAMS = {  # layer name: the Grad-CAMs of classes 0 and 1, worked out in the module docstring
    "features": torch.tensor([[[1.0, 6.0, 0.0], [0.0, 0.0, 5.0]], [[5.0, 6.0, 0.0], [0.0, 7.0, 13.0]]]) / 18,
    "relu": torch.tensor([[[1.0, 4.0, 0.0], [1.0, 1.0, 3.0]], [[2.0, 2.0, 0.0], [0.0, 2.0, 6.0]]]) / 6,
}
RESNET_LAYER_SIDES = {"layer1": 56, "layer2": 28, "layer3": 14, "layer4": 7}

_TINY_HINT = (
    "확인용 작은 모델의 특징맵은 (1, 2, 2, 3)이고, target layer 바로 뒤에 ReLU(inplace=True)가 옵니다. "
    "512나 7 같은 크기를 고정하지 말고, full backward hook 대신 tensor hook(output.register_hook)을 쓰세요.",
    "the tiny check model's feature map is (1, 2, 2, 3) and an in-place ReLU follows the target layer: "
    "do not hard-code 512 or 7, and use a tensor hook (output.register_hook) instead of a full backward hook.")
_TINY_LAYER_HINT = (
    "확인용 작은 모델에는 layer4가 없습니다: 인자로 받은 층(layers, target_layer)을 GradCAM에 넘기세요. "
    "실습 1의 GradCAM 확인을 먼저 통과하세요.",
    "the tiny check model has no layer4: pass the layers you are given (layers, target_layer) to GradCAM, "
    "and pass exercise 1's GradCAM check first.")
_GRADCAM_FIRST_HINT = ("이 함수는 실습 1의 GradCAM을 씁니다: 그 확인을 먼저 통과하세요.",
                       "this function uses exercise 1's GradCAM: pass its check first.")
_FORMULA_HINT = (
    "Grad-CAM = ReLU(sum_k alpha_k A^k)이고 alpha_k는 dy^c/dA^k의 공간 평균, y^c는 softmax 이전의 logit입니다. "
    "A는 clone()해서 저장하세요 (뒤따르는 in-place ReLU가 덮어씁니다).",
    "Grad-CAM = ReLU(sum_k alpha_k A^k), alpha_k = spatial mean of dy^c/dA^k, y^c = the pre-softmax logit; "
    "store A with clone() (a following in-place ReLU overwrites it).")


class TinyGradCamNet(nn.Module):
    """features (1x1 conv, identity) -> in-place ReLU -> global average pooling -> fc."""

    def __init__(self):
        super().__init__()
        self.features = nn.Conv2d(2, 2, kernel_size=1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2, 3)
        with torch.no_grad():
            self.features.weight.copy_(torch.eye(2).view(2, 2, 1, 1))
            self.fc.weight.copy_(torch.tensor([[1.0, 1.0], [2.0, -1.0], [-1.0, 3.0]]))
            self.fc.bias.copy_(torch.tensor([0.5, -0.5, 0.2]))
        self.eval()

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.relu(self.features(x))), 1))


# ---- diagnosis ------------------------------------------------------------------------------------

def _close(actual, reference):
    """Whether two maps agree within the checks' tolerance (shapes must match)."""
    actual, reference = actual.detach().double(), reference.double()
    return actual.shape == reference.shape and bool(
        torch.allclose(actual, reference, atol=1e-5 + 1e-3 * float(reference.abs().max()), rtol=1e-3))


def _diagnosis(actual, expected, other_class=None):
    """A hint (ko, en) naming the likely mistake behind a wrong map."""
    positions = expected.shape[-2] * expected.shape[-1]
    if float(actual.min()) < 0:
        return ("음수 값이 있습니다: 가중합 뒤에 ReLU를 적용했나요?",
                "the map has negative values: apply the ReLU after the weighted sum.")
    if _close(actual, expected * positions):
        return ("기대값의 정확히 h*w배입니다: gradient의 합이 아니라 평균으로 alpha를 구하세요.",
                "exactly h*w times the expected map: alpha is the mean of the gradient, not its sum.")
    if other_class is not None and _close(actual, other_class):
        return ("다른 클래스의 Grad-CAM입니다: 맵마다 그 클래스(target_class, classes[i])의 점수에서 backward 했는지 "
                "확인하세요.",
                "this is another class's Grad-CAM: backpropagate from the score of that map's class "
                "(target_class, classes[i]).")
    if float(actual.max() - actual.min()) <= 1e-12:
        return ("상수 맵입니다: 공간 정보가 없습니다.", "a constant map has no spatial information.")
    span = float(expected.max() - expected.min())
    if span > 0 and _close(actual, (expected - expected.min()) / span):
        return ("기대값을 최솟값–최댓값으로 정규화한 맵입니다: 원시 맵을 돌려주세요 (그림 함수가 정규화합니다).",
                "this is the expected map min-max normalised: return the raw map (the plots normalise).")
    return _FORMULA_HINT


def _expect_gradcam(actual, expected, name, other_class=None):
    """A map must have the expected shape and values; a wrong one gets a hint naming the likely mistake."""
    checks.expect_shape(actual, expected.shape, name)
    checks.expect_finite(actual, name)
    checks.expect_close(actual, expected, name, atol=1e-5 + 1e-3 * float(expected.abs().max()), rtol=1e-3,
                        hint=_diagnosis(actual, expected, other_class))


def _expect_cam_identity(gradcam, model, image, target_class, name):
    """Grad-CAM at model.layer4 must equal ReLU(CAM) / (h * w), for any weights (see notebook 02)."""
    cam = explainers.compute_cam(model, image, target_class)
    _expect_gradcam(gradcam, torch.relu(cam) / cam.numel(), f"{name}: ReLU(CAM) / {cam.numel()}")


def _expect_left_as_given(model, state):
    """No hooks, eval mode, unchanged weights and statistics, and no gradients left in .grad."""
    _expect_model_untouched(model, state)
    checks.expect_no_grad(model)


def _two_classes(logits):
    """The top class and the class ranked in the middle: a strong and a weak case."""
    order = logits.argsort(descending=True)
    return int(order[0]), int(order[len(order) // 2])


# ---- exercise 1: the GradCAM class --------------------------------------------------------------

def check_gradcam(GradCAM):
    """Visible checks for `GradCAM(model, target_layer=None)`, called as `cam(x, target_class)` -> (h, w)."""
    with checks.refusing_reference(GradCAM, explainers, "GradCAM"):
        _check_tiny_gradcam(GradCAM)
        _check_resnet_gradcam(GradCAM)
    checks.passed("GradCAM")


def _check_tiny_gradcam(GradCAM):
    tiny = TinyGradCamNet()
    state = checks.snapshot_state(tiny)
    expected = TINY_GRADCAMS["features"]
    with checks.call_with_hint(GradCAM, tiny, tiny.features, hint=_TINY_HINT) as cam:
        hooks_in_use = count_hooks(tiny)
        gradcam = checks.call_with_hint(cam, TINY_INPUT, 0, hint=_TINY_HINT)
        _expect_gradcam(gradcam, expected[0], "tiny model Grad-CAM (class 0)", other_class=expected[1])
        _expect_repeatable(cam, expected[0])
        _expect_gradcam(cam(TINY_INPUT, 1), expected[1], "tiny model Grad-CAM (class 1)", other_class=expected[0])
        _expect_hooks_not_stacked(tiny, hooks_in_use)
        _expect_usable_without_grad(tiny, cam, expected[0])
    _expect_left_as_given(tiny, state)


def _expect_repeatable(cam, expected):
    """A second call with the same input gives the same map: nothing accumulates between calls."""
    again = cam(TINY_INPUT, 0)
    checks.expect_close(again, expected, "tiny model Grad-CAM, second call (class 0)", hint=(
        "같은 입력으로 다시 부르면 같은 맵이 나와야 합니다: gradient가 호출마다 쌓이지 않는지 확인하세요.",
        "calling again with the same input must give the same map: make sure gradients do not accumulate."))


def _expect_hooks_not_stacked(model, hooks_in_use):
    """Calls must not register hooks that stay: re-running a cell or calling twice would stack them."""
    now = count_hooks(model)
    if now != hooks_in_use:
        checks.fail(f"호출할 때마다 hook이 늘어납니다 (생성 직후 {hooks_in_use}개, 호출 뒤 {now}개). "
                    "hook은 __init__에서 한 번만 등록하세요.",
                    f"hooks pile up with every call ({hooks_in_use} after construction, {now} after the calls): "
                    "register the hook once, in __init__")


def _expect_usable_without_grad(model, cam, expected):
    """While attached, the hook must not break a plain forward under torch.no_grad(), nor a call made there."""
    with torch.no_grad():
        checks.call_with_hint(model, TINY_INPUT, hint=(
            "GradCAM이 붙어 있는 동안 torch.no_grad() 안의 forward가 실패했습니다: "
            "output.requires_grad가 False이면 tensor hook을 등록하지 마세요.",
            "a forward under torch.no_grad() failed while the GradCAM was attached: "
            "register the tensor hook only if output.requires_grad"))
        gradcam = checks.call_with_hint(cam, TINY_INPUT, 0, hint=(
            "torch.no_grad() 안에서 불러도 동작해야 합니다: __call__의 forward/backward를 "
            "with torch.enable_grad(): 안에서 실행하세요.",
            "the call must also work under torch.no_grad(): run the forward and backward in "
            "`with torch.enable_grad():`"))
    _expect_gradcam(gradcam, expected, "tiny model Grad-CAM called under torch.no_grad() (class 0)")


def _check_resnet_gradcam(GradCAM):
    model, image, logits, state = _resnet_case()
    with GradCAM(model) as cam:
        gradcam = cam(image, _two_classes(logits)[0])
    checks.expect_shape(gradcam, (7, 7), "ResNet18 Grad-CAM at the default layer4[-1].conv2")
    _expect_nonnegative(gradcam, "ResNet18 Grad-CAM")
    with GradCAM(model, model.layer4) as cam:
        for target_class in _two_classes(logits):
            _expect_cam_identity(cam(image, target_class), model, image, target_class,
                                 f"ResNet18 Grad-CAM at model.layer4 (class {target_class})")
    _expect_left_as_given(model, state)


def _expect_nonnegative(gradcam, name):
    checks.expect_finite(gradcam, name)
    if float(gradcam.min()) < 0:
        checks.fail(f"{name}에 음수 값이 있습니다: 가중합 뒤에 ReLU를 적용하세요.",
                    f"{name} has negative values: apply the ReLU after the weighted sum")


def _call_untouched(function, model, *args, hint=_GRADCAM_FIRST_HINT):
    """Call function(model, *args), check that it leaves the model as it was given, and return the result."""
    state = checks.snapshot_state(model)
    result = checks.call_with_hint(function, model, *args, hint=hint)
    _expect_left_as_given(model, state)
    return result


# ---- exercise 2: Grad-CAM at several layers -----------------------------------------------------

def check_gradcams_at_layers(gradcams_at_layers):
    """Visible checks for `gradcams_at_layers(model, image_tensor, target_class, layers)` -> {name: map}."""
    with checks.refusing_reference(gradcams_at_layers, explainers, "GradCAM"):
        tiny = TinyGradCamNet()
        maps = _call_untouched(gradcams_at_layers, tiny, TINY_INPUT, 1, {"features": tiny.features, "relu": tiny.relu},
                               hint=_TINY_LAYER_HINT)
        _expect_layer_names(maps, ["features", "relu"])
        for name, gradcam in maps.items():
            _expect_gradcam(gradcam, TINY_GRADCAMS[name][1], f"tiny model maps['{name}'] (class 1)")

        model, image, logits, _ = _resnet_case()
        target_class = _two_classes(logits)[0]
        maps = _call_untouched(gradcams_at_layers, model, image, target_class,
                               {name: getattr(model, name) for name in RESNET_LAYER_SIDES})
        _expect_layer_names(maps, list(RESNET_LAYER_SIDES))
        for name, side in RESNET_LAYER_SIDES.items():
            checks.expect_shape(maps[name], (side, side), f"ResNet18 maps['{name}']")
            _expect_nonnegative(maps[name], f"ResNet18 maps['{name}']")
        _expect_cam_identity(maps["layer4"], model, image, target_class, "ResNet18 maps['layer4']")
    checks.passed("gradcams_at_layers")


def _expect_layer_names(maps, names):
    """The result is a dict with one map per layer, in the order the layers were given."""
    if not isinstance(maps, dict) or list(maps) != names:
        got = list(maps) if isinstance(maps, dict) else type(maps).__name__
        checks.fail(f"layers와 같은 이름, 같은 순서의 dict를 돌려주세요: 기대 {names}, 받은 값 {got}",
                    f"return a dict with the names of `layers`, in their order: expected {names}, got {got}")


# ---- exercise 3: one image, several classes -----------------------------------------------------

def check_gradcams_for_classes(gradcams_for_classes):
    """Visible checks for `gradcams_for_classes(model, image_tensor, classes, target_layer=None)` -> (n, h, w)."""
    with checks.refusing_reference(gradcams_for_classes, explainers, "GradCAM"):
        tiny = TinyGradCamNet()
        maps = _call_untouched(gradcams_for_classes, tiny, TINY_INPUT, [1, 0], tiny.features, hint=_TINY_LAYER_HINT)
        _expect_gradcam(maps, TINY_GRADCAMS["features"].flip(0), "tiny model maps for classes [1, 0]",
                        other_class=TINY_GRADCAMS["features"])

        model, image, logits, _ = _resnet_case()
        classes = list(_two_classes(logits))
        maps = _call_untouched(gradcams_for_classes, model, image, classes, model.layer4)
        checks.expect_shape(maps, (2, 7, 7), f"ResNet18 maps for classes {classes} at model.layer4")
        for index, target_class in enumerate(classes):
            _expect_cam_identity(maps[index], model, image, target_class, f"ResNet18 maps[{index}] (class {target_class})")
        checks.expect_shape(_call_untouched(gradcams_for_classes, model, image, classes[:1]), (1, 7, 7),
                            "ResNet18 maps at the default target layer")
    checks.passed("gradcams_for_classes")


# ---- exercise 4: Grad-CAM at layer4 and CAM ---------------------------------------------------------

def check_gradcam_vs_cam(gradcam_vs_cam):
    """Visible checks for `gradcam_vs_cam(model, image_tensor, target_class)` -> (Grad-CAM, ReLU(CAM) / (h*w))."""
    with checks.refusing_reference(gradcam_vs_cam, explainers, "GradCAM"):
        tiny = TinyCamNet()
        for target_class in (1, 2):
            pair = _call_untouched(gradcam_vs_cam, tiny, TINY_CAM_INPUT, target_class, hint=(
                "확인용 작은 모델(01의 TinyCamNet)에는 layer4 (특징맵 (1, 2, 2, 3))와 fc만 있습니다: "
                "GradCAM에 target_layer=model.layer4를 넘기고, 49나 7을 고정하지 말고 shape에서 구하세요.",
                "the tiny check model (notebook 01's TinyCamNet) has only layer4 (a (1, 2, 2, 3) feature map) "
                "and fc: pass target_layer=model.layer4 to GradCAM, and take h * w from the shape "
                "instead of hard-coding 49 or 7."))
            _expect_pair(pair, torch.relu(TINY_CAMS[target_class]) / 6, f"tiny model, class {target_class}")

        model, image, logits, _ = _resnet_case()
        target_class = _two_classes(logits)[0]
        cam = explainers.compute_cam(model, image, target_class)
        _expect_pair(_call_untouched(gradcam_vs_cam, model, image, target_class), torch.relu(cam) / 49,
                     f"ResNet18, class {target_class}")
    checks.passed("gradcam_vs_cam")


def _expect_pair(pair, expected, where):
    """Both returned maps equal ReLU(CAM) / (h * w)."""
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        checks.fail(f"{where}: 두 맵의 tuple (grad_cam, scaled_cam)을 돌려주세요: 받은 값의 타입 {type(pair).__name__}",
                    f"{where}: return a pair of maps (grad_cam, scaled_cam), got {type(pair).__name__}")
    grad_cam, scaled_cam = pair
    _expect_gradcam(grad_cam, expected, f"{where}: grad_cam (Grad-CAM at model.layer4)")
    _expect_gradcam(scaled_cam, expected, f"{where}: scaled_cam = ReLU(CAM) / (h * w)")
