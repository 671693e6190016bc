"""Guide values applied to the update of any torch.optim optimiser."""

from __future__ import annotations

from typing import Dict, Mapping, Optional, Union

import torch

from .guide import GuideError


class GuidedOptimizer:
    """Wraps a ``torch.optim`` optimiser so each parameter's *update* is scaled by its guide value.

    ``step()`` snapshots the guided parameters, lets the inner optimiser take its ordinary step
    (momentum buffers and moment estimates see the raw gradients), then sets
    ``p = p_old + g * (p_new - p_old)``. The guide therefore multiplies the step the optimiser
    actually takes, after all of its internal normalisation, which is what gtl's own optimisers
    do:

    - SGD:       ``w -= g * lr * grad``
    - momentum:  ``v = mu * v + grad;  w -= g * lr * v``
    - Adam:      ``w -= g * lr * m_hat / (sqrt(v_hat) + eps)``

    Scaling the *gradient* instead (as the authors' reference library does) is not the same:
    Adam divides by the gradient's own scale, so a constant factor on the gradient leaves its
    step unchanged and guide values act only as an on/off mask. Scaling the update keeps a guide
    of 0.1 meaning "move ten times less" under every optimiser, and 0 means frozen.

    Weight decay is part of the update, so it is scaled too: with ``SGD(weight_decay=...)``
    (decay added to the gradient) or ``AdamW`` (decoupled decay applied to the weights) a
    parameter with guide 0 neither learns nor decays. If you want decay to act on frozen
    parameters, apply it yourself outside the wrapper.

    Arguments:
        optimizer: any ``torch.optim.Optimizer`` (SGD, Adam, AdamW, RMSprop, ...).
        guide: ``{parameter name: tensor}`` as returned by :func:`gtl_torch.load_guide` (then
            ``module`` is required to resolve the names), or ``{parameter: tensor}``.
        module: the module whose ``named_parameters()`` the names refer to.

    Parameters of the optimiser without a guide value are updated normally (factor 1). Each
    step copies the guided parameters once (memory: one extra copy of the model's weights).
    Everything else (``zero_grad``, ``param_groups``, ``state_dict``, ...) is delegated to the
    wrapped optimiser; give learning-rate schedulers the inner optimiser (``opt.optimizer``),
    whose ``param_groups`` this wrapper shares.
    """

    def __init__(self, optimizer: torch.optim.Optimizer,
                 guide: Mapping[Union[str, torch.Tensor], torch.Tensor],
                 module: Optional[torch.nn.Module] = None):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"GuidedOptimizer wraps a torch.optim.Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        owned = {id(p) for group in optimizer.param_groups for p in group["params"]}
        pairs = []
        if all(isinstance(k, str) for k in guide):
            if module is None and guide:
                raise GuideError("the guide is keyed by parameter names: pass the module too, "
                                 "GuidedOptimizer(optimizer, guide, module)")
            params = dict(module.named_parameters()) if module is not None else {}
            unknown = sorted(k for k in guide if k not in params)
            if unknown:
                raise GuideError(f"guide names {unknown} are not parameters of the module "
                                 f"(it has {list(params)})")
            items = [(name, params[name], g) for name, g in guide.items()]
        elif all(isinstance(k, torch.Tensor) for k in guide):
            items = [(f"parameter #{i} {list(p.shape)}", p, g) for i, (p, g) in enumerate(guide.items())]
        else:
            raise GuideError("guide keys must be all parameter names (str) or all parameters (Tensor)")
        for name, p, g in items:
            g = torch.as_tensor(g)
            if tuple(g.shape) != tuple(p.shape):
                raise GuideError(f"guide for {name} has shape {list(g.shape)}, parameter has {list(p.shape)}")
            if id(p) not in owned:
                raise GuideError(f"{name} has a guide value but is not among the optimizer's parameters")
            if not bool(torch.isfinite(g).all()) or bool((g < 0).any()):
                raise GuideError(f"guide for {name} has negative or non-finite values")
            pairs.append((p, g.detach().to(device=p.device, dtype=p.dtype).contiguous()))
        self._pairs = pairs

    @torch.no_grad()
    def step(self, closure=None):
        """One step of the inner optimiser with every guided parameter's update scaled."""
        before = [(p, g, p.detach().clone()) for p, g in self._pairs]
        if closure is None:
            loss = self.optimizer.step()
        else:
            with torch.enable_grad():
                loss = self.optimizer.step(closure)
        for p, g, old in before:
            p.sub_(old).mul_(g).add_(old)     # p = old + g * (new - old)
        return loss

    def zero_grad(self, set_to_none: bool = True):
        self.optimizer.zero_grad(set_to_none=set_to_none)

    @property
    def param_groups(self):
        return self.optimizer.param_groups

    @property
    def state(self):
        return self.optimizer.state

    def state_dict(self):
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict):
        self.optimizer.load_state_dict(state_dict)

    def __getattr__(self, name):
        # Only reached for attributes not found normally: delegate to the inner optimiser.
        if name in ("optimizer", "_pairs"):
            raise AttributeError(name)
        return getattr(self.optimizer, name)

    def __repr__(self):
        return f"GuidedOptimizer({self.optimizer!r}, {len(self._pairs)} guided parameter tensors)"


def guide_optimizer(optimizer: torch.optim.Optimizer,
                    guide_by_param: Mapping[torch.Tensor, torch.Tensor]) -> GuidedOptimizer:
    """``GuidedOptimizer`` for a guide keyed by the parameters themselves."""
    return GuidedOptimizer(optimizer, dict(guide_by_param))
