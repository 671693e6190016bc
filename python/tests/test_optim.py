"""GuidedOptimizer against a transcription of gtl's optimisers (Sources/GTLEngine/Optimizer.swift)."""

import numpy as np
import pytest
import torch
from torch import nn

from gtl_torch import GuideError, GuidedOptimizer, guide_optimizer

f32 = np.float32


class GtlSGD:
    def __init__(self, lr):
        self.lr = f32(lr)

    def step(self, p, g, m):
        p -= self.lr * m * g


class GtlMomentum:
    def __init__(self, lr, mu=0.9):
        self.lr, self.mu, self.v = f32(lr), f32(mu), None

    def step(self, p, g, m):
        if self.v is None:
            self.v = np.zeros_like(p)
        self.v[:] = self.mu * self.v + g
        p -= self.lr * m * self.v


class GtlAdam:
    def __init__(self, lr, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps = f32(lr), f32(b1), f32(b2), f32(eps)
        self.m = self.v = None
        self.t = 0

    def step(self, p, g, mult):
        if self.m is None:
            self.m, self.v = np.zeros_like(p), np.zeros_like(p)
        self.t += 1
        c1 = f32(1) - self.b1 ** f32(self.t)
        c2 = f32(1) - self.b2 ** f32(self.t)
        step_size, c2root = self.lr / c1, np.sqrt(c2)
        self.m[:] = self.b1 * self.m + (f32(1) - self.b1) * g
        self.v[:] = self.b2 * self.v + (f32(1) - self.b2) * g * g
        update = step_size * self.m / (np.sqrt(self.v) / c2root + self.eps)
        p -= mult * update


CASES = {
    "sgd": (lambda ps: torch.optim.SGD(ps, lr=0.1), lambda: GtlSGD(0.1)),
    "momentum": (lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9), lambda: GtlMomentum(0.05)),
    "adam": (lambda ps: torch.optim.Adam(ps, lr=0.01), lambda: GtlAdam(0.01)),
}


def guide_values(n, gen):
    g = torch.rand(n, generator=gen)
    g[: n // 5] = 0          # frozen
    g[n // 5: n // 4] = 1    # fully flexible
    return g[torch.randperm(n, generator=gen)]


@pytest.mark.parametrize("name", CASES)
def test_matches_gtl_arithmetic(name):
    make_torch, make_gtl = CASES[name]
    gen = torch.Generator().manual_seed(7)
    n, steps = 4096, 30
    w0 = torch.randn(n, generator=gen)
    guide = guide_values(n, gen)
    grads = [torch.randn(n, generator=gen) * (0.1 + i % 3) for i in range(steps)]

    p = nn.Parameter(w0.clone())
    opt = GuidedOptimizer(make_torch([p]), {p: guide})
    ref, ref_opt = w0.numpy().copy(), make_gtl()
    for g in grads:
        p.grad = g.clone()
        opt.step()
        ref_opt.step(ref, g.numpy(), guide.numpy())
    diff = np.abs(p.detach().numpy() - ref).max()
    moved = np.abs(ref - w0.numpy()).max()
    assert moved > 0.05, "the test must move the weights"
    assert diff < 1e-5 * max(1.0, moved), f"{name}: max |torch - gtl| = {diff:g} after {steps} steps"
    frozen = guide == 0
    assert torch.equal(p.detach()[frozen], w0[frozen]), "guide 0 must freeze exactly"


def test_adam_honours_the_scale_unlike_gradient_scaling():
    w0 = torch.zeros(3)
    grad = torch.tensor([1.0, 1.0, 1.0])
    guide = torch.tensor([1.0, 0.1, 0.01])
    p = nn.Parameter(w0.clone())
    opt = GuidedOptimizer(torch.optim.Adam([p], lr=0.1), {p: guide})
    for _ in range(5):
        p.grad = grad.clone()
        opt.step()
    moved = (p.detach() - w0).abs()
    assert torch.allclose(moved / moved[0], guide, rtol=1e-5)
    # Scaling the gradient instead leaves Adam's step unchanged (the reference library's bug).
    q = nn.Parameter(w0.clone())
    plain = torch.optim.Adam([q], lr=0.1)
    for _ in range(5):
        q.grad = grad * guide
        plain.step()
    assert torch.allclose(q.detach() - w0, p.detach()[0] - w0[0] * torch.ones(3), rtol=1e-4)


def test_guide_of_ones_is_the_plain_optimizer():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(8, 4), nn.Tanh(), nn.Linear(4, 2))
    twin = nn.Sequential(nn.Linear(8, 4), nn.Tanh(), nn.Linear(4, 2))
    twin.load_state_dict(model.state_dict())
    guide = {n: torch.ones_like(p) for n, p in model.named_parameters()}
    opt = GuidedOptimizer(torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.1), guide, model)
    ref = torch.optim.AdamW(twin.parameters(), lr=0.01, weight_decay=0.1)
    x, y = torch.randn(32, 8), torch.randint(0, 2, (32,))
    for _ in range(10):
        for m, o in ((model, opt), (twin, ref)):
            o.zero_grad()
            nn.functional.cross_entropy(m(x), y).backward()
            o.step()
    for a, b in zip(model.parameters(), twin.parameters()):
        assert torch.allclose(a, b, rtol=0, atol=1e-6)


def test_weight_decay_is_scaled_with_the_update():
    p = nn.Parameter(torch.full((2,), 2.0))
    opt = GuidedOptimizer(torch.optim.SGD([p], lr=0.1, weight_decay=0.5), {p: torch.tensor([0.0, 1.0])})
    p.grad = torch.zeros(2)
    opt.step()
    assert p.detach().tolist() == [2.0, pytest.approx(2.0 - 0.1 * 0.5 * 2.0)]


def test_unguided_parameters_update_normally_and_closure_works():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    w1, b3 = model[0].weight.detach().clone(), model[2].bias.detach().clone()
    opt = GuidedOptimizer(torch.optim.SGD(model.parameters(), lr=0.5), {"0.weight": torch.zeros(3, 4)}, model)
    x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))

    def closure():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() > 0
    assert torch.equal(model[0].weight.detach(), w1)
    assert not torch.equal(model[2].bias.detach(), b3)
    assert opt.param_groups is opt.optimizer.param_groups and "state" in opt.state_dict()


def test_errors_name_the_problem():
    model = nn.Sequential(nn.Linear(4, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(GuideError, match="pass the module too"):
        GuidedOptimizer(opt, {"0.weight": torch.ones(3, 4)})
    with pytest.raises(GuideError, match=r"guide names \['1.weight'\] are not parameters"):
        GuidedOptimizer(opt, {"1.weight": torch.ones(3, 4)}, model)
    with pytest.raises(GuideError, match=r"guide for 0.bias has shape \[4\], parameter has \[3\]"):
        GuidedOptimizer(opt, {"0.bias": torch.ones(4)}, model)
    stranger = nn.Parameter(torch.zeros(2))
    with pytest.raises(GuideError, match="not among the optimizer's parameters"):
        guide_optimizer(opt, {stranger: torch.ones(2)})
    with pytest.raises(GuideError, match="negative or non-finite"):
        GuidedOptimizer(opt, {"0.bias": torch.tensor([1.0, float("nan"), 0.0])}, model)
