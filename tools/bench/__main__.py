"""`python -m tools.bench` (make bench): time the explanation methods, the notebooks and autograding.

Prints a table and writes benchmarks/latest.json. With --class-size N (make bench-class) it grades a
simulated class instead (grading.py) and writes benchmarks/class.json. Uses the real weights when
they are in the libraries' caches, otherwise deterministic stand-ins (same architecture, so the
same cost; the output says which).
"""
import argparse
import json
import os
import platform
import sys
import tempfile
from functools import partial
from pathlib import Path

import torch

from coursekit.models import RESNET18_CHECKPOINT, STANDIN_CONFIG_KEY, STANDIN_SIDECAR_SUFFIX
from coursekit.paths import COURSE_ROOT
from tools.bench import grading, methods, workflows
from tools.bench.timing import median_seconds
from tools.standin_weights import STANDIN_NOTICE, VIT_REPO_FOLDER, write_standin_caches

RESULTS = COURSE_ROOT / "benchmarks" / "latest.json"
CLASS_RESULTS = COURSE_ROOT / "benchmarks" / "class.json"


def _cached_vit_config():
    """The cached config.json of the ViT, found as huggingface_hub would, without importing it:
    huggingface_hub fixes its cache folder on import, and HF_HOME may still change below."""
    hub = os.environ.get("HF_HUB_CACHE") or Path(
        os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "huggingface"
    ) / "hub"
    return next(Path(hub).glob(f"{VIT_REPO_FOLDER}/snapshots/*/config.json"), None)


def _use_standin_weights_unless_real_ones_are_cached():
    """Return "real" or "stand-in"; for stand-ins, point this process and its children at them."""
    resnet = Path(torch.hub.get_dir()) / "checkpoints" / RESNET18_CHECKPOINT
    vit_config = _cached_vit_config()
    real = (resnet.is_file() and not resnet.with_name(resnet.name + STANDIN_SIDECAR_SUFFIX).exists()
            and vit_config is not None and STANDIN_CONFIG_KEY not in vit_config.read_text())
    if real:
        return "real"
    os.environ.update(write_standin_caches(COURSE_ROOT / ".cache" / "standin"))
    print(STANDIN_NOTICE, file=sys.stderr)
    return "stand-in"


def _cpu_name():
    """The CPU's model name (Linux's /proc/cpuinfo), else what the platform says."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def _machine(weights):
    return {"python": platform.python_version(), "torch": torch.__version__, "cpu": _cpu_name(),
            "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "system": platform.platform(), "weights": weights}


def _print_methods(rows):
    print(f"\n{'method':18s} {'ours':24s} {'ms':>8s}   {'baseline':26s} {'ms':>8s} {'ratio':>6s}  target")
    for r in rows:
        target = "" if r["target"] is None else f"<= {r['target']:.2f} {'met' if r['met'] else 'MISSED'}"
        print(f"{r['method']:18s} {r['ours']:24s} {r['ours_ms']:8.1f}   {r['baseline']:26s} "
              f"{r['baseline_ms']:8.1f} {r['ratio']:6.3f}  {target}")


def _print_runs(rows):
    print(f"\n{'run':40s} {'wall s':>8s} {'peak RSS MB':>12s}  target")
    for r in rows:
        print(f"{r['run']:40s} {r['wall_s']:8.1f} {r['peak_rss_mb']:12.0f}  {r['target']}"
              f"{'' if r['returncode'] == 0 else '  FAILED (exit ' + str(r['returncode']) + ')'}")


def _print_class(runs, profile):
    sequential = runs[0]["wall_s"]
    print(f"\ngrading a class: {runs[0]['students']} students x {runs[0]['notebooks'] // runs[0]['students']} "
          f"assignments = {runs[0]['notebooks']} notebooks")
    print(f"{'jobs':>4s} {'wall s':>8s} {'notebooks/h':>12s} {'speed-up':>9s} {'peak RSS MB':>12s} "
          f"{'all at once MB':>15s}  scores")
    for run in runs:
        same = "identical" if run["scores"] == runs[0]["scores"] else "DIFFERENT"
        print(f"{run['jobs']:4d} {run['wall_s']:8.1f} {run['notebooks_per_hour']:12.0f} {sequential / run['wall_s']:9.2f} "
              f"{run['peak_rss_mb']:12.0f} {run['peak_total_rss_mb']:15.0f}  {same}")
    parts = list(dict.fromkeys(part for times in profile.values() for part in times))
    print("\nwhere one notebook's grading time goes (one worker, mean seconds):")
    print(f"{'assignment':22s}" + "".join(f" {part[:14]:>14s}" for part in parts))
    for assignment, times in profile.items():
        print(f"{assignment:22s}" + "".join(f" {times.get(part, 0.0):14.2f}" for part in parts))


def grade_a_class(size):
    """Grade a simulated class with one worker and with two; print and write the results."""
    with tempfile.TemporaryDirectory(prefix="xai-class-") as scratch:
        runs = [grading.class_run(scratch, size, jobs) for jobs in (1, 2)]
    profile = grading.profile(runs[0]["timings"])
    _print_class(runs, profile)
    return {"runs": [{k: v for k, v in run.items() if k not in ("scores", "timings")} for run in runs],
            "identical_scores": runs[1]["scores"] == runs[0]["scores"], "profile": profile}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40, help="timed repeats per method (median)")
    parser.add_argument("--skip-runs", action="store_true", help="only the methods, not notebooks/grading")
    parser.add_argument("--class-size", type=int, default=0, help="grade a simulated class of this size instead")
    args = parser.parse_args(argv)

    weights = _use_standin_weights_unless_real_ones_are_cached()
    machine = _machine(weights)
    print("machine:", ", ".join(f"{k}={v}" for k, v in machine.items()))
    if args.class_size:
        CLASS_RESULTS.write_text(json.dumps({"machine": machine, **grade_a_class(args.class_size)}, indent=2) + "\n")
        print(f"\nwritten: {CLASS_RESULTS.relative_to(COURSE_ROOT)}")
        return
    measure = partial(median_seconds, repeats=args.repeats)
    method_rows = methods.resnet_rows(measure) + methods.vit_rows(measure)
    _print_methods(method_rows)
    run_rows = []
    if not args.skip_runs:
        with tempfile.TemporaryDirectory(prefix="xai-bench-") as scratch:
            run_rows = workflows.notebook_runs(Path(scratch)) + [workflows.autograde_run(Path(scratch))]
        _print_runs(run_rows)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": machine, "methods": method_rows, "runs": run_rows}, indent=2) + "\n")
    print(f"\nwritten: {RESULTS.relative_to(COURSE_ROOT)}")


if __name__ == "__main__":
    main()
