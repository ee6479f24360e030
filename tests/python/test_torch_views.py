# bnorm.torch's modules keep numpy views of their parameters and buffers between calls
# (function.ChannelViews). Every way of giving a module new values must reach the next forward:
# a replaced Parameter or buffer, load_state_dict, in-place writes, a swapped storage
# (weight.data = ...), a dtype change; copies and pickles must not share or carry the views.
# Also the calls that run without autograd (no_grad, nothing requiring grad) against torch.nn.
import copy
import io
import warnings

import pytest
import torch

import bnorm.torch as bt


def pair(c=3, **kwargs):
    """A bnorm module and a torch.nn one with the same random state, both in eval mode."""
    torch.manual_seed(0)
    mine = bt.BatchNorm2d(c, **kwargs)
    with torch.no_grad():
        mine.weight.uniform_(0.5, 2.0)
        mine.bias.uniform_(-1.0, 1.0)
        mine.running_mean.uniform_(-1.0, 1.0)
        mine.running_var.uniform_(0.5, 2.0)
    ref = torch.nn.BatchNorm2d(c, **kwargs)
    ref.load_state_dict(mine.state_dict())
    return mine.eval(), ref.eval()


def check_same(mine, ref, x):
    with torch.no_grad():
        torch.testing.assert_close(mine(x), ref(x), rtol=1e-5, atol=1e-6)


def fresh_values(c, seed):
    g = torch.Generator().manual_seed(seed)
    return {"weight": torch.rand(c, generator=g) + 0.5, "bias": torch.rand(c, generator=g) - 0.5,
            "running_mean": torch.rand(c, generator=g) - 0.5,
            "running_var": torch.rand(c, generator=g) + 0.5}


X = torch.randn(4, 3, 5, 6)


def test_replaced_parameter_and_buffer():
    mine, ref = pair()
    check_same(mine, ref, X)  # fills the views
    v = fresh_values(3, 1)
    for m in (mine, ref):
        m.weight = torch.nn.Parameter(v["weight"].clone())
        m.running_var = v["running_var"].clone()
    check_same(mine, ref, X)


def test_load_state_dict():
    mine, ref = pair()
    check_same(mine, ref, X)
    state = {**ref.state_dict(), **fresh_values(3, 2)}
    mine.load_state_dict(state)
    ref.load_state_dict(state)
    check_same(mine, ref, X)


def test_in_place_writes():
    mine, ref = pair()
    check_same(mine, ref, X)
    for m in (mine, ref):
        m.weight.data.copy_(fresh_values(3, 3)["weight"])
        with torch.no_grad():
            m.bias.mul_(-3.0)
        m.running_mean.fill_(0.25)
    check_same(mine, ref, X)


def test_swapped_storage():
    mine, ref = pair()
    check_same(mine, ref, X)
    v = fresh_values(3, 4)
    for m in (mine, ref):
        m.weight.data = v["weight"].clone()  # same Parameter object, another storage
        m.bias.data = v["bias"].clone()
    check_same(mine, ref, X)
    # A view at an offset into a larger storage.
    for m in (mine, ref):
        m.weight.data = (torch.arange(6.0) + 1.0)[3:]
    check_same(mine, ref, X)


def test_dtype_changes():
    mine, ref = pair()
    check_same(mine, ref, X)
    mine.double()
    ref.double()
    check_same(mine, ref, X.double())
    mine.float()
    ref.float()
    with torch.no_grad():
        mine.weight.mul_(2.0)
        ref.weight.mul_(2.0)
    check_same(mine, ref, X)


def test_copies_and_pickles_do_not_share_views():
    mine, ref = pair()
    check_same(mine, ref, X)
    copied = copy.deepcopy(mine)
    with torch.no_grad():
        copied.weight.mul_(5.0)
    check_same(mine, ref, X)  # the original is unchanged
    ref5 = copy.deepcopy(ref)
    with torch.no_grad():
        ref5.weight.mul_(5.0)
    check_same(copied, ref5, X)
    buf = io.BytesIO()
    torch.save(copied, buf)
    buf.seek(0)
    loaded = torch.load(buf)
    with torch.no_grad():
        loaded.bias.add_(1.0)
        ref5.bias.add_(1.0)
    check_same(loaded, ref5, X)
    check_same(mine, ref, X)


@pytest.mark.parametrize("channels_last", [False, True])
def test_no_grad_training_updates_running_stats(channels_last):
    mine, ref = pair(4)
    mine.train()
    ref.train()
    x = torch.randn(5, 4, 3, 7)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    with torch.no_grad():
        for _ in range(3):
            y, y_ref = mine(x), ref(x)
            assert not y.requires_grad
            torch.testing.assert_close(y, y_ref, rtol=1e-5, atol=1e-5)
    assert y.stride() == y_ref.stride()
    torch.testing.assert_close(mine.running_mean, ref.running_mean, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(mine.running_var, ref.running_var, rtol=1e-6, atol=1e-7)
    assert mine.num_batches_tracked.item() == 3


def test_eval_with_grad_reaches_the_parameters():
    mine, ref = pair()
    x = X.clone().requires_grad_()
    dy = torch.randn_like(X)
    mine(X).backward(dy)  # x itself needs no gradient: the parameters still do
    ref(X).backward(dy)
    torch.testing.assert_close(mine.weight.grad, ref.weight.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(mine.bias.grad, ref.bias.grad, rtol=1e-5, atol=1e-5)
    for p in (*mine.parameters(), *ref.parameters()):
        p.requires_grad_(False)
    y = mine(x)
    assert y.requires_grad
    y.backward(dy)
    x_ref = X.clone().requires_grad_()
    ref(x_ref).backward(dy)
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        assert not mine(x).requires_grad
    assert not mine(X).requires_grad  # nothing requires grad: no graph


def counting_steps(m, x):
    """The calls that count batches in training: with autograd, without, through the fallback
    (strides bnorm does not run), a replaced counter, and eval calls that must not count."""
    m.train()
    m(x).sum().backward()
    with torch.no_grad():
        m(x)
        m(x[:, :, :, ::2])  # neither contiguous nor channels_last: torch's own batch_norm
    m.num_batches_tracked = torch.tensor(10)  # a new buffer: a new view
    m(x)
    m.eval()
    m(x)
    m.train()
    m.load_state_dict({**m.state_dict(), "num_batches_tracked": torch.tensor(20)})  # in place
    with torch.no_grad():
        m(x)
    return m.num_batches_tracked.item()


def test_num_batches_tracked_counts_as_torch_does():
    x = torch.randn(4, 3, 5, 6)
    mine, ref = pair()
    with pytest.warns(RuntimeWarning, match="not run by bnorm"):
        assert counting_steps(mine, x) == counting_steps(ref, x) == 21
    counts = []
    for cls in (bt.BatchNorm2d, torch.nn.BatchNorm2d):  # traced modules count as torch.nn does
        traced = torch.jit.trace(cls(3).train(), x)
        assert "aten::add_" in str(traced.graph)  # the increment is in the graph, as torch's
        before = traced.num_batches_tracked.item()
        traced(x)
        traced(x)
        counts.append((before, traced.num_batches_tracked.item()))
    assert counts[0] == counts[1] and counts[0][1] == counts[0][0] + 2


def test_deleted_buffer_is_torchs_attribute_error():
    mine, ref = pair()
    for m in (mine, ref):
        del m.running_var
        with pytest.raises(AttributeError, match="running_var"):
            m(X)
    mine, ref = pair()
    for m in (mine, ref):  # read only where torch.nn reads it: in training
        del m.num_batches_tracked
        m(X)
        with pytest.raises(AttributeError, match="num_batches_tracked"):
            m.train()(X)


def test_torch_nn_utils_that_change_attribute_access():
    # Pruning and parametrizations take the weight out of the parameter dict; functional_call
    # overrides attribute access: the module must see what torch.nn's sees.
    from torch.nn.utils import parametrize, prune, stateless

    class Abs(torch.nn.Module):
        def forward(self, w):
            return w.abs()

    outputs = []
    for cls in (bt.BatchNorm2d, torch.nn.BatchNorm2d):
        torch.manual_seed(0)
        pruned, param, plain = cls(3).eval(), cls(3).eval(), cls(3).train()
        with torch.no_grad():
            pruned.weight.copy_(torch.tensor([0.5, -2.0, 3.0]))
            param.weight.copy_(torch.tensor([0.5, -2.0, 3.0]))
        prune.l1_unstructured(pruned, "weight", amount=0.34)
        parametrize.register_parametrization(param, "weight", Abs())
        given = {"weight": torch.full((3,), 2.0), "bias": torch.ones(3),
                 "running_mean": torch.zeros(3), "running_var": torch.ones(3),
                 "num_batches_tracked": torch.tensor(5)}
        y = stateless.functional_call(plain, given, (X,))
        outputs.append((pruned(X), param(X), y, given["running_mean"].clone(),
                        given["num_batches_tracked"].item(), plain.num_batches_tracked.item()))
    for got, want in zip(*outputs):
        if isinstance(got, torch.Tensor):
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
        else:
            assert got == want


def test_inference_tensor_counter_is_refused_as_torch_does():
    with torch.inference_mode():
        mine, ref = bt.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    for m in (mine, ref):  # no_grad: the counter's own in-place update is what is refused
        with torch.no_grad(), pytest.raises(RuntimeError, match="[Ii]nference"):
            m.train()(X)


def test_channels_last_beyond_five_dimensions():
    # F.batch_norm's signature takes any rank; the channels-last view of a 9-D tensor too.
    x = torch.randn(2, 1, 2, 1, 1, 2, 1, 2, 3).permute(0, 8, 1, 2, 3, 4, 5, 6, 7)
    w, b = torch.rand(3) + 0.5, torch.rand(3)
    rm, rv = torch.zeros(3), torch.ones(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # bnorm runs it: no fallback warning
        y = bt.batch_norm(x, rm.clone(), rv.clone(), w, b, True)
    torch.testing.assert_close(y, torch.nn.functional.batch_norm(x, rm, rv, w, b, True),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("counter", [torch.zeros(1, dtype=torch.int32).numpy(),
                                     torch.zeros(2, dtype=torch.int64).numpy(), 3])
def test_a_bad_counter_changes_nothing(counter):
    import bnorm._bnorm as _C
    x = X.numpy()
    y = torch.full_like(X, 7.0).numpy()
    mean, var = torch.zeros(3).numpy(), torch.ones(3).numpy()
    with pytest.raises(TypeError, match="num_batches_tracked"):
        _C._torch_forward(x, y, None, None, mean, var, True, 0.1, 1e-5, "channels_first", False,
                          counter)
    assert (y == 7.0).all() and (mean == 0.0).all() and (var == 1.0).all()


def test_backward_reads_x_as_torch_does_after_its_data_is_replaced():
    # The backward reuses the forward's view of x unless x's memory has changed under it.
    mine, ref = pair()
    mine.train()
    ref.train()
    grads = []
    for m in (mine, ref):
        torch.manual_seed(1)
        x = torch.randn(4, 3, 5, 6, requires_grad=True)
        y = m(x)
        x.data = torch.randn(4, 3, 5, 6)  # not an in-place write: autograd does not object
        y.backward(torch.ones_like(y))
        grads.append(x.grad)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-5, atol=1e-5)
