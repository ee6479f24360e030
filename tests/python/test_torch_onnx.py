# torch.onnx.export of models holding bnorm.torch modules writes ONNX BatchNormalization nodes
# through BatchNormFunction.symbolic, with the module's eps, momentum and statistics; the models
# pass onnx.checker.
import io

import numpy as np
import pytest
import torch

import bnorm.torch as bt

onnx = pytest.importorskip("onnx")
from onnx import numpy_helper  # noqa: E402


def export(model, x):
    f = io.BytesIO()
    torch.onnx.export(model, x, f, opset_version=13, input_names=["x"], output_names=["y"])
    proto = onnx.load_from_string(f.getvalue())
    onnx.checker.check_model(proto)
    return proto


@pytest.mark.parametrize("affine", [True, False])
def test_batch_normalization_node(affine, monkeypatch):
    calls = []
    symbolic = bt.BatchNormFunction.symbolic
    monkeypatch.setattr(bt.BatchNormFunction, "symbolic",
                        staticmethod(lambda *a: calls.append(1) or symbolic(*a)))
    # BN first: torch folds a BatchNorm that follows a Conv into the Conv's weights.
    model = bt.convert(torch.nn.Sequential(torch.nn.BatchNorm2d(3, eps=1e-3, momentum=0.2,
                                                                affine=affine),
                                           torch.nn.Conv2d(3, 4, 3)))
    model(torch.randn(4, 3, 6, 6))  # running statistics away from 0 and 1
    model.eval()
    proto = export(model, torch.randn(2, 3, 6, 6))
    assert calls, "BatchNormFunction.symbolic was not used"
    nodes = [n for n in proto.graph.node if n.op_type == "BatchNormalization"]
    assert len(nodes) == 1
    attrs = {a.name: a.f for a in nodes[0].attribute}
    assert attrs["epsilon"] == pytest.approx(1e-3) and attrs["momentum"] == pytest.approx(0.8)
    inits = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t)
              for n in proto.graph.node if n.op_type == "Constant"}
    values = {**inits, **consts}
    # Inputs: x, scale, bias, mean, var: mean and var are the module's running statistics.
    bn = model[0]
    mean_name, var_name = nodes[0].input[3], nodes[0].input[4]
    np.testing.assert_array_equal(values.get(mean_name, inits.get(mean_name)),
                                  bn.running_mean.numpy())
    np.testing.assert_array_equal(values.get(var_name), bn.running_var.numpy())


def test_without_running_stats():
    model = bt.convert(torch.nn.Sequential(torch.nn.BatchNorm1d(5, track_running_stats=False),
                                           torch.nn.Linear(5, 2))).eval()
    proto = export(model, torch.randn(4, 5))
    assert any(n.op_type == "BatchNormalization" for n in proto.graph.node)
    assert any(n.op_type == "ReduceMean" for n in proto.graph.node)  # batch statistics
