"""Download the real pretrained weights into the libraries' caches, once, on a machine that is online.

    python -m tools.fetch_weights        (or: make weights)

ResNet18 goes to $TORCH_HOME/hub/checkpoints (default ~/.cache/torch), the ViT to
$HF_HOME/hub (default ~/.cache/huggingface). To use them on an offline machine,
copy those folders there and set TORCH_HOME / HF_HOME to point at them.
"""
import torch
from huggingface_hub.constants import HF_HUB_CACHE

from coursekit.models import load_resnet18, load_vit


def main():
    load_resnet18()
    print(f"ResNet18 weights cached in {torch.hub.get_dir()}/checkpoints")
    load_vit()
    print(f"ViT-B/16 weights cached in {HF_HUB_CACHE}")


if __name__ == "__main__":
    main()
