# bnorm.torch in training: a small conv net trained 200 steps with torch's BatchNorm and, from the
# same state and batches, after convert(); state_dict round trips; convert() keeps identity,
# hooks and modes; torchvision's resnet18 converts and trains a step; the fallback path.
import copy
import warnings

import pytest
import torch

import bnorm.torch as bt
import bnorm.torch.function as bf


def conv_net():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 16, 3, stride=2, padding=1), torch.nn.BatchNorm2d(16, momentum=None),
        torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        torch.nn.Linear(16, 10), torch.nn.BatchNorm1d(10), torch.nn.Linear(10, 4))


def train(model, steps, channels_last):
    # 64 images whose label is the quadrant with the brightest mean, in batches of 16.
    g = torch.Generator().manual_seed(1)
    images = torch.randn(64, 1, 10, 10, generator=g)
    labels = images.view(64, 2, 5, 2, 5).mean((2, 4)).view(64, 4).argmax(1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for step in range(steps):
        i = (step % 4) * 16
        x, target = images[i:i + 16], labels[i:i + 16]
        if channels_last:
            x = x.to(memory_format=torch.channels_last)
        loss = torch.nn.functional.cross_entropy(model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("channels_last", [False, True])
def test_conv_net_loss_curves_match(channels_last):
    native = conv_net()
    converted = bt.convert(copy.deepcopy(native))
    if channels_last:
        native, converted = (m.to(memory_format=torch.channels_last) for m in (native, converted))
    a = train(native, 200, channels_last)
    b = train(converted, 200, channels_last)
    assert a[-1] < 0.8 * a[0], "the net did not train"
    worst = max(abs(x - y) / abs(x) for x, y in zip(a, b))
    assert worst < 1e-3, f"loss curves differ by {worst:.3g} relative"
    for (name, p), (_, q) in zip(native.state_dict().items(), converted.state_dict().items()):
        torch.testing.assert_close(p, q, rtol=1e-2, atol=1e-3, msg=name)


def test_state_dict_round_trip_is_exact():
    native = conv_net()
    converted = bt.convert(copy.deepcopy(native))
    train(converted, 5, False)
    back = conv_net()
    back.load_state_dict(converted.state_dict())  # bnorm -> torch
    again = bt.convert(conv_net())
    again.load_state_dict(back.state_dict())  # torch -> bnorm
    sd = converted.state_dict()
    assert list(sd) == list(back.state_dict()) == list(again.state_dict())
    for k, v in sd.items():
        assert torch.equal(v, back.state_dict()[k]) and torch.equal(v, again.state_dict()[k]), k
    assert sd["1.num_batches_tracked"].item() == 5


def test_convert_keeps_identity_state_and_hooks():
    model = conv_net().eval()
    bn = model[1]
    weight = bn.weight
    calls = []
    bn.register_forward_hook(lambda m, i, o: calls.append(type(m).__name__))
    assert bt.convert(model) is model
    assert model[1] is bn and bn.weight is weight and not bn.training
    assert isinstance(bn, torch.nn.BatchNorm2d) and type(bn) is bt.BatchNorm2d
    assert type(model[9]) is bt.BatchNorm1d
    model(torch.randn(2, 1, 10, 10))
    assert calls == ["BatchNorm2d"]
    assert type(bt.convert(torch.nn.BatchNorm3d(2))) is bt.BatchNorm3d


def test_resnet18_converts_and_trains_a_step():
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    native = torchvision.models.resnet18(num_classes=10)
    converted = bt.convert(copy.deepcopy(native))
    n_bn = sum(type(m) is bt.BatchNorm2d for m in converted.modules())
    assert n_bn == 20
    x, target = torch.randn(4, 3, 64, 64), torch.tensor([1, 2, 3, 4])
    grads = []
    for model in (native, converted):
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        loss = torch.nn.functional.cross_entropy(model(x), target)
        opt.zero_grad()
        loss.backward()
        grads.append((loss.item(), model.bn1.weight.grad.clone(), model.fc.weight.grad.clone()))
        opt.step()
    assert abs(grads[0][0] - grads[1][0]) < 1e-4 * abs(grads[0][0])
    torch.testing.assert_close(grads[1][1], grads[0][1], rtol=1e-3, atol=1e-4)
    torch.testing.assert_close(grads[1][2], grads[0][2], rtol=1e-3, atol=1e-4)
    torch.testing.assert_close(converted.layer4[1].bn2.running_var,
                               native.layer4[1].bn2.running_var, rtol=1e-4, atol=1e-5)


def test_fallback_warns_once_and_matches_torch():
    bf._warned.clear()
    m = bt.BatchNorm2d(3)
    ref = torch.nn.BatchNorm2d(3)
    x = torch.randn(4, 3, 6, 8)[:, :, :, ::2]  # strided: neither contiguous nor channels_last
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y1 = m(x)
        y2 = m(x)
    assert len(w) == 1 and "strides" in str(w[0].message)
    torch.testing.assert_close(y1, ref(x))
    torch.testing.assert_close(y2, ref(x))
    xh = torch.randn(4, 3, 5, 5).bfloat16()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        m.bfloat16()(xh)
    assert len(w) == 1 and "bfloat16" in str(w[0].message)


def test_supported_calls_do_not_warn():
    bf._warned.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bt.BatchNorm2d(3)(torch.randn(2, 3, 4, 4).to(memory_format=torch.channels_last))
        bt.BatchNorm1d(3).double()(torch.randn(5, 3, dtype=torch.float64))
