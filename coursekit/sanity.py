"""Support for notebook 05's sanity checks (Adebayo et al. 2018): re-initialising a layer as at construction."""


def reinitialise(module):
    """Re-initialise `module` in place as PyTorch built it: every submodule with `reset_parameters()` calls it.

    Convolutions and linear layers draw new random weights from torch's global generator (seed it first
    for a repeatable result); batch norms go back to weight 1, bias 0 and fresh running statistics.
    Modules without parameters (ReLU, pooling) are left as they are. Returns how many submodules were reset.
    """
    reset = 0
    for submodule in module.modules():
        if callable(getattr(submodule, "reset_parameters", None)):
            submodule.reset_parameters()
            reset += 1
    return reset
