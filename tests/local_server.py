"""A server started by a test on this machine: a free loopback port, waiting until it answers, stopping it."""
import os
import signal
import socket
import time
import urllib.request


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url, process, log, timeout=60):
    """Return once `url` answers; fail with the server's log if `process` exits or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited with {process.returncode}:\n{log.read_text()}"
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the server did not answer within {timeout} s:\n{log.read_text()}")


def stop(process, timeout=30):
    """End `process` (started with start_new_session=True) and all of its process group: SIGTERM, then SIGKILL.

    JupyterLab can hang while it shuts down; waiting for the group, not just the process, also
    catches a server that outlives the `make` that started it.
    """
    os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _group_alive(process) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _group_alive(process):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _group_alive(process):
    process.poll()  # reap the leader once it has ended
    try:
        os.killpg(process.pid, 0)
        return True
    except ProcessLookupError:
        return False
