"""Run inside the sandbox: start the grading kernel with a guard that keeps test cells honest.

Test cells are recognised by the SHA-256 of their source, which nbgrader has restored from
the gradebook (execute.py passes the hashes). Before each test cell the guard puts back
every function and class of the course's modules, torch, NumPy, math and builtins as they
were when the kernel started (a function's code too, and the tensors the course's checks
compare with), and hides student globals that shadow builtins (`float = ...`); after the
cell it fails the cell, with an error output, if student code changed any of them while
the cell ran (a function that replaces `torch.allclose` or a check helper when called).
Code that attacks this guard itself, or the kernel, is not stopped (README, instructors' section).
"""
import builtins
import hashlib
import importlib
import json
import os
import pkgutil
import sys
from pathlib import Path
from types import FunctionType

import torch

LIBRARY_MODULES = ("builtins", "math", "operator", "torch", "torch.nn", "torch.nn.functional", "torch.linalg",
                   "torch.special", "torch.autograd", "torch.fft", "torch.testing", "numpy", "numpy.linalg",
                   "numpy.testing")
COURSE_MODULES = ("utils", "ImageNet_utils")
# Values that legitimately change (counters, flags) or cannot be swapped for a cheat.
UNGUARDED_TYPES = (int, float, complex, bool, str, bytes, tuple, frozenset, type(None))
MISSING = object()


def cell_hash(source):
    """The fingerprint by which the guard knows a test cell (execute.py computes the same)."""
    return hashlib.sha256(source.encode()).hexdigest()


def course_module_names(course):
    """utils, ImageNet_utils and every coursekit module (importable once the course is on sys.path)."""
    sys.path.append(str(course))
    return [*COURSE_MODULES, "coursekit",
            *(f"coursekit.{m.name}" for m in pkgutil.iter_modules([str(Path(course) / "coursekit")]))]


def _guarded(namespace):
    """The entries of a module's or class's namespace that student code must not replace."""
    return {key: value for key, value in namespace.items() if not isinstance(value, UNGUARDED_TYPES)}


def _function_state(function):
    return function.__code__, function.__defaults__, function.__kwdefaults__


def _shadowing(cls, state):
    """Members added to a class since the snapshot that hide a base class's member (`torch.Tensor.abs = ...`).

    Other new members change no existing behaviour; libraries add some (transformers gives
    torch.nn.Module a `smart_apply` when it loads a model), so they are left alone.
    """
    return [key for key, value in vars(cls).items() if key not in state and not isinstance(value, UNGUARDED_TYPES)
            and any(key in vars(base) for base in cls.__mro__[1:])]


def _tensors(value, depth=3):
    """The tensors in a value or in its (nested) tuples, lists and dict values: the checks' expected data."""
    if isinstance(value, torch.Tensor):
        return [value]
    if depth and isinstance(value, (tuple, list, dict)):
        items = value.values() if isinstance(value, dict) else value
        return [tensor for item in items for tensor in _tensors(item, depth - 1)]
    return []


class Guard:
    """Snapshot of the guarded modules, classes, functions and the course's data; restores and checks them."""

    def __init__(self, shell, test_cells, module_names, course_modules=()):
        self.shell, self.test_cells = shell, set(test_cells)
        self.modules = {}
        for name in module_names:
            try:
                self.modules[name] = importlib.import_module(name)
            except ImportError:
                continue
        roots = {name.split(".")[0] for name in self.modules}
        self.module_state = {name: _guarded(vars(module)) for name, module in self.modules.items()}
        classes = {value for state in self.module_state.values() for value in state.values()
                   if isinstance(value, type) and value.__module__.split(".")[0] in roots}
        self.class_state = {cls: _guarded(vars(cls)) for cls in classes}
        namespaces = [*self.module_state.values(), *self.class_state.values()]
        self.functions = {value: _function_state(value)
                          for state in namespaces for value in state.values() if isinstance(value, FunctionType)}
        self.data = {tensor: tensor.detach().clone() for name in course_modules if name in self.modules
                     for value in vars(self.modules[name]).values() for tensor in _tensors(value)}
        self.ipython_names = dict(shell.user_ns)
        self.hidden, self.in_test = {}, False

    def changes(self):
        """Names of guarded objects that differ from the snapshot."""
        changed = [f"sys.modules[{name!r}]" for name, module in self.modules.items()
                   if sys.modules.get(name) is not module]
        for name, state in self.module_state.items():
            current = vars(self.modules[name])
            changed += [f"{name}.{key}" for key, value in state.items() if current.get(key, MISSING) is not value]
        for cls, state in self.class_state.items():
            current = vars(cls)
            changed += [f"{cls.__module__}.{cls.__qualname__}.{key}" for key in [*state, *_shadowing(cls, state)]
                        if current.get(key, MISSING) is not state.get(key, MISSING)]
        changed += [f"{function.__module__}.{function.__qualname__}.__code__"
                    for function, state in self.functions.items()
                    if any(now is not then for now, then in zip(_function_state(function), state))]
        changed += [f"a tensor {tuple(tensor.shape)} of the checks" for tensor, copy in self.data.items()
                    if tensor.shape != copy.shape or not torch.equal(tensor.detach(), copy)]
        return changed

    def restore(self):
        """Put every guarded module, attribute, class member, function and course tensor back as in the snapshot."""
        for name, module in self.modules.items():
            sys.modules[name] = module
            vars(module).update(self.module_state[name])
        for cls, state in self.class_state.items():
            for key in _shadowing(cls, state):
                delattr(cls, key)
            for key, value in state.items():
                if vars(cls).get(key, MISSING) is not value:
                    setattr(cls, key, value)
        for function, (code, defaults, kwdefaults) in self.functions.items():
            function.__code__, function.__defaults__, function.__kwdefaults__ = code, defaults, kwdefaults
        with torch.no_grad():
            for tensor, copy in self.data.items():
                tensor.set_(copy.clone())

    def before_cell(self, info):
        """Before a test cell: restore the snapshot and hide student globals that shadow builtins."""
        self.in_test = cell_hash(info.raw_cell) in self.test_cells
        if not self.in_test:
            return
        self.restore()
        user_ns = self.shell.user_ns
        self.hidden = {name: user_ns.pop(name) for name in list(user_ns)
                       if hasattr(builtins, name) and not name.startswith("__")
                       and user_ns[name] is not self.ipython_names.get(name, MISSING)}
        user_ns["__builtins__"] = builtins

    def after_cell(self, result):
        """After a test cell: fail it if student code changed a guarded object while it ran."""
        if not self.in_test:
            return
        self.in_test = False
        changed = self.changes()
        self.restore()
        self.shell.user_ns.update(self.hidden)
        if changed:
            raise AssertionError("채점 중에 검사 도구나 라이브러리 함수가 바뀌었습니다 / grading helpers or library "
                                 f"functions were replaced while the test ran: {', '.join(sorted(changed)[:5])}")


def install(shell, test_cells, course):
    """Snapshot the guarded modules and register the guard on the kernel's shell."""
    course_modules = course_module_names(course)
    guard = Guard(shell, test_cells, [*LIBRARY_MODULES, *course_modules], course_modules)
    shell.events.print_on_error = False
    shell.events.register("pre_run_cell", guard.before_cell)
    shell.events.register("post_run_cell", guard.after_cell)
    return guard


def main():
    """Start an IPython kernel (arguments as for ipykernel_launcher) with the guard installed."""
    sys.path.remove(str(Path(__file__).resolve().parent))
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    install(app.shell, json.loads(os.environ["XAI_GRADING_TEST_CELLS"]), os.environ["XAI_COURSE_ROOT"])
    app.start()


if __name__ == "__main__":
    main()
