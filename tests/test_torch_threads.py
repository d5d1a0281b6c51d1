"""torch threads: one place sets them, and a forked child runs torch on one thread instead of hanging.

Without the fork hook, a child of ``os.fork()`` whose parent had run a parallel torch
operation hangs in its first parallel operation (GNU OpenMP is not fork-safe); see
:mod:`pybridge.torch_threads`.
"""

from __future__ import annotations

import json
import os
import threading
import time

import pytest
import torch

import pybridge  # noqa: F401  (importing pybridge registers the fork hook)
from pybridge.torch_threads import in_forked_child, set_torch_threads, torch_threads

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")


def _run_in_fork(child) -> dict:
    """Fork; the child runs ``child()`` and sends back its JSON result; a child still busy after 60 s is killed."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read_end)
        try:
            result = child()
        except BaseException as err:  # report, never return into pytest's code in a child
            result = {"error": repr(err)}
        os.write(write_end, json.dumps(result).encode())
        os._exit(0)
    os.close(write_end)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            if os.WIFSIGNALED(status):
                pytest.fail(f"the forked child was killed by signal {os.WTERMSIG(status)} in torch")
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung in torch")
    with os.fdopen(read_end, "rb") as pipe:
        return json.loads(pipe.read() or b"{}")


def test_a_forked_child_runs_torch_on_one_thread_instead_of_hanging():
    conv = torch.nn.Conv2d(3, 8, 3)
    pixels = torch.randn(4, 3, 96, 96)
    with torch_threads(2), torch.inference_mode():
        expected = conv(pixels)  # the parent's OpenMP pool is now running
        parent_threads = torch.get_num_threads()

    def child() -> dict:
        seen = {}

        def work(where: str) -> None:
            with torch.inference_mode(), torch_threads(2):
                seen[where] = [float((conv(pixels) - expected).abs().max()), torch.get_num_threads()]

        worker = threading.Thread(target=work, args=("worker thread",))
        worker.start()
        worker.join()
        work("main thread")
        return {"forked": in_forked_child(), "threads": torch.get_num_threads(), "asked 4": set_torch_threads(4),
                **seen}  # fmt: skip

    result = _run_in_fork(child)
    assert "error" not in result, result
    assert result["forked"] is True and result["threads"] == 1 and result["asked 4"] == 1
    for where in ("main thread", "worker thread"):
        difference, threads = result[where]
        assert difference < 1e-5 and threads == 1, where
    # the parent keeps its own setting and knows it is no child
    assert not in_forked_child() and parent_threads == 2


def test_set_torch_threads_and_the_block_restore_the_parents_setting():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    assert set_torch_threads(before) == before
