"""Every taught function (the exercises of notebooks 01-05, as their solution cells define them, and the
coursekit helpers they call) works wherever its input lives, e.g. on a GPU, and leaves grad mode alone.

On this CPU-only machine the functions run on the `meta` device under a dispatch mode that fails as
soon as an operation makes a tensor somewhere else than the input (say `torch.eye(n)` without
`device=`, which CUDA would refuse to add to a CUDA tensor). Meta tensors hold no values, so
reading one (`.tolist()`, `int(...)`) gives zeros: enough to run the code, not to check results.
With a GPU, the same functions also run on CUDA and must agree with their CPU results.
"""
import nbformat
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torchvision.models import resnet18

from course_copy import assignments
from coursekit.vit import vit_attentions
from notebook_cells import notebook_path, solution_namespace
from resnet_cases import MODELS

EXERCISES = {
    "01_cam": ("compute_cam", "top_class_cams"),
    "02_gradcam": ("gradcam_class", "gradcams_at_layers", "gradcams_for_classes", "gradcam_vs_cam"),
    "03_vit_attention": ("obtain_attention_maps", "attention_entropies"),
    "04_attention_rollout": ("add_identity_and_normalise", "compute_attention_rollout"),
    "05_trust": ("average_ranks", "spearman_rank_correlation", "cascading_randomization", "replacement_curve",
                 "area_under_curve"),
}
RETURNS_A_NUMBER = {"spearman_rank_correlation", "area_under_curve"}   # a Python float: no tensor to look at, only what it made on the way


def test_every_exercise_of_every_notebook_is_run_here():
    assert list(EXERCISES) == assignments()
    for assignment, grade_ids in EXERCISES.items():
        notebook = nbformat.read(notebook_path(assignment), as_version=4)
        assert grade_ids == tuple(cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells
                                  if cell.metadata.get("nbgrader", {}).get("solution"))


@pytest.fixture(scope="module")
def taught():
    """{name: function} of every exercise, as the solution notebooks define them."""
    functions = {}
    for assignment, grade_ids in EXERCISES.items():
        namespace = solution_namespace(assignment, *grade_ids)
        functions.update({name: namespace[name] for name in (*grade_ids, "GradCAM") if name in namespace})
    return functions


def gradcam_map(GradCAM, model, image, target_class):
    with GradCAM(model) as cam:
        return cam(image, target_class)


def calls(taught, model, image, attentions):
    """{exercise: a call of it on the given ResNet18, image and ViT attentions (all on one device)}."""
    maps = taught["obtain_attention_maps"](attentions)
    return {
        "compute_cam": lambda: taught["compute_cam"](model, image, 3),
        "top_class_cams": lambda: taught["top_class_cams"](model, image, 3),
        "GradCAM": lambda: gradcam_map(taught["GradCAM"], model, image, 3),
        "gradcams_at_layers": lambda: taught["gradcams_at_layers"](model, image, 3, {"layer3": model.layer3}),
        "gradcams_for_classes": lambda: taught["gradcams_for_classes"](model, image, [1, 2]),
        "gradcam_vs_cam": lambda: taught["gradcam_vs_cam"](model, image, 3),
        "obtain_attention_maps": lambda: taught["obtain_attention_maps"](attentions),
        "attention_entropies": lambda: taught["attention_entropies"](maps),
        "add_identity_and_normalise": lambda: taught["add_identity_and_normalise"](attentions[0][0].mean(dim=0)),
        "compute_attention_rollout": lambda: [taught["compute_attention_rollout"](attentions, discard_ratio=0.5,
                                                                                  head_fusion=fusion)
                                              for fusion in ("mean", "max", "min")],
        "average_ranks": lambda: taught["average_ranks"](maps[0].flatten()),
        "spearman_rank_correlation": lambda: taught["spearman_rank_correlation"](maps[0], maps[1]),
        "cascading_randomization": lambda: taught["cascading_randomization"](
            model, ["fc", "layer4"], lambda randomised: gradcam_map(taught["GradCAM"], randomised, image, 3)),
        "replacement_curve": lambda: taught["replacement_curve"](model, image, torch.zeros_like(image),
                                                                 image[0, 0], 3, steps=4),
        "area_under_curve": lambda: taught["area_under_curve"](image[0, 0, 0, :5]),
    }


CALLED = ["compute_cam", "top_class_cams", "GradCAM", "gradcams_at_layers", "gradcams_for_classes", "gradcam_vs_cam",
          "obtain_attention_maps", "attention_entropies", "add_identity_and_normalise", "compute_attention_rollout",
          "average_ranks", "spearman_rank_correlation", "cascading_randomization", "replacement_curve",
          "area_under_curve"]


class StaysOnMeta(TorchDispatchMode):
    """Fail when an operation makes a tensor off the meta device; reading a meta tensor's values gives zeros.

    0-dimensional CPU tensors are allowed beside meta ones, as CUDA allows them beside CUDA tensors.
    """

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.ops.aten._local_scalar_dense.default:  # int(t), float(t), t.item()
            return 0
        if func is torch.ops.aten._to_copy.default and args[0].is_meta and kwargs.get("device") == torch.device("cpu"):
            return torch.zeros(args[0].shape, dtype=kwargs.get("dtype") or args[0].dtype)  # t.tolist(), t.cpu()
        result = func(*args, **kwargs)
        strays = [t for t in tree_flatten(result)[0] if isinstance(t, torch.Tensor) and not t.is_meta and t.dim() > 0]
        if strays:
            raise AssertionError(f"{func} made a tensor on {strays[0].device}, not on the input's device")
        return result


@pytest.fixture(scope="module")
def on_meta(taught):
    with torch.device("meta"):
        model = resnet18().eval()
    image = torch.empty(1, 3, 224, 224, device="meta")
    attentions = tuple(torch.empty(1, 4, 197, 197, device="meta") for _ in range(3))
    return calls(taught, model, image, attentions)


def tensors_in(result):
    return [t for t in tree_flatten(result)[0] if isinstance(t, torch.Tensor)]


@pytest.mark.parametrize("grad_enabled", [True, False])
@pytest.mark.parametrize("exercise", CALLED)
def test_taught_function_keeps_to_the_inputs_device_and_leaves_grad_mode_alone(on_meta, exercise, grad_enabled):
    with torch.set_grad_enabled(grad_enabled), StaysOnMeta():
        result = on_meta[exercise]()
        assert torch.is_grad_enabled() == grad_enabled
    assert (tensors_in(result) or exercise in RETURNS_A_NUMBER) and all(t.is_meta for t in tensors_in(result))


def test_the_meta_check_catches_a_tensor_made_without_the_inputs_device():
    fused = torch.empty(5, 5, device="meta")
    with pytest.raises(AssertionError, match="aten.eye.default made a tensor on cpu"), StaysOnMeta():
        fused + torch.eye(5)  # what 04's add_identity_and_normalise did before it passed device=fused.device


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="needs a CUDA GPU (none on this machine): runs every taught function on CUDA tensors; "
                           "the meta-device tests above catch a device mismatch without one")
@pytest.mark.parametrize("exercise", CALLED)
def test_taught_function_on_cuda_agrees_with_the_cpu(taught, exercise):
    model = MODELS["standin"]()
    image = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    attentions = vit_attentions("coffee.png")
    on_cpu = calls(taught, model, image, attentions)[exercise]()
    on_cuda = calls(taught, model.cuda(), image.cuda(), tuple(a.cuda() for a in attentions))[exercise]()
    for cpu, cuda in zip(tree_flatten(on_cpu)[0], tree_flatten(on_cuda)[0], strict=True):
        if isinstance(cpu, torch.Tensor):
            assert cuda.is_cuda
            torch.testing.assert_close(cuda.cpu(), cpu, atol=1e-4, rtol=1e-3)
        else:
            assert cuda == pytest.approx(cpu, rel=1e-6)
