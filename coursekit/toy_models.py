"""Two small classifiers of coursekit.synthetic's pictures, trained by the course: models with a known answer.

The class of a synthetic picture is the shape of its one warm-coloured object, so a map
that explains a model that is right should point at that object. Both models are small
enough to train on a laptop CPU in about a minute or less (resources/SOURCES.md), and both
fit the course's own explainers unchanged:

- ToyCNN has torchvision ResNet's attribute names: its last conv stage is `model.layer4`
  (ending in a torchvision BasicBlock), followed only by global average pooling and the
  linear `model.fc`, so `coursekit.explainers.compute_cam(model, x, c)` is an exact CAM
  (logit = mean(CAM) + bias) and `GradCAM(model)` explains `layer4[-1].conv2` as in notebook 02.
- The toy ViT is transformers' ViTForImageClassification (eager attention, a CLS token,
  8 x 8 patches of 8 x 8 pixels), so `model(pixel_values=x, output_attentions=True).attentions`
  goes straight into `compute_attention_rollout`.

Both take `model_input(pictures.images)`: the pictures of make_pictures ((n, 3, 64, 64) in
[0, 1]) scaled to [-1, 1] as the course's ViT processor does; `logits`, `accuracy` and
`attentions_of` do that themselves.
`load_toy_cnn()` / `load_toy_vit()` read the weights shipped in resources/ (made by
`make toy-models`); `retrain=True` trains them again from the fixed recipe instead.
"""
import hashlib
import json
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.resnet import BasicBlock

from coursekit.messages import bilingual
from coursekit.paths import RESOURCES
from coursekit.synthetic import CLASSES, IMAGE_SIZE, make_pictures

TEST_SEED = 1_000_000            # make_pictures(n, TEST_SEED): the held-out pictures (training uses seeds 0, 1, ...)
HELD_OUT_PICTURES = 500
MEAN = STD = 0.5                 # model_input: as google/vit-base-patch16-224's image processor normalises
FORMAT = "coursekit toy model v1"  # in each weights file's metadata; bump when an architecture changes


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a trained model: the same recipe gives the same weights on one machine."""
    train_seed: int          # epoch e trains on make_pictures(pictures_per_epoch, train_seed + e): never the same picture twice
    pictures_per_epoch: int
    hint_epochs: int         # the size hint (see make_pictures) fades from 1 to 0 over these first epochs; 0: none
    init_seed: int           # torch.manual_seed before building the model, and the shuffling seed
    epochs: int
    batch_size: int
    learning_rate: float     # peak of a one-cycle schedule (AdamW)
    warmup: float            # the fraction of the steps over which the learning rate rises to its peak
    weight_decay: float
    threads: int             # torch threads while training: results are bit-identical only for one count
    fused_attention: bool    # a ViT trains with PyTorch's fused attention, faster (see train); False for the CNN


CNN_RECIPE = Recipe(train_seed=0, pictures_per_epoch=4000, hint_epochs=0, init_seed=0, epochs=2, batch_size=100,
                    learning_rate=4e-3, warmup=0.3, weight_decay=1e-4, threads=1, fused_attention=False)
VIT_RECIPE = Recipe(train_seed=0, pictures_per_epoch=2000, hint_epochs=4, init_seed=0, epochs=12, batch_size=50,
                    learning_rate=2e-3, warmup=0.3, weight_decay=0.05, threads=1, fused_attention=True)
RECIPES = {"cnn": CNN_RECIPE, "vit": VIT_RECIPE}
WEIGHT_FILES = {"cnn": "toy_cnn.safetensors", "vit": "toy_vit.safetensors"}


class ToyModelWeightsError(RuntimeError):
    """A shipped toy model's weights are missing, unreadable or do not fit the architecture."""


def _stage(in_channels, out_channels, stride):
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


class ToyCNN(nn.Module):
    """Four conv stages, 64x64 -> 8x8, a ResNet basic block, then global average pooling and one linear layer.

    It has torchvision ResNet's attribute names where the course's explainers look: `layer4` is the last
    conv stage (a `Sequential` of one torchvision `BasicBlock`, so `layer4[-1].conv2` is Grad-CAM's default
    layer, as in notebook 02), and only `avgpool` and `fc` follow it (so CAM is exact, as in notebook 01).
    """

    def __init__(self, widths=(16, 24, 32, 48), num_classes=len(CLASSES)):
        super().__init__()
        self.conv1 = _stage(3, widths[0], 2)              # 32 x 32
        self.layer1 = _stage(widths[0], widths[1], 2)     # 16 x 16
        self.layer2 = _stage(widths[1], widths[2], 2)     # 8 x 8
        self.layer3 = _stage(widths[2], widths[3], 1)
        self.layer4 = nn.Sequential(BasicBlock(widths[3], widths[3]))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[3], num_classes)

    def forward(self, x):
        for stage in (self.conv1, self.layer1, self.layer2, self.layer3, self.layer4):
            x = stage(x)
        return self.fc(self.avgpool(x).flatten(1))


def toy_vit_config(attention="eager"):
    """The toy ViT's configuration: 64x64 pictures in 8x8 patches (an 8x8 grid and a CLS token), eager attention
    (the explainers read its attention weights; "sdpa", PyTorch's fused attention, computes the same function faster)."""
    from transformers import ViTConfig

    return ViTConfig(image_size=IMAGE_SIZE, patch_size=8, num_channels=3, hidden_size=48, num_hidden_layers=4,
                     num_attention_heads=4, intermediate_size=96, num_labels=len(CLASSES),
                     id2label=dict(enumerate(CLASSES)), label2id={name: i for i, name in enumerate(CLASSES)},
                     attn_implementation=attention)


def build(kind, attention="eager"):
    """A freshly initialised model of `kind` ("cnn" or "vit"; `attention` as for toy_vit_config), in eval mode."""
    if kind == "cnn":
        return ToyCNN().eval()
    if kind == "vit":
        from transformers import ViTForImageClassification

        return ViTForImageClassification(toy_vit_config(attention)).eval()
    raise ValueError(f"kind must be 'cnn' or 'vit', got {kind!r}")


def model_input(images):
    """What both toy models take: pictures in [0, 1] (as make_pictures gives them) scaled to [-1, 1].

    The same normalisation as the course's real ViT's image processor (mean = std = 0.5). Centred
    inputs matter here: on raw [0, 1] pictures, whose patches all share a large grey component, the
    toy ViT stays at chance for hundreds of steps.
    """
    return (images - MEAN) / STD


def logits(model, images, batch_size=500):
    """(n, classes) pre-softmax scores of either toy model for (n, 3, 64, 64) pictures in [0, 1], without gradients."""
    with torch.no_grad():
        parts = [model(model_input(part)) for part in images.split(batch_size)]
    return torch.cat([getattr(part, "logits", part) for part in parts])


def attentions_of(vit, images):
    """The toy ViT's attention tensors for (n, 3, 64, 64) pictures in [0, 1]: one (n, heads, 65, 65) tensor per layer."""
    from coursekit.vit import expect_layer_attentions

    with torch.no_grad():
        attentions = vit(pixel_values=model_input(images), output_attentions=True).attentions
    expect_layer_attentions(attentions, vit.config)
    return attentions


def accuracy(model, pictures):
    """The fraction of `pictures` (a ShapePictures) whose class the model gets right."""
    return (logits(model, pictures.images).argmax(dim=1) == pictures.labels).float().mean().item()


@contextmanager
def reproducible(threads):
    """Deterministic algorithms and a fixed thread count for the body; the previous settings come back after."""
    previous = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(previous[0])
        torch.use_deterministic_algorithms(previous[1])


def train(kind, recipe=None, steps=None, progress=None):
    """Train a toy model from scratch by `recipe` (CNN_RECIPE / VIT_RECIPE by default); returns it in eval mode.

    `steps` stops early (for testing that training is reproducible); `progress(epoch, loss)` is
    called after each epoch. A recipe with `fused_attention` trains the ViT with PyTorch's fused
    attention and returns its weights in a ViT with eager attention, whose attention weights the
    explainers read (the two have the same parameters, in every transformers version the course allows).
    """
    recipe = recipe or RECIPES[kind]
    with reproducible(recipe.threads):
        torch.manual_seed(recipe.init_seed)
        model = build(kind, "sdpa" if recipe.fused_attention else "eager")
        _fit(model.train(), recipe, steps, progress)
    if recipe.fused_attention:
        trained, model = model, build(kind)
        model.load_state_dict(trained.state_dict())
    return model.eval()


def _fit(model, recipe, steps, progress):
    """The training loop of `train`: fresh pictures every epoch, AdamW with a one-cycle schedule."""
    per_epoch = recipe.pictures_per_epoch // recipe.batch_size
    optimiser = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate, weight_decay=recipe.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=recipe.learning_rate,
                                                   total_steps=recipe.epochs * per_epoch, pct_start=recipe.warmup)
    shuffle = torch.Generator().manual_seed(recipe.init_seed)
    done = 0
    for epoch in range(recipe.epochs):
        hint = max(0.0, 1 - epoch / recipe.hint_epochs) if recipe.hint_epochs else 0.0
        pictures = make_pictures(per_epoch * recipe.batch_size, recipe.train_seed + epoch, size_hint=hint)
        for batch in torch.randperm(len(pictures), generator=shuffle).view(per_epoch, recipe.batch_size):
            output = model(model_input(pictures.images[batch]))
            loss = F.cross_entropy(getattr(output, "logits", output), pictures.labels[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            done += 1
            if done == steps:
                return
        if progress:
            progress(epoch, loss.item())


def held_out_pictures(n=HELD_OUT_PICTURES):
    """The pictures no toy model was trained on, for accuracy and the pointing game."""
    return make_pictures(n, TEST_SEED)


def recipe_json(kind):
    """The recipe of `kind` as the JSON text stored in its weights file (to tell stale weights from current ones)."""
    return json.dumps(asdict(RECIPES[kind]), sort_keys=True)


def tensors_digest(state):
    """sha256 of a state dict's names, dtypes, shapes and bytes: stored at save, checked at load."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name} {tensor.dtype} {tuple(tensor.shape)}\n".encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save(model, kind, path, notes=None):
    """Write `model`'s weights as safetensors; the metadata holds the format, kind, recipe, a digest and `notes`."""
    from safetensors.torch import save_file

    state = {name: value.contiguous() for name, value in model.state_dict().items()}
    metadata = {"format": FORMAT, "kind": kind, "recipe": recipe_json(kind), "tensors_sha256": tensors_digest(state),
                **(notes or {})}
    save_file(state, str(path), metadata=metadata)


def _weights_error(kind, korean, english):
    """The error for unusable weights: what is wrong and how to remake them, Korean first, then English."""
    return ToyModelWeightsError(bilingual(
        f"{korean} 코스 폴더에서 `make toy-models`로 다시 만들거나, load_toy_{kind}(retrain=True)로 새로 학습하세요.",
        f"{english} Rebuild it with `make toy-models` in the course folder, or train afresh with "
        f"load_toy_{kind}(retrain=True)."))


def load(kind, retrain=False, path=None):
    """The toy model of `kind` with the weights shipped in resources/ (or `path`), or retrained when `retrain`.

    The file must be a safetensors file written by `save` for `kind`, its tensors must match the digest
    stored with them and fit the architecture; otherwise a ToyModelWeightsError says how to remake it.
    """
    if retrain:
        return train(kind)
    from safetensors import SafetensorError
    from safetensors.torch import safe_open

    path = Path(path or RESOURCES / WEIGHT_FILES[kind])
    if not path.is_file():
        raise _weights_error(kind, f"장난감 모델 가중치 파일이 없습니다: {path}.", f"Toy model weights not found: {path}.")
    try:
        with safe_open(str(path), framework="pt") as weights:
            metadata = weights.metadata() or {}
            state = {name: weights.get_tensor(name) for name in weights.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise _weights_error(kind, f"장난감 모델 가중치 파일이 손상되어 읽을 수 없습니다: {path} ({error}).",
                             f"Toy model weights are corrupted and cannot be read: {path} ({error}).") from None
    found = (metadata.get("format"), metadata.get("kind"))
    if found != (FORMAT, kind):
        raise _weights_error(kind, f"{path}는 이 코드의 장난감 {kind} 모델 가중치가 아닙니다 (format, kind = {found}).",
                             f"{path} does not hold weights of this code's toy {kind} (format, kind = {found}).")
    if metadata.get("tensors_sha256") != tensors_digest(state):
        raise _weights_error(kind, f"장난감 모델 가중치 파일이 손상되었습니다 (체크섬 불일치): {path}.",
                             f"Toy model weights are corrupted (checksum mismatch): {path}.")
    model = build(kind)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise _weights_error(kind, f"{path}의 가중치가 모델 구조와 맞지 않습니다.",
                             f"The weights in {path} do not fit the architecture: {error}") from None
    return model.eval()


def load_toy_cnn(retrain=False):
    """The trained ToyCNN (shipped weights; `retrain=True` trains it again: about 20 s of CPU)."""
    return load("cnn", retrain)


def load_toy_vit(retrain=False):
    """The trained toy ViTForImageClassification (shipped weights; `retrain=True` trains it again: about a minute of CPU)."""
    return load("vit", retrain)
