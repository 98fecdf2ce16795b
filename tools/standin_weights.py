"""Write deterministic STAND-IN weights where torchvision and Hugging Face look for a cached download.

No machine that runs the course's tests or CI can download model weights, but the notebooks
must keep the real loading code:

    torchvision.models.resnet18(weights="IMAGENET1K_V1")
    ViTForImageClassification.from_pretrained("google/vit-base-patch16-224", attn_implementation="eager")
    ViTImageProcessor.from_pretrained("google/vit-base-patch16-224")

Both libraries load a cached copy without any network access, so this module writes files with
the genuine names and layouts, filled with seeded random weights:

- torchvision (TORCH_HOME=<cache_root>/torch): hub/checkpoints/resnet18-f37072fd.pth, a state dict
  of torchvision's ResNet18. The hash in the name is only checked on download, never on a cached file.
- Hugging Face (HF_HOME=<cache_root>/hf, HF_HUB_OFFLINE=1): hub/models--google--vit-base-patch16-224/
  with refs/main naming a fixed fake revision and snapshots/<revision>/ holding config.json,
  model.safetensors (with the checkpoint key names the hub file uses) and preprocessor_config.json.

The weights are NOT the pretrained ones: predictions and pictures made with them are meaningless.
Two markers, defined in coursekit.models (STANDIN_SIDECAR_SUFFIX, STANDIN_CONFIG_KEY), let the course's
loader say so:

- torchvision: a sidecar text file <TORCH_HOME>/hub/checkpoints/resnet18-f37072fd.pth.standin;
- Hugging Face: the key "course_standin_weights": true in config.json (model.config.course_standin_weights).

The weights are shaped so that wrong student answers cannot pass a check by accident: the ResNet's
fc.bias is clearly non-zero, its BatchNorm statistics are calibrated so that different images get
different top classes, and the ViT's query/key weights are scaled so that attention is peaked
(far from uniform) and differs between heads, layers and images.

Usage: python -m tools.standin_weights DIR [--models resnet18 vit]
"""
import argparse
import hashlib
import json
import os
import shlex
import sys
from collections import Counter
from pathlib import Path

import torch
from safetensors.torch import save_file
from torchvision.models import ResNet18_Weights, resnet18

from coursekit.models import RESNET18_CHECKPOINT, STANDIN_CONFIG_KEY, STANDIN_SIDECAR_SUFFIX, VIT_MODEL_ID

STANDIN_VERSION = 1  # bump whenever the written bytes change, so existing caches are rewritten
MODELS = ("resnet18", "vit")

STANDIN_NOTICE = ("These are deterministic STAND-IN weights for tests and CI, not the real pretrained "
                  "weights: predictions and pictures made with them are meaningless.")

VIT_REPO_FOLDER = "models--" + VIT_MODEL_ID.replace("/", "--")  # the hub cache's folder name
#: A fixed fake revision (40 hex digits, as the hub cache requires), derived from a readable name.
VIT_REVISION = hashlib.sha1(b"course stand-in google/vit-base-patch16-224 v1").hexdigest()

RESNET_SEED = 5  # of seeds 0-5, the one that gives the five course photos five different top classes
VIT_SEED = 1234
RESNET_FC_WEIGHT_STD = 0.1
RESNET_FC_BIAS_STD = 0.5  # large, so that an answer which drops the bias is visibly wrong
VIT_INIT_STD = 0.02  # the ViT paper's and transformers' initializer_range
VIT_POSITION_STD = 0.1  # larger than at init: attention also depends on position, as in the real model
VIT_CLASSIFIER_WEIGHT_STD = 0.2  # makes the image, not the bias, decide the top class
VIT_CLASSIFIER_BIAS_STD = 0.5
VIT_QK_SCALE = 4.0  # query and key weights are scaled by this times a per-head factor
VIT_HEAD_FACTORS = (0.6, 1.4)  # per-head factors are spread evenly over this range, shuffled per layer

VIT_CONFIG = {
    "architectures": ["ViTForImageClassification"],
    "attention_probs_dropout_prob": 0.0,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.0,
    "hidden_size": 768,
    "image_size": 224,
    "initializer_range": VIT_INIT_STD,
    "intermediate_size": 3072,
    "layer_norm_eps": 1e-12,
    "model_type": "vit",
    "num_attention_heads": 12,
    "num_channels": 3,
    "num_hidden_layers": 12,
    "patch_size": 16,
    "qkv_bias": True,
}

VIT_PREPROCESSOR_CONFIG = {
    "do_normalize": True,
    "do_rescale": True,
    "do_resize": True,
    "image_mean": [0.5, 0.5, 0.5],
    "image_processor_type": "ViTImageProcessor",
    "image_std": [0.5, 0.5, 0.5],
    "resample": 2,
    "rescale_factor": 1 / 255,
    "size": {"height": 224, "width": 224},
}


# --- writing files safely -------------------------------------------------------------------------

def _atomic_write(path, write):
    """Call write(temporary_path), then rename the result to `path`.

    A run that is interrupted leaves no file under the final name, so the libraries never load
    half a file; a failed write removes its temporary file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _write_text(path, text):
    """Write a text file atomically (UTF-8, no newline added)."""
    _atomic_write(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def _write_json(path, data):
    """Write `data` as indented, key-sorted JSON, atomically."""
    _write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _stamp_path(cache_root, model):
    """Return the file that records a complete write of `model` (version and file sizes)."""
    return cache_root / f".standin-{model}-v{STANDIN_VERSION}"


def _is_complete(cache_root, model):
    """True if the stamp of `model` exists and every file it lists has the recorded size."""
    try:
        files = json.loads(_stamp_path(cache_root, model).read_text(encoding="utf-8"))["files"]
        return all((cache_root / name).stat().st_size == size for name, size in files.items())
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _write_stamp(cache_root, model, paths):
    """Record that `model` was written completely; done last, after every file is in place."""
    files = {path.relative_to(cache_root).as_posix(): path.stat().st_size for path in paths}
    _write_json(_stamp_path(cache_root, model), {"version": STANDIN_VERSION, "files": files})


# --- ResNet18 for torchvision ----------------------------------------------------------------------

def resnet18_checkpoint_path(torch_home):
    """Return where torchvision looks for the cached IMAGENET1K_V1 ResNet18 weights."""
    return Path(torch_home) / "hub" / "checkpoints" / RESNET18_CHECKPOINT


def _calibrate_batchnorm(model, generator):
    """Set every BatchNorm's running statistics to those of a batch of smooth random images.

    With the default statistics (mean 0, variance 1) a random ResNet's pooled features are nearly
    the same for every image and one class wins for all inputs. Calibrated statistics make the
    features vary with the image. The pass runs in float64 so that the float32 results do not
    depend on the number of threads or on the CPU's summation order.
    """
    coarse = torch.randn(8, 3, 14, 14, generator=generator, dtype=torch.float64)
    images = torch.nn.functional.interpolate(coarse, size=112, mode="bicubic", align_corners=False)
    batchnorms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for batchnorm in batchnorms:
        batchnorm.reset_running_stats()
        batchnorm.momentum = None  # a cumulative average: after one batch, exactly its statistics
    model.double().train()
    with torch.no_grad():
        model(images)
    model.float().eval()


def build_resnet18_state_dict():
    """Return a deterministic state dict for torchvision's resnet18 (1000 classes).

    Convolutions keep torchvision's own initialisation (seeded, without touching the caller's
    random state); fc gets zero-mean weight rows, so no class wins for every image, and a clearly
    non-zero bias.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RESNET_SEED)
        model = resnet18(weights=None)
    generator = torch.Generator().manual_seed(RESNET_SEED)
    _calibrate_batchnorm(model, generator)
    with torch.no_grad():
        weight = torch.randn(model.fc.weight.shape, generator=generator)
        model.fc.weight.copy_((weight - weight.mean(dim=1, keepdim=True)) * RESNET_FC_WEIGHT_STD)
        model.fc.bias.copy_(torch.randn(model.fc.bias.shape, generator=generator) * RESNET_FC_BIAS_STD)
    return {name: tensor.detach().clone().contiguous() for name, tensor in model.state_dict().items()}


def _torch_save(state_dict, path):
    """torch.save into an open file, so the archive's inner name (and the bytes) do not depend on `path`."""
    with open(path, "wb") as file:
        torch.save(state_dict, file)


def _write_resnet18(cache_root):
    """Write the ResNet18 checkpoint and its stand-in sidecar; return the written paths."""
    checkpoint = resnet18_checkpoint_path(cache_root / "torch")
    sidecar = checkpoint.with_name(checkpoint.name + STANDIN_SIDECAR_SUFFIX)
    if checkpoint.exists() and not sidecar.exists():
        raise FileExistsError(f"{checkpoint} exists without the stand-in marker {sidecar.name}: it may be "
                              "the real pretrained file, so it is not overwritten. Use another directory.")
    # The marker goes first: a checkpoint without it would be taken for the real one.
    _write_text(sidecar, STANDIN_NOTICE + f"\nWritten by tools/standin_weights.py (version {STANDIN_VERSION}).\n")
    state_dict = build_resnet18_state_dict()
    _atomic_write(checkpoint, lambda temporary: _torch_save(state_dict, temporary))
    return [sidecar, checkpoint]


# --- ViT-B/16 for Hugging Face ---------------------------------------------------------------------

def vit_snapshot_dir(hf_home):
    """Return the snapshot folder that the hub cache resolves refs/main to."""
    return Path(hf_home) / "hub" / VIT_REPO_FOLDER / "snapshots" / VIT_REVISION


def imagenet_labels():
    """Return the 1000 ImageNet class names (torchvision's), made unique for label2id.

    A name that occurs more than once gets its index appended, e.g. "crane (517)", so that
    label2id and id2label are inverse to each other.
    """
    names = ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
    counts = Counter(names)
    return [f"{name} ({index})" if counts[name] > 1 else name for index, name in enumerate(names)]


def vit_config():
    """Return config.json of the stand-in: google/vit-base-patch16-224's, plus the stand-in marker."""
    labels = imagenet_labels()
    return {**VIT_CONFIG,
            "id2label": {str(index): name for index, name in enumerate(labels)},
            "label2id": {name: index for index, name in enumerate(labels)},
            STANDIN_CONFIG_KEY: True}


def _vit_shapes():
    """Return {checkpoint key: shape} for ViTForImageClassification, as the hub's model.safetensors names them.

    These are the names in the real file (transformers 4.x module paths); transformers 5 renames
    them while loading and writes them back with save_pretrained, so the real file and this one
    take the same loading path.
    """
    hidden, mlp, labels = VIT_CONFIG["hidden_size"], VIT_CONFIG["intermediate_size"], 1000
    patch, channels = VIT_CONFIG["patch_size"], VIT_CONFIG["num_channels"]
    tokens = (VIT_CONFIG["image_size"] // patch) ** 2 + 1
    shapes = {
        "vit.embeddings.cls_token": (1, 1, hidden),
        "vit.embeddings.position_embeddings": (1, tokens, hidden),
        "vit.embeddings.patch_embeddings.projection.weight": (hidden, channels, patch, patch),
        "vit.embeddings.patch_embeddings.projection.bias": (hidden,),
    }
    linears = {"attention.attention.query": (hidden, hidden), "attention.attention.key": (hidden, hidden),
               "attention.attention.value": (hidden, hidden), "attention.output.dense": (hidden, hidden),
               "intermediate.dense": (mlp, hidden), "output.dense": (hidden, mlp)}
    for layer in range(VIT_CONFIG["num_hidden_layers"]):
        prefix = f"vit.encoder.layer.{layer}."
        for name, shape in linears.items():
            shapes[prefix + name + ".weight"] = shape
            shapes[prefix + name + ".bias"] = shape[:1]
        for norm in ("layernorm_before", "layernorm_after"):
            shapes[prefix + norm + ".weight"] = (hidden,)
            shapes[prefix + norm + ".bias"] = (hidden,)
    shapes.update({"vit.layernorm.weight": (hidden,), "vit.layernorm.bias": (hidden,),
                   "classifier.weight": (labels, hidden), "classifier.bias": (labels,)})
    return shapes


def _qk_row_scales(generator):
    """Return one layer's scale for each output row of the query/key weights.

    Every head gets its own factor (so heads differ in how peaked they are), shuffled per layer.
    Scaling both query and key by s multiplies the attention logits by s^2.
    """
    heads = VIT_CONFIG["num_attention_heads"]
    head_dim = VIT_CONFIG["hidden_size"] // heads
    factors = torch.linspace(*VIT_HEAD_FACTORS, heads)[torch.randperm(heads, generator=generator)]
    return (VIT_QK_SCALE * factors).repeat_interleave(head_dim)[:, None]


def _vit_tensor(name, shape, generator, qk_scales):
    """Return the stand-in value of one ViT tensor (see the module docstring for the why)."""
    if ".layernorm" in name:
        return torch.ones(shape) if name.endswith(".weight") else torch.zeros(shape)
    if name.startswith("classifier."):
        std = VIT_CLASSIFIER_WEIGHT_STD if name.endswith(".weight") else VIT_CLASSIFIER_BIAS_STD
        return torch.randn(shape, generator=generator) * std
    std = VIT_POSITION_STD if name.endswith("position_embeddings") else VIT_INIT_STD
    tensor = torch.randn(shape, generator=generator) * std
    if name.endswith(("attention.attention.query.weight", "attention.attention.key.weight")):
        tensor *= qk_scales
    return tensor


def build_vit_state_dict():
    """Return the deterministic stand-in tensors of ViT-B/16, keyed as in the hub's model.safetensors."""
    generator = torch.Generator().manual_seed(VIT_SEED)
    state_dict, qk_scales = {}, None
    for name, shape in _vit_shapes().items():
        if name.endswith("attention.attention.query.weight"):  # a layer's query comes before its key
            qk_scales = _qk_row_scales(generator)
        state_dict[name] = _vit_tensor(name, shape, generator, qk_scales)
    return state_dict


def _save_safetensors(state_dict, path):
    """Save with safetensors, then make the file readable by all like the other files.

    safetensors creates its file with mode 0600, which breaks a cache shared between users
    (e.g. written by one account, read by the grader's).
    """
    save_file(state_dict, path, metadata={"format": "pt"})
    os.chmod(path, 0o644)


def _write_vit(cache_root):
    """Write the ViT-B/16 hub cache entry (refs/main, config, weights, preprocessor); return the written paths."""
    repo = cache_root / "hf" / "hub" / VIT_REPO_FOLDER
    ref = repo / "refs" / "main"
    if ref.exists() and ref.read_text(encoding="utf-8") != VIT_REVISION:
        raise FileExistsError(f"{ref} points at another revision, probably a real download; it is not "
                              "overwritten. Use another directory.")
    snapshot = vit_snapshot_dir(cache_root / "hf")
    config, weights, preprocessor = (snapshot / "config.json", snapshot / "model.safetensors",
                                     snapshot / "preprocessor_config.json")
    _write_json(config, vit_config())  # carries the marker, so it goes first
    _write_json(preprocessor, VIT_PREPROCESSOR_CONFIG)
    state_dict = build_vit_state_dict()
    _atomic_write(weights, lambda temporary: _save_safetensors(state_dict, temporary))
    _write_text(ref, VIT_REVISION)  # the hub reads this file verbatim: no trailing newline
    return [config, preprocessor, weights, ref]


# --- public API ------------------------------------------------------------------------------------

_WRITERS = {"resnet18": _write_resnet18, "vit": _write_vit}


def write_standin_caches(cache_root: Path, models=MODELS) -> dict[str, str]:
    """Write stand-in caches for `models` under cache_root and return the environment to use them.

    cache_root/torch is for TORCH_HOME and cache_root/hf for HF_HOME. A model whose stamp file
    shows a complete write of this version is skipped, so repeated calls are cheap. Files that may
    be real downloads (no stand-in marker) are never overwritten: FileExistsError instead.
    """
    unknown = set(models) - set(_WRITERS)
    if unknown:
        raise ValueError(f"unknown models {sorted(unknown)}; choose from {list(_WRITERS)}")
    cache_root = Path(cache_root).resolve()
    for model in models:
        if not _is_complete(cache_root, model):
            _write_stamp(cache_root, model, _WRITERS[model](cache_root))
    # HF_HUB_CACHE defaults to $HF_HOME/hub; it is set too because an inherited HF_HUB_CACHE would win.
    return {"TORCH_HOME": str(cache_root / "torch"), "HF_HOME": str(cache_root / "hf"),
            "HF_HUB_CACHE": str(cache_root / "hf" / "hub"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def main(argv=None):
    """Command line: write the caches, warn that they are stand-ins, print the export lines."""
    parser = argparse.ArgumentParser(prog="python -m tools.standin_weights", description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="cache root; torch/ and hf/ are created inside")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    args = parser.parse_args(argv)
    environment = write_standin_caches(args.directory, args.models)
    print(f"WARNING: {STANDIN_NOTICE}", file=sys.stderr)
    print(f"# Stand-in weights for {', '.join(args.models)} are in {args.directory}. Use them with:")
    for variable, value in environment.items():
        print(f"export {variable}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
