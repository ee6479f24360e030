# Bad input raises TypeError or ValueError (bnorm.Error) carrying bnorm's one-line
# "[op] expected ..., got ..." message: never a crash, never a silent conversion of an output.
import numpy as np
import pytest
import torch

import bnorm
import bnorm.torch as bt


def one_line(e):
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("[") and "expected" in msg, msg
    return msg


def test_dtypes():
    with pytest.raises(TypeError) as e:
        bnorm.forward_train(np.zeros((4, 3), np.int32))
    assert "int32" in one_line(e)
    with pytest.raises(TypeError) as e:
        bnorm.forward_train([[1.0, 2.0], [3.0, 4.0]])
    assert "list" in one_line(e)
    with pytest.raises(TypeError) as e:
        bnorm.forward_train(np.zeros((4, 3), np.float32), out=np.zeros((4, 3), np.float64))
    assert "float32" in one_line(e)
    with pytest.raises(TypeError) as e:
        bnorm.BatchNorm(3)(np.zeros((4, 3, 2)))
    assert "module's dtype" in one_line(e)
    with pytest.raises(TypeError):
        bnorm.BatchNorm(3, dtype="int8")


def test_shapes_and_channels():
    x = np.random.default_rng(0).standard_normal((4, 3, 5))
    with pytest.raises(ValueError) as e:
        bnorm.forward_train(x, np.ones(4))
    assert "gamma" in one_line(e)
    with pytest.raises(ValueError) as e:
        bnorm.forward_train(x, out=np.zeros((4, 3, 4)))
    assert "shape" in one_line(e)
    with pytest.raises(ValueError) as e:
        bnorm.forward_train(x, out=np.zeros((4, 3, 10))[:, :, ::2])
    assert "C-contiguous" in one_line(e)
    with pytest.raises(ValueError) as e:
        bnorm.forward_train(np.zeros(5))
    assert "2 dims" in one_line(e)
    with pytest.raises(ValueError) as e:
        bnorm.forward_train(np.zeros((0, 3)))
    assert "dim > 0" in one_line(e)
    with pytest.raises(ValueError) as e:
        bnorm.forward_train(x, layout="nchw")
    assert "channels_last" in one_line(e)
    with pytest.raises(ValueError) as e:
        bnorm.BatchNorm(4, dtype="float64")(x)
    assert "channels" in one_line(e)
    with pytest.raises(ValueError) as e:
        bnorm.BatchNorm(0)
    assert "num_features" in one_line(e)
    with pytest.raises(ValueError) as e:
        bnorm.BatchNorm(3, momentum=1.5)
    assert "momentum" in one_line(e)
    with pytest.raises(ValueError) as e:
        bnorm.forward_infer(x, np.zeros(3), -np.ones(3))
    assert "var >= 0" in one_line(e)
    ro = np.zeros_like(x)
    ro.flags.writeable = False
    with pytest.raises(ValueError) as e:
        bnorm.forward_train(x, out=ro)
    assert "writable" in one_line(e)


def test_one_value_per_channel_in_training():
    with pytest.raises(bnorm.Error) as e:
        bnorm.forward_train(np.ones((1, 3, 1, 1), np.float32))
    assert "more than 1 value per channel" in one_line(e)
    m = bt.BatchNorm2d(3)
    with pytest.raises(ValueError) as e:
        m(torch.ones(1, 3, 1, 1))
    assert "more than 1 value per channel" in one_line(e)
    m.eval()
    assert m(torch.ones(1, 3, 1, 1)).shape == (1, 3, 1, 1)  # inference takes one value


def test_torch_channel_mismatch():
    with pytest.raises(ValueError) as e:
        bt.BatchNorm2d(4)(torch.randn(2, 3, 4, 4))
    assert "4" in one_line(e)
    with pytest.raises(ValueError):  # torch.nn's own dimension check, inherited
        bt.BatchNorm2d(3)(torch.randn(2, 3, 4))


def test_backward_before_forward_and_bad_enum():
    with pytest.raises(ValueError) as e:
        bnorm.BatchNorm(3).backward(np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float32))
    assert "forward" in one_line(e)
    with pytest.raises(TypeError):
        bnorm.forward_train(np.zeros((2, 3)), backend=3)
    with pytest.raises(TypeError):
        bnorm.update_running_stats(np.zeros(3), 0.1, np.zeros(3), np.ones(3))
    _, m, _ = bnorm.forward_train(np.random.default_rng(1).standard_normal((2, 3)))
    with pytest.raises(ValueError) as e:
        bnorm.update_running_stats(m, 2.0, np.zeros(3), np.ones(3))
    assert "factor" in one_line(e)


def test_module_backward_needs_the_forward_buffer():
    # An equal copy is another tensor as far as the module can tell: refused, not silently used.
    bn = bnorm.BatchNorm(3, layout="nc", dtype="float64")
    x = np.random.default_rng(0).standard_normal((4, 3))
    bn(x, "train")
    with pytest.raises(bnorm.Error, match="last forward"):
        bn.backward(x.copy(), np.ones_like(x))
    bn.backward(x, np.ones_like(x))
