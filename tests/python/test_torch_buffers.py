# bnorm.torch's cache of output memory (bnorm/torch/buffers.py): an array is handed out again
# only once nothing refers to it (no tensor, view or numpy array on it), outputs computed into
# reused memory are right, and the cap is kept. Shapes here are above the cache's 1 MiB floor.
import numpy as np
import pytest
import torch

import bnorm.torch as bt
from bnorm.torch import buffers

SHAPE = (8, 16, 48, 48)  # 1.2 MB of float32


@pytest.fixture(autouse=True)
def empty_cache():
    previous = bt.set_output_cache_limit(0)
    bt.set_output_cache_limit(1 << 30)
    yield
    bt.set_output_cache_limit(previous)


def test_reused_only_when_nothing_refers_to_it():
    like = np.zeros(SHAPE, np.float32)
    a = buffers.empty_like(like)
    b = buffers.empty_like(like)
    assert a.ctypes.data != b.ctypes.data
    address = a.ctypes.data
    t = torch.from_numpy(a)
    view = t[1:]
    del a, t
    assert buffers.empty_like(like).ctypes.data != address  # a view of it is alive
    del view
    assert buffers.empty_like(like).ctypes.data == address
    arr = buffers.empty_like(like)
    sub = arr[2:, ::2]
    del arr
    assert buffers.empty_like(like).ctypes.data != address  # a numpy view holds it
    del sub
    c = buffers.empty_like(like)
    assert c.ctypes.data == address and c.strides == like.strides


def test_keeps_the_strides_of_a_channels_last_input():
    like = torch.zeros(SHAPE).to(memory_format=torch.channels_last).numpy()
    out = buffers.empty_like(like)
    assert out.strides == like.strides
    assert torch.from_numpy(out).is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("channels_last", [False, True])
def test_outputs_in_reused_memory_are_right(channels_last):
    torch.manual_seed(0)
    mine, ref = bt.BatchNorm2d(SHAPE[1]), torch.nn.BatchNorm2d(SHAPE[1])
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    kept = []
    for step in range(4):
        x = (torch.randn(SHAPE) * (step + 1)).to(memory_format=fmt).requires_grad_()
        x_ref = x.detach().clone().requires_grad_()
        dy = torch.randn(SHAPE).to(memory_format=fmt)
        y, y_ref = mine(x), ref(x_ref)
        y.backward(dy)
        y_ref.backward(dy)
        torch.testing.assert_close(y, y_ref, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-4, atol=1e-5)
        if step < 2:  # alive while later steps reuse freed memory
            kept.append((y.detach(), y_ref.detach(), x.grad, x_ref.grad))
    for y, y_ref, dx, dx_ref in kept:
        torch.testing.assert_close(y, y_ref, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(dx, dx_ref, rtol=1e-4, atol=1e-5)
    assert 0 < bt.output_cache_bytes() <= 8 * np.prod(SHAPE) * 4


def test_limit():
    like = np.zeros(SHAPE, np.float32)
    bt.set_output_cache_limit(like.nbytes)
    a = buffers.empty_like(like)
    assert bt.output_cache_bytes() == like.nbytes
    b = buffers.empty_like(like)  # over the cap while a is in use: not cached
    assert bt.output_cache_bytes() == like.nbytes
    del b
    assert bt.set_output_cache_limit(0) == like.nbytes
    assert bt.output_cache_bytes() == like.nbytes  # a is in use: kept until it is free
    del a
    bt.set_output_cache_limit(0)
    assert bt.output_cache_bytes() == 0
    with pytest.raises(ValueError, match="cache limit"):
        bt.set_output_cache_limit(-1)


@pytest.mark.parametrize("channels_last", [False, True])
def test_large_outputs_start_on_a_huge_page(channels_last):
    # From 2 MiB on an array is a mapping of its own at a 2 MiB boundary (advised to use huge
    # pages), with the strides asked for.
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    like = torch.zeros(8, 32, 48, 48).to(memory_format=fmt).numpy()
    out = buffers.empty_like(like)
    assert out.ctypes.data % (2 << 20) == 0
    assert out.strides == like.strides and out.shape == like.shape and out.dtype == like.dtype
    out[...] = 3.0
    assert float(out.sum()) == 3.0 * out.size


def test_strides_with_gaps_are_not_cached():
    like = np.zeros((4, 16, 48, 96), np.float32)[..., ::2]  # every other column
    out = buffers.empty_like(like)
    assert out.shape == like.shape and out.flags.c_contiguous
    assert bt.output_cache_bytes() == 0


def test_threads_never_share_an_array(monkeypatch):
    import threading
    import time

    like = np.zeros(SHAPE, np.float32)
    free = buffers.empty_like(like)
    del free  # the cache now holds one free array
    original = buffers._is_free
    found = threading.Event()

    def slow_is_free(arrays, i):
        # Thread A pauses between finding the free array and taking it, so B asks meanwhile.
        result = original(arrays, i)
        if result and threading.current_thread().name == "A" and not found.is_set():
            found.set()
            time.sleep(0.3)
        return result

    monkeypatch.setattr(buffers, "_is_free", slow_is_free)
    got = {}

    def take():
        got[threading.current_thread().name] = buffers.empty_like(like)

    a = threading.Thread(target=take, name="A")
    a.start()
    assert found.wait(5)
    b = threading.Thread(target=take, name="B")
    b.start()
    a.join()
    b.join()
    assert got["A"].ctypes.data != got["B"].ctypes.data
