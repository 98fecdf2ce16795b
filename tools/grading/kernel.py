"""Run inside the sandbox (sandbox.py starts it): bound the kernel's address space, then start the IPython kernel.

The bound counts every mapping the kernel makes once it has started, shared memory included
(RLIMIT_DATA does not count `mmap(-1, n, MAP_SHARED)`), on top of what Python with torch maps to
start, which differs between machines (a CUDA build of torch maps gigabytes it never touches).
Student code cannot raise it again: the hard limit is lowered too.
"""
import os
import resource
import sys
from pathlib import Path

ADDRESS_SPACE = "XAI_KERNEL_ADDRESS_SPACE"  # bytes the kernel may map beyond its start-up; 0: no bound


def mapped_bytes():
    """The address space this process has mapped now (VmSize)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def bound_address_space(budget):
    """Let this process map at most `budget` bytes more than it has mapped now, for good (hard limit too)."""
    limit = mapped_bytes() + budget
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main():
    """Start an IPython kernel (arguments as for ipykernel_launcher) under the address-space bound."""
    sys.path.remove(str(Path(__file__).resolve().parent))
    import torch  # noqa: F401 (every notebook imports it first: its mappings belong to the start-up)
    from ipykernel.kernelapp import IPKernelApp

    budget = int(os.environ.pop(ADDRESS_SPACE, "0"))
    if budget:
        bound_address_space(budget)
    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    app.start()


if __name__ == "__main__":
    main()
