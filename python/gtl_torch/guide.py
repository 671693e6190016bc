"""Reading gtl guide files for a PyTorch module."""

from __future__ import annotations

from typing import Dict

import torch
from safetensors import safe_open


class GuideError(ValueError):
    """A guide file does not fit the module (names, shapes) or holds invalid values."""


def _read(path: str):
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata() or {}
        tensors = {name: f.get_tensor(name) for name in f.keys()}
    return tensors, metadata


def _names(names) -> str:
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:20])
    return shown + (f", ... ({len(names)} in all)" if len(names) > 20 else "")


def load_guide(path, module: torch.nn.Module, *, strict: bool = True) -> Dict[str, torch.Tensor]:
    """Reads the guide values in ``path`` for ``module``.

    Returns ``{parameter name: guide tensor}`` keyed like ``module.named_parameters()``, each
    tensor with its parameter's shape, dtype and device. gtl names a ``Sequential``'s parameters
    ``INDEX.weight`` / ``INDEX.bias`` exactly as PyTorch does, so a guide for a gtl base fits the
    ``nn.Sequential`` that :func:`gtl_torch.import_base` builds (or the one you exported).

    With ``strict`` (the default) every parameter of ``module`` must have a guide tensor and every
    guide tensor a parameter; otherwise the error lists the missing and unexpected names. With
    ``strict=False`` missing and unexpected names are tolerated (the returned dict then lacks the
    missing parameters, which :class:`GuidedOptimizer` updates unscaled). A shape mismatch, or a
    negative or non-finite value, is always an error naming the tensor.
    """
    tensors, metadata = _read(path)
    kind = metadata.get("gtl.kind")
    if kind is not None and kind != "guide":
        raise GuideError(f"{path}: gtl.kind is {kind!r}, not 'guide' (is this a model or scout-means file?)")
    params = dict(module.named_parameters())
    missing = [n for n in params if n not in tensors]
    unexpected = sorted(n for n in tensors if n not in params)
    problems = []
    if strict and missing:
        problems.append(f"missing guide tensors for parameters {_names(missing)}")
    if strict and unexpected:
        problems.append(f"unexpected guide tensors {_names(unexpected)} (no such parameter in the module)")
    for name, p in params.items():
        t = tensors.get(name)
        if t is not None and tuple(t.shape) != tuple(p.shape):
            problems.append(f"guide tensor {name!r} has shape {list(t.shape)}, parameter has {list(p.shape)}")
    if problems:
        have = _names(params)
        raise GuideError(f"{path} does not fit the module: " + "; ".join(problems)
                         + f". The module's parameters are: {have}")
    guide = {}
    for name, p in params.items():
        t = tensors.get(name)
        if t is None:
            continue
        if not t.is_floating_point():
            raise GuideError(f"{path}: guide tensor {name!r} has dtype {t.dtype}, expected floating point")
        bad = ~torch.isfinite(t) | (t < 0)
        if bool(bad.any()):
            idx = int(bad.flatten().nonzero()[0])
            raise GuideError(f"{path}: guide tensor {name!r} holds {t.flatten()[idx].item()} at flat index {idx};"
                             " guide values must be finite and >= 0")
        guide[name] = t.detach().to(device=p.device, dtype=p.dtype).contiguous()
    return guide
