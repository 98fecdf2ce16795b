"""Visible checks for notebook 01 (CAM): a tiny model with hand-computed CAMs, then
properties of the loaded ResNet18 that hold for any weights.

The tiny model has a 2-channel 2 x 3 feature map and 3 classes. With input
x = [[1, 2, 0], [0, -1, 3]], `layer4` (1x1 conv with weights +1 / -1, then ReLU)
gives f_0 = relu(x) = [[1, 2, 0], [0, 0, 3]] and f_1 = relu(-x) = [[0, 0, 0], [0, 1, 0]].
With fc rows w^0 = (1, 0), w^1 = (0.5, -2), w^2 = (-1, 3) the CAMs M_c = sum_k w_k^c f_k are
written out in TINY_CAMS; with biases (0.1, 1.5, 0.3) the logits are
mean(M_c) + b_c = (1.1, 1.6667, -0.2), so the classes ranked by score are 1, 0, 2.
The map is not square, so a transposed CAM has the wrong shape.
"""
import torch
from torch import nn

from coursekit import checks, explainers
from coursekit.messages import particle

TINY_INPUT = torch.tensor([[[[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]]]])
TINY_CAMS = torch.tensor([
    [[1.0, 2.0, 0.0], [0.0, 0.0, 3.0]],
    [[0.5, 1.0, 0.0], [0.0, -2.0, 1.5]],
    [[-1.0, -2.0, 0.0], [0.0, 3.0, -3.0]],
])
TINY_RANKING = [1, 0, 2]
CHECK_IMAGE = "chelsea.png"


class TinyCamNet(nn.Module):
    """layer4 -> global average pooling -> fc, named like torchvision's ResNet."""

    def __init__(self):
        super().__init__()
        self.layer4 = nn.Sequential(nn.Conv2d(1, 2, kernel_size=1, bias=False), nn.ReLU())
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2, 3)
        with torch.no_grad():
            self.layer4[0].weight.copy_(torch.tensor([1.0, -1.0]).view(2, 1, 1, 1))
            self.fc.weight.copy_(torch.tensor([[1.0, 0.0], [0.5, -2.0], [-1.0, 3.0]]))
            self.fc.bias.copy_(torch.tensor([0.1, 1.5, 0.3]))
        self.eval()

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.layer4(x)), 1))


_TINY_HINT = ("확인용 작은 모델의 특징맵은 (1, 2, 2, 3)입니다. 512나 7 같은 크기를 코드에 고정하지 말고 shape에서 얻으세요.",
              "the tiny check model's feature map is (1, 2, 2, 3); do not hard-code 512 or 7.")


class _ForwardCounter:
    """Count the model's forward passes during a `with` block (the hook is always removed)."""

    def __init__(self, model):
        self.model, self.calls, self._handle = model, 0, None

    def __enter__(self):
        self._handle = self.model.register_forward_pre_hook(self._count)
        return self

    def _count(self, module, inputs):
        self.calls += 1

    def __exit__(self, *exc):
        self._handle.remove()


def _expect_logit_identity(cam, model, logits, target_class, name):
    """mean over positions of M_c plus fc.bias[c] must equal the model's logit for c."""
    reconstructed = cam.detach().double().mean() + model.fc.bias[target_class].detach().double()
    expected = logits[target_class].double()
    if abs(float(reconstructed - expected)) <= 1e-3 + 1e-3 * abs(float(expected)):
        return
    if float(cam.min()) >= 0:
        hint = ("음수 값이 하나도 없습니다: ReLU나 정규화를 적용했나요? CAM은 가공하지 않은 값이어야 합니다.",
                "no negative values at all: did you apply ReLU or normalise? Return the raw CAM.")
    else:
        hint = ("fc.weight의 target_class 행과 layer4 특징맵을 채널 방향으로 곱해 더했는지 확인하세요.",
                "check that you weight layer4's feature maps by row target_class of fc.weight and sum over channels.")
    korean, english = checks.name_pair(name)
    logit = f"{float(expected):.5g}"
    checks.fail(f"{korean}: mean(M_c) + fc.bias[c]는 모델의 logit {particle(logit, '이어야/여야')} 하는데 "
                f"{float(reconstructed):.5g}입니다. {hint[0]}",
                f"{english}: mean(M_c) + fc.bias[c] = {float(reconstructed):.5g} but the model's logit is "
                f"{logit}. {hint[1]}")


def check_compute_cam(compute_cam):
    """Visible checks for `compute_cam(model, image_tensor, target_class)` -> raw CAM (h, w)."""
    with checks.refusing_reference(compute_cam, explainers, "compute_cam"):
        _check_compute_cam_values(compute_cam)
    checks.passed("compute_cam")


def _check_compute_cam_values(compute_cam):
    tiny = TinyCamNet()
    tiny_state = checks.snapshot_state(tiny)
    for target_class in (1, 2):
        cam = checks.call_with_hint(compute_cam, tiny, TINY_INPUT, target_class, hint=_TINY_HINT)
        checks.expect_model_untouched(tiny, tiny_state)
        name = (f"작은 모델의 CAM (클래스 {target_class})", f"tiny model CAM (class {target_class})")
        checks.expect_shape(cam, (2, 3), name)
        checks.expect_close(cam, TINY_CAMS[target_class], name, hint=(
            "CAM은 sum_k w_k^c f_k(x, y)이며 ReLU나 정규화를 하지 않은 값입니다.",
            "the CAM is sum_k w_k^c f_k(x, y), with no ReLU and no normalisation."))

    model, image, logits, state = checks.resnet_case(CHECK_IMAGE)
    for target_class in (int(logits.argmax()), int(logits.argmin())):
        cam = compute_cam(model, image, target_class)
        checks.expect_model_untouched(model, state)
        checks.expect_shape(cam, (7, 7), ("ResNet18의 CAM", "ResNet18 CAM"))
        checks.expect_finite(cam, ("ResNet18의 CAM", "ResNet18 CAM"))
        _expect_logit_identity(cam, model, logits, target_class,
                               (f"ResNet18의 CAM (클래스 {target_class})", f"ResNet18 CAM (class {target_class})"))


def check_top_class_cams(top_class_cams):
    """Visible checks for `top_class_cams(model, image_tensor, n)` -> (classes, cams (n, h, w)).

    An answer that calls exercise 1's compute_cam is told to pass exercise 1's check first when
    that is what goes wrong, and that one compute_cam per class means one forward per class.
    """
    with checks.blaming_earlier_exercise(top_class_cams, "compute_cam", _check_compute_cam_values, exercise=1):
        _check_top_class_cams(top_class_cams)
    checks.passed("top_class_cams")


def _check_top_class_cams(top_class_cams):
    uses_compute_cam = checks.global_used(top_class_cams, "compute_cam") is not None
    tiny = TinyCamNet()
    tiny_state = checks.snapshot_state(tiny)
    with _ForwardCounter(tiny) as counter:
        classes, cams = checks.call_with_hint(top_class_cams, tiny, TINY_INPUT, 2, hint=_TINY_HINT)
    checks.expect_model_untouched(tiny, tiny_state)
    _expect_classes(classes, TINY_RANKING[:2], ("작은 모델", "tiny model"))
    checks.expect_shape(cams, (2, 2, 3), ("작은 모델의 cams", "tiny model cams"))
    checks.expect_close(cams, TINY_CAMS[TINY_RANKING[:2]], ("작은 모델의 cams", "tiny model cams"), hint=(
        "cams[i]는 classes[i]의 CAM이어야 합니다.", "cams[i] must be the CAM of classes[i]."))
    _expect_one_forward(counter.calls, uses_compute_cam)

    model, image, logits, state = checks.resnet_case(CHECK_IMAGE)
    with _ForwardCounter(model) as counter:
        classes, cams = top_class_cams(model, image, 3)
    checks.expect_model_untouched(model, state)
    _expect_classes(classes, logits.topk(3).indices.tolist(), "ResNet18")
    checks.expect_shape(cams, (3, 7, 7), ("ResNet18의 cams", "ResNet18 cams"))
    checks.expect_finite(cams, ("ResNet18의 cams", "ResNet18 cams"))
    for cam, target_class in zip(cams, classes):
        _expect_logit_identity(cam, model, logits, int(target_class),
                               (f"클래스 {int(target_class)}의 CAM", f"cams for class {int(target_class)}"))
    _expect_one_forward(counter.calls, uses_compute_cam)


def _expect_classes(classes, expected, where):
    """The returned classes must be the top-n class indices, highest score first."""
    korean, english = checks.name_pair(where)
    try:
        got = [int(c) for c in classes]
    except (TypeError, ValueError):
        checks.fail(f"{korean}: classes는 정수 클래스 인덱스의 리스트여야 하는데 {classes!r}입니다.",
                    f"{english}: classes must be a list of integer class indices, got {classes!r}")
    if got != expected:
        checks.fail(f"{korean}: classes는 점수가 높은 순서의 클래스 {particle(expected, '이어야/여야')} 하는데 "
                    f"{got}입니다.",
                    f"{english}: expected the top classes in descending score order {expected}, got {got}")


def _expect_one_forward(calls, uses_compute_cam):
    """All CAMs of one image come from one forward pass: the feature maps do not depend on the class."""
    if calls != 1:
        korean, english = ("compute_cam을 클래스마다 부르면 클래스 수만큼 forward가 실행됩니다. ",
                           "calling compute_cam once per class runs one forward per class; ") \
            if uses_compute_cam else ("", "")
        checks.fail(f"모델의 forward가 {calls}번 실행되었습니다. {korean}특징맵은 클래스와 무관하므로 "
                    "forward는 한 번이면 충분합니다.",
                    f"the model ran {calls} forward passes; {english}the feature maps do not depend on the class, "
                    "so one pass is enough")
