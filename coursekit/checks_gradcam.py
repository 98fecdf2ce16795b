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

Two of these mistakes give the same map for class 0, so a wrong map is diagnosed in this order:
an answer that is right on the same model with an out-of-place ReLU (TinyGradCamNet(inplace=False))
kept a tensor that the in-place ReLU overwrote (a missing clone(), whatever the implementation:
tensor hook, or torch.autograd.grad with respect to the stored activation); then the maps that other
scores (softmax probability, log-softmax, cross-entropy loss) and misplaced ReLUs give, computed by
`_tiny_gradcam` with autograd on the tiny model's head; then the generic symptoms.
"""
from contextlib import contextmanager

import torch
from torch import nn

from coursekit import checks, explainers
from coursekit.checks_cam import CHECK_IMAGE, TINY_CAMS, TINY_INPUT as TINY_CAM_INPUT, TinyCamNet
from coursekit.hooks import count_hooks
from coursekit.messages import particle

TINY_INPUT = torch.tensor([[[[1.0, 2.0, -1.0], [-2.0, 1.0, 3.0]],
                            [[-1.0, 2.0, -2.0], [1.0, -3.0, -1.0]]]])
TINY_GRADCAMS = {  # layer name: the Grad-CAMs of classes 0 and 1, worked out in the module docstring
    "features": torch.tensor([[[1.0, 6.0, 0.0], [0.0, 0.0, 5.0]], [[5.0, 6.0, 0.0], [0.0, 7.0, 13.0]]]) / 18,
    "relu": torch.tensor([[[1.0, 4.0, 0.0], [1.0, 1.0, 3.0]], [[2.0, 2.0, 0.0], [0.0, 2.0, 6.0]]]) / 6,
}
RESNET_LAYER_SIDES = {"layer1": 56, "layer2": 28, "layer3": 14, "layer4": 7}

_TINY_HINT = (
    "확인용 작은 모델의 특징맵은 (1, 2, 2, 3)이고, 목표 층 바로 뒤에 ReLU(inplace=True)가 옵니다. "
    "512나 7 같은 크기를 고정하지 마세요. module backward hook은 이런 층에서 실패하니 tensor hook(output.register_hook)이나 "
    "torch.autograd.grad를 쓰세요.",
    "the tiny check model's feature map is (1, 2, 2, 3) and an in-place ReLU follows the target layer: "
    "do not hard-code 512 or 7; a module backward hook fails on such a layer, so use a tensor hook "
    "(output.register_hook) or torch.autograd.grad.")
_TINY_LAYER_HINT = (
    "확인용 작은 모델에는 layer4가 없습니다: 인자로 받은 층(layers, target_layer)을 GradCAM에 넘기세요.",
    "the tiny check model has no layer4: pass the layers you are given (layers, target_layer) to GradCAM.")
_FORMULA_HINT = (
    "Grad-CAM = ReLU(Σ_k α_k A^k)이고, α_k는 dy^c/dA^k의 공간 평균, y^c는 softmax 이전의 logit입니다.",
    "Grad-CAM = ReLU(sum_k alpha_k A^k), alpha_k = spatial mean of dy^c/dA^k, y^c = the pre-softmax logit.")
_CLONE_HINT = (
    "목표 층 뒤에 in-place ReLU가 없는 같은 모델에서는 맞는 맵이 나옵니다: 저장해 둔 텐서를 in-place 연산이 덮어썼습니다. "
    "clone()이 빠졌습니다. forward hook에서 A를 output.detach().clone()으로 복사해 두거나, "
    "torch.autograd.grad로 A에 대해 미분한다면 hook이 output.clone()을 돌려주게 해서 뒤의 층이 복사본을 덮어쓰게 하세요.",
    "the same model without an in-place ReLU after the target layer gives the right map: an in-place op overwrote "
    "the tensor you kept. clone() is missing: keep A as output.detach().clone() in the forward hook, or, if you "
    "differentiate with torch.autograd.grad with respect to A, return output.clone() from the hook so that the "
    "layers after it overwrite the copy.")
_SCORE_HINT = ("Grad-CAM의 점수는 softmax 이전의 logit y^c = logits[0, target_class]입니다. softmax를 거친 값의 gradient에는 "
               "다른 클래스의 점수가 섞여 들어가고, 모델이 확신할수록 0에 가까워집니다.",
               "Grad-CAM's score is the pre-softmax logit y^c = logits[0, target_class]: the gradient of the "
               "softmax mixes in the other classes' scores and vanishes as the model grows confident.")
_SCORE_MISTAKES = (  # (score of (logits, class), what it is in Korean, in English)
    (lambda logits, c: logits.softmax(dim=0)[c], "softmax 확률 p_c", "the softmax probability p_c"),
    (lambda logits, c: logits.log_softmax(dim=0)[c], "log-softmax log p_c", "the log-softmax log p_c"),
    (lambda logits, c: -logits.log_softmax(dim=0)[c], "cross-entropy 손실 -log p_c", "the cross-entropy loss -log p_c"),
)
_RELU_MISTAKES = (  # (map from alpha and A, hint)
    (lambda alpha, a: torch.relu(alpha[:, None, None] * a).sum(dim=0),
     ("ReLU를 채널마다 먼저 적용한 맵입니다: 채널의 기여가 서로 상쇄되도록 가중합을 먼저 구하고, ReLU는 그 *뒤에* 한 번 적용하세요.",
      "that is the map with the ReLU applied per channel: take the weighted sum first, so that channels can cancel, "
      "and apply the ReLU once, after it.")),
    (lambda alpha, a: torch.relu((torch.relu(alpha)[:, None, None] * a).sum(dim=0)),
     ("alpha에 ReLU를 적용한 맵입니다: 음수 α_k도 그대로 가중합에 넣고, ReLU는 가중합 뒤에만 적용하세요.",
      "that is the map with a ReLU on alpha: keep negative alpha_k in the weighted sum, and apply the ReLU only after it.")),
)


class TinyGradCamNet(nn.Module):
    """features (1x1 conv, identity) -> ReLU (in place unless inplace=False) -> global average pooling -> fc."""

    def __init__(self, inplace=True):
        super().__init__()
        self.features = nn.Conv2d(2, 2, kernel_size=1, bias=False)
        self.relu = nn.ReLU(inplace=inplace)
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
    if not isinstance(actual, torch.Tensor) or actual.shape != reference.shape:
        return False
    actual, reference = actual.detach().double(), reference.double()
    return bool(torch.allclose(actual, reference, atol=1e-5 + 1e-3 * float(reference.abs().max()), rtol=1e-3))


def _tiny_gradcam(layer, target_class, score=lambda logits, c: logits[c], combine=None):
    """TinyGradCamNet's Grad-CAM at `layer` ("features" or "relu") with another score or combination.

    The maps that plausible mistakes give, computed with autograd on the tiny model's head.
    """
    net = TinyGradCamNet(inplace=False)
    with torch.no_grad():
        features = net.features(TINY_INPUT)
    activation = (features if layer == "features" else torch.relu(features)).requires_grad_()
    after_layer = torch.relu(activation) if layer == "features" else activation
    logits = net.fc(after_layer.mean(dim=(2, 3)))[0]
    gradient, = torch.autograd.grad(score(logits, target_class), activation)
    alpha, a = gradient[0].mean(dim=(1, 2)), activation[0].detach()
    if combine is None:
        return torch.relu((alpha[:, None, None] * a).sum(dim=0))
    return combine(alpha, a)


def _tiny_mistakes(layer, classes):
    """[(map, hint)] for the tiny model's maps of `classes` (an int, or a list stacked like the answer)."""
    def maps(**how):
        if isinstance(classes, int):
            return _tiny_gradcam(layer, classes, **how)
        return torch.stack([_tiny_gradcam(layer, c, **how) for c in classes])

    mistakes = [(maps(score=score), (f"{particle(korean, '을/를')} 점수로 삼아 미분한 맵입니다. {_SCORE_HINT[0]}",
                                     f"this is the map of {english} taken as the score. {_SCORE_HINT[1]}"))
                for score, korean, english in _SCORE_MISTAKES]
    mistakes += [(maps(combine=combine), hint) for combine, hint in _RELU_MISTAKES]
    return mistakes


def _diagnosis(actual, expected, mistakes=(), probe=None):
    """A hint (ko, en) naming the likely mistake behind a wrong map.

    mistakes: [(map, hint)] that plausible mistakes give; probe: a function returning the answer's map on
    the same model with an out-of-place ReLU after the target layer (right there means a missing clone()).
    """
    positions = expected.shape[-2] * expected.shape[-1]
    if float(actual.min()) < 0:
        return ("음수 값이 있습니다: 가중합 뒤에 ReLU를 적용했나요?",
                "the map has negative values: apply the ReLU after the weighted sum.")
    if probe is not None and _close(_quietly(probe), expected):
        return _CLONE_HINT
    for mistake, hint in mistakes:
        if _close(actual, mistake):
            return hint
    if _close(actual, expected * positions):
        return ("기댓값의 정확히 h*w배입니다: alpha는 gradient의 합이 아니라 평균입니다.",
                "exactly h*w times the expected map: alpha is the mean of the gradient, not its sum.")
    if float(actual.max() - actual.min()) <= 1e-12:
        return ("상수 맵이라 공간 정보가 없습니다.", "a constant map has no spatial information.")
    span = float(expected.max() - expected.min())
    if span > 0 and _close(actual, (expected - expected.min()) / span):
        return ("최솟값–최댓값으로 정규화한 맵입니다: 정규화하지 않은 원시 맵을 돌려주세요 (그림 함수가 정규화합니다).",
                "this is the expected map min-max normalised: return the raw map (the plots normalise).")
    return _FORMULA_HINT


def _quietly(probe):
    """The probe's result, or None if it raises."""
    try:
        return probe()
    except Exception:
        return None


def _another_class(other_map):
    """The (map, hint) pair for a map that belongs to another class."""
    return (other_map, ("다른 클래스의 Grad-CAM입니다: 맵마다 그 클래스(target_class, classes[i])의 점수에서 backward 했는지 "
                        "확인하세요.",
                        "this is another class's Grad-CAM: backpropagate from the score of that map's class "
                        "(target_class, classes[i])."))


def _expect_gradcam(actual, expected, name, mistakes=(), probe=None):
    """A map must have the expected shape and values; a wrong one gets a hint naming the likely mistake."""
    checks.expect_shape(actual, expected.shape, name)
    checks.expect_finite(actual, name)
    if _close(actual, expected):
        return
    checks.expect_close(actual, expected, name, atol=1e-5 + 1e-3 * float(expected.abs().max()), rtol=1e-3,
                        hint=_diagnosis(actual.detach().double(), expected.double(), mistakes, probe))


def _expect_cam_identity(gradcam, model, image, target_class, name):
    """Grad-CAM at model.layer4 must equal ReLU(CAM) / (h * w), for any weights (see notebook 02)."""
    cam = explainers.compute_cam(model, image, target_class)
    korean, english = checks.name_pair(name)
    _expect_gradcam(gradcam, torch.relu(cam) / cam.numel(),
                    (f"{korean}: ReLU(CAM) / {cam.numel()}", f"{english}: ReLU(CAM) / {cam.numel()}"))


def _expect_left_as_given(model, state):
    """No hooks, eval mode, unchanged weights and statistics, and no gradients left in .grad."""
    checks.expect_model_untouched(model, state)
    checks.expect_no_grad(model)


def _two_classes(logits):
    """The top class and the class ranked in the middle: a strong and a weak case."""
    order = logits.argsort(descending=True)
    return int(order[0]), int(order[len(order) // 2])


def _tiny_name(what, target_class):
    return f"작은 모델의 {what} (클래스 {target_class})", f"tiny model {what} (class {target_class})"


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
        for target_class in (0, 1):
            gradcam = checks.call_with_hint(cam, TINY_INPUT, target_class, hint=_TINY_HINT)
            _expect_gradcam(gradcam, expected[target_class], _tiny_name("Grad-CAM", target_class),
                            mistakes=[_another_class(expected[1 - target_class]),
                                      *_tiny_mistakes("features", target_class)],
                            probe=lambda c=target_class: _out_of_place_gradcam(GradCAM, c))
            if target_class == 0:
                _expect_repeatable(cam, expected[0])
        _expect_hooks_not_stacked(tiny, hooks_in_use)
        _expect_usable_without_grad(tiny, cam, expected[0])
    _expect_left_as_given(tiny, state)


def _out_of_place_gradcam(GradCAM, target_class):
    """The answer's map on the tiny model whose ReLU is not in place."""
    net = TinyGradCamNet(inplace=False)
    with GradCAM(net, net.features) as cam:
        return cam(TINY_INPUT, target_class)


def _expect_repeatable(cam, expected):
    """A second call with the same input gives the same map: nothing accumulates between calls."""
    again = cam(TINY_INPUT, 0)
    checks.expect_close(again, expected, ("작은 모델의 Grad-CAM, 두 번째 호출 (클래스 0)",
                                          "tiny model Grad-CAM, second call (class 0)"), hint=(
        "같은 입력으로 다시 부르면 같은 맵이 나와야 합니다: gradient가 호출마다 쌓이지 않는지 확인하세요.",
        "calling again with the same input must give the same map: make sure gradients do not accumulate."))


def _expect_hooks_not_stacked(model, hooks_in_use):
    """Calls must not register hooks that stay: re-running a cell or calling twice would stack them."""
    now = count_hooks(model)
    if now != hooks_in_use:
        checks.fail(f"호출할 때마다 hook이 늘어납니다 (만든 직후 {hooks_in_use}개, 호출한 뒤 {now}개). "
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
            "torch.no_grad() 안에서 불러도 동작해야 합니다: __call__의 forward와 gradient 계산을 "
            "with torch.enable_grad(): 안에서 실행하세요.",
            "the call must also work under torch.no_grad(): run the forward and the gradient computation in "
            "`with torch.enable_grad():`"))
    _expect_gradcam(gradcam, expected, ("torch.no_grad() 안에서 부른 작은 모델의 Grad-CAM (클래스 0)",
                                        "tiny model Grad-CAM called under torch.no_grad() (class 0)"))


def _check_resnet_gradcam(GradCAM):
    model, image, logits, state = checks.resnet_case(CHECK_IMAGE)
    with GradCAM(model) as cam:
        gradcam = cam(image, _two_classes(logits)[0])
    checks.expect_shape(gradcam, (7, 7), ("기본 층 layer4[-1].conv2에서 구한 ResNet18의 Grad-CAM",
                                          "ResNet18 Grad-CAM at the default layer4[-1].conv2"))
    _expect_nonnegative(gradcam, ("ResNet18의 Grad-CAM", "ResNet18 Grad-CAM"))
    with GradCAM(model, model.layer4) as cam:
        for target_class in _two_classes(logits):
            _expect_cam_identity(cam(image, target_class), model, image, target_class,
                                 (f"model.layer4에서 구한 ResNet18의 Grad-CAM (클래스 {target_class})",
                                  f"ResNet18 Grad-CAM at model.layer4 (class {target_class})"))
    _expect_left_as_given(model, state)


def _expect_nonnegative(gradcam, name):
    checks.expect_finite(gradcam, name)
    if float(gradcam.min()) < 0:
        korean, english = checks.name_pair(name)
        checks.fail(f"{korean}에 음수 값이 있습니다: 가중합 뒤에 ReLU를 적용하세요.",
                    f"{english} has negative values: apply the ReLU after the weighted sum")


def _call_untouched(function, model, *args, hint=None):
    """Call function(model, *args), check that it leaves the model as it was given, and return the result."""
    state = checks.snapshot_state(model)
    result = function(model, *args) if hint is None else checks.call_with_hint(function, model, *args, hint=hint)
    _expect_left_as_given(model, state)
    return result


@contextmanager
def _checking_a_user_of_gradcam(answer):
    """Refuse the shipped GradCAM, and blame exercise 1's GradCAM when it is what goes wrong."""
    with checks.refusing_reference(answer, explainers, "GradCAM"), \
            checks.blaming_earlier_exercise(answer, "GradCAM", _check_tiny_gradcam, exercise=1):
        yield


# ---- exercise 2: Grad-CAM at several layers -----------------------------------------------------

def check_gradcams_at_layers(gradcams_at_layers):
    """Visible checks for `gradcams_at_layers(model, image_tensor, target_class, layers)` -> {name: map}."""
    with _checking_a_user_of_gradcam(gradcams_at_layers):
        tiny = TinyGradCamNet()
        maps = _call_untouched(gradcams_at_layers, tiny, TINY_INPUT, 1, _tiny_layers(tiny), hint=_TINY_LAYER_HINT)
        _expect_layer_names(maps, ["features", "relu"])

        def out_of_place(name):
            net = TinyGradCamNet(inplace=False)
            return gradcams_at_layers(net, TINY_INPUT, 1, _tiny_layers(net))[name]

        for name, gradcam in maps.items():
            _expect_gradcam(gradcam, TINY_GRADCAMS[name][1], _tiny_name(f"maps['{name}']", 1),
                            mistakes=_tiny_mistakes(name, 1), probe=lambda name=name: out_of_place(name))

        model, image, logits, _ = checks.resnet_case(CHECK_IMAGE)
        target_class = _two_classes(logits)[0]
        maps = _call_untouched(gradcams_at_layers, model, image, target_class,
                               {name: getattr(model, name) for name in RESNET_LAYER_SIDES})
        _expect_layer_names(maps, list(RESNET_LAYER_SIDES))
        for name, side in RESNET_LAYER_SIDES.items():
            resnet_name = (f"ResNet18의 maps['{name}']", f"ResNet18 maps['{name}']")
            checks.expect_shape(maps[name], (side, side), resnet_name)
            _expect_nonnegative(maps[name], resnet_name)
        _expect_cam_identity(maps["layer4"], model, image, target_class,
                             ("ResNet18의 maps['layer4']", "ResNet18 maps['layer4']"))
    checks.passed("gradcams_at_layers")


def _tiny_layers(net):
    return {"features": net.features, "relu": net.relu}


def _expect_layer_names(maps, names):
    """The result is a dict with one map per layer, in the order the layers were given."""
    if not isinstance(maps, dict) or list(maps) != names:
        got = list(maps) if isinstance(maps, dict) else type(maps).__name__
        checks.fail(f"layers와 같은 이름, 같은 순서의 dict를 돌려줘야 합니다: 키가 {particle(names, '이어야/여야')} "
                    f"하는데 {got}입니다.",
                    f"return a dict with the names of `layers`, in their order: expected {names}, got {got}")


# ---- exercise 3: one image, several classes -----------------------------------------------------

def check_gradcams_for_classes(gradcams_for_classes):
    """Visible checks for `gradcams_for_classes(model, image_tensor, classes, target_layer=None)` -> (n, h, w)."""
    with _checking_a_user_of_gradcam(gradcams_for_classes):
        tiny = TinyGradCamNet()
        maps = _call_untouched(gradcams_for_classes, tiny, TINY_INPUT, [1, 0], tiny.features, hint=_TINY_LAYER_HINT)

        def out_of_place():
            net = TinyGradCamNet(inplace=False)
            return gradcams_for_classes(net, TINY_INPUT, [1, 0], net.features)

        _expect_gradcam(maps, TINY_GRADCAMS["features"].flip(0),
                        ("작은 모델의 클래스 [1, 0]의 맵", "tiny model maps for classes [1, 0]"),
                        mistakes=[_another_class(TINY_GRADCAMS["features"]), *_tiny_mistakes("features", [1, 0])],
                        probe=out_of_place)

        model, image, logits, _ = checks.resnet_case(CHECK_IMAGE)
        classes = list(_two_classes(logits))
        maps = _call_untouched(gradcams_for_classes, model, image, classes, model.layer4)
        checks.expect_shape(maps, (2, 7, 7), (f"model.layer4에서 구한 ResNet18의 클래스 {classes}의 맵",
                                              f"ResNet18 maps for classes {classes} at model.layer4"))
        for index, target_class in enumerate(classes):
            _expect_cam_identity(maps[index], model, image, target_class,
                                 (f"ResNet18의 maps[{index}] (클래스 {target_class})",
                                  f"ResNet18 maps[{index}] (class {target_class})"))
        checks.expect_shape(_call_untouched(gradcams_for_classes, model, image, classes[:1]), (1, 7, 7),
                            ("기본 목표 층에서 구한 ResNet18의 맵", "ResNet18 maps at the default target layer"))
    checks.passed("gradcams_for_classes")


# ---- exercise 4: Grad-CAM at layer4 and CAM ---------------------------------------------------------

def check_gradcam_vs_cam(gradcam_vs_cam):
    """Visible checks for `gradcam_vs_cam(model, image_tensor, target_class)` -> (Grad-CAM, ReLU(CAM) / (h*w))."""
    with _checking_a_user_of_gradcam(gradcam_vs_cam):
        tiny = TinyCamNet()
        for target_class in (1, 2):
            pair = _call_untouched(gradcam_vs_cam, tiny, TINY_CAM_INPUT, target_class, hint=(
                "확인용 작은 모델(01의 TinyCamNet)에는 layer4 (특징맵 (1, 2, 2, 3))와 fc만 있습니다: "
                "GradCAM에 target_layer=model.layer4를 넘기고, 49나 7을 고정하지 말고 shape에서 구하세요.",
                "the tiny check model (notebook 01's TinyCamNet) has only layer4 (a (1, 2, 2, 3) feature map) "
                "and fc: pass target_layer=model.layer4 to GradCAM, and take h * w from the shape "
                "instead of hard-coding 49 or 7."))
            _expect_pair(pair, torch.relu(TINY_CAMS[target_class]) / 6,
                         (f"작은 모델, 클래스 {target_class}", f"tiny model, class {target_class}"))

        model, image, logits, _ = checks.resnet_case(CHECK_IMAGE)
        target_class = _two_classes(logits)[0]
        cam = explainers.compute_cam(model, image, target_class)
        _expect_pair(_call_untouched(gradcam_vs_cam, model, image, target_class), torch.relu(cam) / 49,
                     (f"ResNet18, 클래스 {target_class}", f"ResNet18, class {target_class}"))
    checks.passed("gradcam_vs_cam")


def _expect_pair(pair, expected, where):
    """Both returned maps equal ReLU(CAM) / (h * w)."""
    korean, english = checks.name_pair(where)
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        checks.fail(f"{korean}: 두 맵의 tuple (grad_cam, scaled_cam)을 돌려줘야 하는데 {type(pair).__name__}입니다.",
                    f"{english}: return a pair of maps (grad_cam, scaled_cam), got {type(pair).__name__}")
    grad_cam, scaled_cam = pair
    _expect_gradcam(grad_cam, expected, (f"{korean}: grad_cam (model.layer4에서 구한 Grad-CAM)",
                                         f"{english}: grad_cam (Grad-CAM at model.layer4)"))
    _expect_gradcam(scaled_cam, expected, (f"{korean}: scaled_cam = ReLU(CAM) / (h * w)",
                                           f"{english}: scaled_cam = ReLU(CAM) / (h * w)"))
