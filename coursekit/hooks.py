"""Forward hooks that cannot outlive their use.

A hook registered in a notebook cell stays on the module until it is removed, and
re-running the cell stacks another one. These context managers remove every hook
they registered on exit, even when the forward pass raises.
"""
from contextlib import contextmanager


@contextmanager
def capture_outputs(named_modules):
    """Record the output of each module in `named_modules` ({name: module}) during the `with` body.

    Yields a dict that fills with {name: output tensor (detached)} as the model runs.
    Modules called more than once per forward keep their last output.
    """
    outputs = {}
    handles = []
    try:
        for name, module in named_modules.items():
            handles.append(module.register_forward_hook(_recorder(outputs, name)))
        yield outputs
    finally:
        for handle in handles:
            handle.remove()


def _recorder(outputs, name):
    """Return a forward hook that stores the module's output under `name`."""
    def hook(module, inputs, output):
        outputs[name] = output.detach()
    return hook


def count_hooks(model):
    """Return how many forward, forward-pre and backward hooks are registered anywhere in `model`."""
    return sum(len(module._forward_hooks) + len(module._forward_pre_hooks)
               + len(module._backward_hooks) + len(getattr(module, "_backward_pre_hooks", {}))
               for module in model.modules())
