"""Train the course's toy models (coursekit/toy_models.py) from their fixed recipes and write their weights.

Each model trains on fresh synthetic pictures (coursekit/synthetic.py, seeds 0, 1, ...) on the CPU
with deterministic algorithms and one thread, so a rerun on the same machine and torch version
writes the same tensors (their sha256 is printed; the file's bytes can differ, as safetensors writes
the metadata in no fixed order). Prints each model's held-out accuracy and training time (wall clock, and
CPU time, which is what an idle machine's wall clock would be), then the pointing-game rates of
the course's explainers on both models (coursekit/toy_explanations.py): the figures that
resources/SOURCES.md records.

Usage (from the course root): python -m tools.train_toy_models [cnn] [vit] [--out DIR]   (default: both, resources/)
"""
import argparse
import platform
import time
from pathlib import Path

import torch

from coursekit import toy_explanations, toy_models
from coursekit.paths import RESOURCES


def train_and_save(kind, out_dir):
    """Train one toy model, write it to out_dir, and return (path, tensors' sha256, held-out accuracy, wall seconds,
    CPU seconds)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    model = toy_models.train(kind, progress=lambda epoch, loss: print(
        f"  {kind} epoch {epoch + 1}: loss {loss:.3f} ({time.perf_counter() - start:.0f} s)", flush=True))
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    accuracy = toy_models.accuracy(model, toy_models.held_out_pictures())
    path = Path(out_dir) / toy_models.WEIGHT_FILES[kind]
    toy_models.save(model, kind, path, notes={
        "held_out_accuracy": f"{accuracy:.4f}", "torch": torch.__version__, "machine": platform.machine()})
    return path, toy_models.tensors_digest(model.state_dict()), accuracy, seconds, cpu_seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # No `choices`: some Python versions check an empty `nargs="*"` list against them and refuse it.
    parser.add_argument("kinds", nargs="*", help="cnn and/or vit (default: both)")
    parser.add_argument("--out", default=RESOURCES, help="folder for the weights (default: resources/)")
    args = parser.parse_args(argv)
    unknown = set(args.kinds) - set(toy_models.WEIGHT_FILES)
    if unknown:
        parser.error(f"unknown model(s) {sorted(unknown)}: choose from {sorted(toy_models.WEIGHT_FILES)}")
    for kind in args.kinds or sorted(toy_models.WEIGHT_FILES):
        path, digest, accuracy, seconds, cpu_seconds = train_and_save(kind, args.out)
        print(f"{kind}: held-out accuracy {accuracy:.1%}, trained in {seconds:.1f} s ({cpu_seconds:.1f} s of CPU) "
              f"-> {path} ({path.stat().st_size:,} bytes, tensors sha256 {digest})", flush=True)
    paths = {kind: Path(args.out) / name for kind, name in toy_models.WEIGHT_FILES.items()}
    if all(path.is_file() for path in paths.values()):
        models = {kind: toy_models.load(kind, path=path) for kind, path in paths.items()}
        rates = toy_explanations.pointing_rates(models["cnn"], models["vit"], toy_models.held_out_pictures())
        print("pointing game on the held-out pictures: " + ", ".join(f"{name} {rate:.1%}" for name, rate in rates.items()))


if __name__ == "__main__":
    main()
