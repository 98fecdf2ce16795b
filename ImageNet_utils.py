"""ImageNet-1k class names, indexed as the pretrained classifiers' outputs.

The names come from torchvision's own metadata for the ResNet18 weights, so the
course ships no copy of the list and the index of a name is always the model's.
"""
from torchvision.models import ResNet18_Weights

from coursekit.messages import bilingual

NUM_CLASSES = 1000


class ImageNetLookupError(KeyError):
    """An unknown class index or name; shown as plain text (KeyError would print its message quoted)."""

    def __str__(self):
        return str(self.args[0])


class _ClassNames(dict):
    """A dict of class names whose missing keys get an error that says the valid range."""

    def __missing__(self, key):
        raise ImageNetLookupError(bilingual(
            f"ImageNet 클래스 인덱스는 0 이상 {NUM_CLASSES - 1} 이하의 정수입니다: 받은 값 {key!r}",
            f"ImageNet class indices are integers in [0, {NUM_CLASSES - 1}], got {key!r}"))


#: Class index (0-999) -> human-readable ImageNet class name.
clsidx_to_labels = _ClassNames(enumerate(ResNet18_Weights.IMAGENET1K_V1.meta["categories"]))


def label_to_index(name):
    """Return the class index of an ImageNet class name (exact, case-insensitive; torchvision's names are unique).

    Raises ImageNetLookupError (a KeyError) listing similar names when the name is unknown.
    """
    wanted = name.strip().lower()
    for idx, label in clsidx_to_labels.items():
        if label.lower() == wanted:
            return idx
    similar = [label for label in clsidx_to_labels.values() if wanted in label.lower()][:5]
    raise ImageNetLookupError(bilingual(f"ImageNet 클래스 이름 '{name}'을(를) 찾을 수 없습니다. 비슷한 이름: {similar}",
                                        f"no ImageNet class named '{name}'; similar names: {similar}"))


def check_class_index(target_class, num_classes=NUM_CLASSES):
    """Return `target_class` as an int after checking it is a valid index for `num_classes` classes.

    A clear error here beats an IndexError deep inside a tensor operation.
    """
    if isinstance(target_class, bool) or not hasattr(target_class, "__index__"):
        raise TypeError(bilingual(f"클래스 인덱스는 정수여야 합니다: 받은 값 {target_class!r}",
                                  f"class index must be an integer, got {type(target_class).__name__}"))
    index = int(target_class.__index__())
    if not 0 <= index < num_classes:
        raise IndexError(bilingual(f"클래스 인덱스는 0 이상 {num_classes - 1} 이하여야 합니다: 받은 값 {index}",
                                   f"class index must be in [0, {num_classes - 1}], got {index}"))
    return index
