"""Tests for tools/standin_weights.py: the stand-in caches load through the REAL library entry points.

torchvision reads TORCH_HOME at call time (torch.hub.get_dir()), so its test sets it with
monkeypatch. huggingface_hub reads HF_HOME and HF_HUB_OFFLINE when it is imported, so the ViT is
loaded in a fresh Python process whose environment is the one write_standin_caches returns.
"""
import filecmp
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision
from PIL import Image
from torchvision.models import ResNet18_Weights

import tools.standin_weights as standin

REPO_ROOT = Path(__file__).resolve().parents[1]
PHOTOS = [REPO_ROOT / "resources" / name
          for name in ("chelsea.png", "astronaut.png", "coffee.png", "rocket.jpg", "grace_hopper.jpg")]
UNIFORM_ENTROPY = math.log(197)  # 5.28: attention spread evenly over the CLS token and 196 patches

# Measured on chelsea.png and coffee.png (the two photos with the flattest attention): per-layer mean
# row entropy 2.2-3.2, mean over layers 2.6-2.9; heads' CLS rows differ by total variation 0.80-0.95;
# within a layer the sharpest and the flattest head differ by 3.2-4.6 nats of mean entropy (0.7-2.6
# without the per-head query/key factors); the two photos' CLS rows differ by about 0.8.
MAX_LAYER_ENTROPY = 3.6
MAX_MEAN_ENTROPY = 3.2
MIN_HEAD_DIFFERENCE = 0.6
MIN_HEAD_ENTROPY_SPREAD = 2.5
MIN_IMAGE_DIFFERENCE = 0.5

# Runs in a fresh process: the exact calls of the course's loader, then measurements as JSON.
VIT_PROBE = r"""
import json, sys
import torch
from PIL import Image
from safetensors.torch import load_file
from transformers import ViTForImageClassification, ViTImageProcessor

model = ViTForImageClassification.from_pretrained("google/vit-base-patch16-224", attn_implementation="eager")
processor = ViTImageProcessor.from_pretrained("google/vit-base-patch16-224")
model.eval()

def tensor_sums(tensors):
    return sorted(t.double().sum().item() for t in tensors)

def head_difference(cls_rows):
    # mean total variation between the CLS attention rows of two different heads, per layer
    pairwise = (cls_rows[:, :, None] - cls_rows[:, None]).abs().sum(-1) / 2
    heads = cls_rows.shape[1]
    return (pairwise.sum((1, 2)) / (heads * (heads - 1))).tolist()

attentions, result = {}, {"images": {}}
for path in sys.argv[2:]:
    pixels = processor(Image.open(path).convert("RGB"), return_tensors="pt").pixel_values
    with torch.no_grad():
        output = model(pixels, output_attentions=True)
    stacked = torch.cat(output.attentions)  # (layers, heads, 197, 197)
    entropy = -(stacked * stacked.clamp_min(1e-12).log()).sum(-1)
    attentions[path] = stacked[:, :, 0, 1:]
    result["images"][path] = {
        "pixel_shape": list(pixels.shape),
        "attention_shapes": [list(a.shape) for a in output.attentions],
        "row_sum_error": (stacked.sum(-1) - 1).abs().max().item(),
        "layer_entropy": entropy.mean((1, 2)).tolist(),
        "head_difference": head_difference(stacked[:, :, 0, 1:]),
        "head_entropy_spread": (entropy.mean(-1).amax(1) - entropy.mean(-1).amin(1)).tolist(),
        "top_class": output.logits.argmax().item(),
    }
first, second = attentions.values()
result["image_difference"] = ((first - second).abs().sum(-1) / 2).mean((1,)).tolist()
result["loaded_sums"] = tensor_sums(model.state_dict().values())
result["file_sums"] = tensor_sums(load_file(sys.argv[1]).values())
result["standin_marker"] = getattr(model.config, "course_standin_weights", None)
result["label_517"] = model.config.id2label[517]
result["attn_implementation"] = model.config._attn_implementation
result["processor"] = [type(processor).__name__, processor.image_mean, processor.image_std]
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def caches(tmp_path_factory):
    """Both stand-in caches, written once for the module: (cache_root, environment)."""
    root = tmp_path_factory.mktemp("standin")
    return root, standin.write_standin_caches(root)


@pytest.fixture(scope="module")
def vit_probe(caches):
    """Load the ViT in a fresh offline process (exact course calls) on two photos; return (measurements, stderr)."""
    root, environment = caches
    weights = standin.vit_snapshot_dir(environment["HF_HOME"]) / "model.safetensors"
    completed = subprocess.run(
        [sys.executable, "-c", VIT_PROBE, str(weights), str(PHOTOS[0]), str(PHOTOS[2])],
        env={**os.environ, **environment, "HF_HUB_DISABLE_PROGRESS_BARS": "1"},
        capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.splitlines()[-1]), completed.stderr


def _load_resnet18_offline(torch_home, monkeypatch):
    """Run torchvision's real IMAGENET1K_V1 loading with TORCH_HOME set; any download attempt fails the test."""
    monkeypatch.setenv("TORCH_HOME", str(torch_home))

    def no_download(url, *args, **kwargs):
        raise AssertionError(f"torchvision tried to download {url}: the stand-in is not where it looks")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    return torchvision.models.resnet18(weights="IMAGENET1K_V1").eval()


def test_environment_points_at_the_written_caches(caches):
    root, environment = caches
    assert environment == {"TORCH_HOME": str(root.resolve() / "torch"), "HF_HOME": str(root.resolve() / "hf"),
                           "HF_HUB_CACHE": str(root.resolve() / "hf" / "hub"),
                           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def test_resnet18_loads_through_torchvision_without_download(caches, monkeypatch, capfd):
    root, environment = caches
    model = _load_resnet18_offline(environment["TORCH_HOME"], monkeypatch)
    assert capfd.readouterr() == ("", "")  # no "Downloading: ..." line, no warning
    photos = torch.stack([ResNet18_Weights.IMAGENET1K_V1.transforms()(Image.open(p).convert("RGB"))
                          for p in PHOTOS])
    with torch.no_grad():
        top_classes = model(photos).argmax(dim=1).tolist()
    assert len(set(top_classes)) >= 4, top_classes  # measured: five photos, five classes
    assert model.fc.bias.abs().mean() > 0.3  # an answer that forgets the bias is visibly off


def test_resnet18_marker_sidecar(caches):
    root, environment = caches
    checkpoint = standin.resnet18_checkpoint_path(environment["TORCH_HOME"])
    sidecar = checkpoint.with_name("resnet18-f37072fd.pth.standin")
    assert "STAND-IN" in sidecar.read_text(encoding="utf-8")


def test_resnet18_writes_are_deterministic(caches, tmp_path):
    root, environment = caches
    standin.write_standin_caches(tmp_path, models=("resnet18",))
    first = standin.resnet18_checkpoint_path(environment["TORCH_HOME"])
    second = standin.resnet18_checkpoint_path(tmp_path / "torch")
    assert filecmp.cmp(first, second, shallow=False)
    rebuilt = standin.build_resnet18_state_dict()
    saved = torch.load(first, weights_only=True)
    assert saved.keys() == rebuilt.keys()
    assert all(torch.equal(saved[name], rebuilt[name]) for name in saved)


def test_vit_loads_offline_without_warnings(vit_probe):
    result, stderr = vit_probe
    assert stderr == ""  # transformers prints a LOAD REPORT here for missing or unexpected keys
    assert result["attn_implementation"] == "eager"
    assert result["loaded_sums"] == pytest.approx(result["file_sums"], abs=1e-6)  # nothing re-initialised
    assert result["processor"] == ["ViTImageProcessor", [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
    for image in result["images"].values():
        assert image["pixel_shape"] == [1, 3, 224, 224]
        assert image["attention_shapes"] == [[1, 12, 197, 197]] * 12
        assert image["row_sum_error"] < 1e-5


def test_vit_attention_is_far_from_uniform(vit_probe):
    result, _ = vit_probe
    for path, image in result["images"].items():
        entropies = image["layer_entropy"]
        assert max(entropies) < MAX_LAYER_ENTROPY < UNIFORM_ENTROPY, (path, entropies)
        assert sum(entropies) / len(entropies) < MAX_MEAN_ENTROPY, (path, entropies)
        assert min(image["head_difference"]) > MIN_HEAD_DIFFERENCE, (path, image["head_difference"])
        assert min(image["head_entropy_spread"]) > MIN_HEAD_ENTROPY_SPREAD, (path, image["head_entropy_spread"])
    assert min(result["image_difference"]) > MIN_IMAGE_DIFFERENCE, result["image_difference"]
    assert len({image["top_class"] for image in result["images"].values()}) == 2


def test_vit_layout_and_marker(caches, vit_probe):
    root, environment = caches
    repo = Path(environment["HF_HOME"]) / "hub" / "models--google--vit-base-patch16-224"
    revision = (repo / "refs" / "main").read_text(encoding="utf-8")
    assert re.fullmatch(r"[0-9a-f]{40}", revision)  # read verbatim by the hub: no newline
    snapshot = repo / "snapshots" / revision
    assert sorted(p.name for p in snapshot.iterdir()) == ["config.json", "model.safetensors",
                                                           "preprocessor_config.json"]
    config = json.loads((snapshot / "config.json").read_text(encoding="utf-8"))
    assert config["course_standin_weights"] is True
    assert vit_probe[0]["standin_marker"] is True
    assert config["architectures"] == ["ViTForImageClassification"]
    labels = [config["id2label"][str(index)] for index in range(1000)]
    assert labels[:1] == ["tench"] and len(set(labels)) == 1000
    assert config["label2id"] == {name: index for index, name in enumerate(labels)}
    assert vit_probe[0]["label_517"] == labels[517] == "crane"
    preprocessor = json.loads((snapshot / "preprocessor_config.json").read_text(encoding="utf-8"))
    assert preprocessor["size"] == {"height": 224, "width": 224}
    assert preprocessor["rescale_factor"] == pytest.approx(1 / 255)


def test_duplicate_label_names_get_their_index(monkeypatch):
    names = ["crane"] * 2 + ["tench"]
    monkeypatch.setitem(ResNet18_Weights.IMAGENET1K_V1.meta, "categories", names)
    assert standin.imagenet_labels() == ["crane (0)", "crane (1)", "tench"]


def test_vit_writes_are_deterministic(caches, tmp_path):
    root, environment = caches
    standin.write_standin_caches(tmp_path, models=("vit",))
    for name in ("model.safetensors", "config.json", "preprocessor_config.json"):
        first = standin.vit_snapshot_dir(environment["HF_HOME"]) / name
        assert filecmp.cmp(first, standin.vit_snapshot_dir(tmp_path / "hf") / name, shallow=False), name


def test_second_call_rewrites_nothing(caches):
    root, environment = caches
    files = [standin.resnet18_checkpoint_path(environment["TORCH_HOME"]),
             standin.vit_snapshot_dir(environment["HF_HOME"]) / "model.safetensors"]
    before = [(f.stat().st_ino, f.stat().st_mtime_ns) for f in files]
    assert standin.write_standin_caches(root) == environment
    assert [(f.stat().st_ino, f.stat().st_mtime_ns) for f in files] == before


def test_damaged_or_unstamped_cache_is_rewritten(tmp_path):
    standin.write_standin_caches(tmp_path, models=("resnet18",))
    checkpoint = standin.resnet18_checkpoint_path(tmp_path / "torch")
    complete = checkpoint.read_bytes()
    checkpoint.write_bytes(complete[:1000])  # a truncated file must not pass as written
    standin.write_standin_caches(tmp_path, models=("resnet18",))
    assert checkpoint.read_bytes() == complete
    (tmp_path / ".standin-resnet18-v1").unlink()
    inode = checkpoint.stat().st_ino
    standin.write_standin_caches(tmp_path, models=("resnet18",))
    assert checkpoint.stat().st_ino != inode


def test_interrupted_write_leaves_no_file_that_looks_complete(tmp_path, monkeypatch):
    def interrupted_save(state_dict, path):
        Path(path).write_bytes(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(standin, "_torch_save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        standin.write_standin_caches(tmp_path, models=("resnet18",))
    checkpoint_dir = standin.resnet18_checkpoint_path(tmp_path / "torch").parent
    assert sorted(p.name for p in checkpoint_dir.iterdir()) == ["resnet18-f37072fd.pth.standin"]
    assert not (tmp_path / ".standin-resnet18-v1").exists()


def test_real_weights_are_never_overwritten(tmp_path):
    checkpoint = standin.resnet18_checkpoint_path(tmp_path / "torch")
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"genuine weights")
    with pytest.raises(FileExistsError):
        standin.write_standin_caches(tmp_path, models=("resnet18",))
    assert checkpoint.read_bytes() == b"genuine weights"
    ref = tmp_path / "hf" / "hub" / "models--google--vit-base-patch16-224" / "refs" / "main"
    ref.parent.mkdir(parents=True)
    ref.write_text("a" * 40)
    with pytest.raises(FileExistsError):
        standin.write_standin_caches(tmp_path, models=("vit",))
    assert ref.read_text() == "a" * 40


def test_unknown_model_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="resnet50"):
        standin.write_standin_caches(tmp_path, models=("resnet50",))


def test_command_line_warns_and_prints_exports(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "tools.standin_weights", str(tmp_path), "--models", "resnet18"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "STAND-IN" in completed.stderr and "meaningless" in completed.stderr
    assert f"export TORCH_HOME={tmp_path.resolve() / 'torch'}\n" in completed.stdout
    assert "export HF_HUB_OFFLINE=1\n" in completed.stdout
    assert standin.resnet18_checkpoint_path(tmp_path / "torch").is_file()
