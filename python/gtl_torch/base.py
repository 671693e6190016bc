"""gtl base models to and from ``torch.nn.Sequential``.

A gtl model file is a safetensors file (F32) whose metadata ``gtl.architecture`` holds the input
shape and the layers, e.g. ``1x8x8: conv2d(8,3,1,1) relu maxpool(2,2) flatten dense(10)``.
Parameters are named ``INDEX.weight`` / ``INDEX.bias`` by the layer's position in that list, with
PyTorch's shapes, so the file is exactly the ``state_dict`` of the equivalent ``nn.Sequential``.
"""

from __future__ import annotations

import re
from typing import Dict, List, Sequence, Tuple, Union

import torch
from torch import nn
from safetensors import safe_open
from safetensors.torch import save_file

ARCHITECTURE_KEY = "gtl.architecture"


class ArchitectureError(ValueError):
    """A module or architecture text that gtl cannot represent, or a file that does not fit it."""


# ---------------------------------------------------------------- the architecture text

def _pair(v, what: str, where: str) -> int:
    """A square int from an int or a pair of equal ints."""
    if isinstance(v, int):
        return v
    if isinstance(v, (tuple, list)) and len(v) == 2 and v[0] == v[1] and isinstance(v[0], int):
        return v[0]
    raise ArchitectureError(f"{where}: {what} {v!r} is not square; gtl supports square {what}s only")


def _shape_after(token: Tuple, shape: Tuple[int, ...], where: str) -> Tuple[int, ...]:
    """The output shape of one layer (gtl's rules), with gtl's error conditions."""
    kind = token[0]
    if kind == "dense":
        if len(shape) != 1:
            raise ArchitectureError(f"{where}: dense needs a flat input, got shape {list(shape)} (add flatten first)")
        return (token[1],)
    if kind in ("conv2d", "maxpool", "avgpool"):
        if len(shape) != 3:
            raise ArchitectureError(f"{where}: {kind} needs input [channels, height, width], got {list(shape)}")
        c, h, w = shape
        if kind == "conv2d":
            _, out, k, s, p = token
            if h + 2 * p < k or w + 2 * p < k:
                raise ArchitectureError(f"{where}: kernel larger than padded input {list(shape)}")
            return (out, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
        _, k, s = token
        if h < k or w < k:
            raise ArchitectureError(f"{where}: window must fit the input {list(shape)}")
        return (c, (h - k) // s + 1, (w - k) // s + 1)
    if kind == "flatten":
        n = 1
        for d in shape:
            n *= d
        return (n,)
    return shape  # activations, dropout


def _text(token: Tuple) -> str:
    kind = token[0]
    if kind == "dense":
        return f"dense({token[1]})"
    if kind == "conv2d":
        return "conv2d({},{},{},{})".format(*token[1:])
    if kind in ("maxpool", "avgpool"):
        return "{}({},{})".format(*token)
    if kind == "dropout":
        return f"dropout({token[1]!r})"
    return kind


def parse_architecture(text: str) -> Tuple[Tuple[int, ...], List[Tuple]]:
    """Parses gtl's architecture text (the grammar of gtl's ``NetworkSpec.parse``).

    Returns ``(input_shape, layers)``; each layer is a tuple such as ``("dense", 64)``,
    ``("conv2d", channels, kernel, stride, padding)``, ``("maxpool", size, stride)``,
    ``("dropout", rate)`` or ``("relu",)``.
    """
    parts = text.split(":", 1)
    if len(parts) != 2:
        raise ArchitectureError(f"architecture {text!r}: expected 'SHAPE: LAYERS', e.g. '64: dense(32) relu dense(10)'")
    try:
        shape = tuple(int(d.strip()) for d in parts[0].split("x"))
    except ValueError:
        shape = ()
    if not shape or any(d <= 0 for d in shape):
        raise ArchitectureError(f"architecture {text!r}: bad input shape {parts[0]!r} (use e.g. 64 or 1x28x28)")
    layers = []
    for tok in parts[1].split(" "):
        if not tok:
            continue
        m = re.fullmatch(r"([^()]+)\((.*)\)", tok)
        name, args = (m.group(1).lower(), [a.strip() for a in m.group(2).split(",")]) if m else (tok.lower(), [])
        if m and args == [""]:
            args = []

        def ints(lo: int, hi: int) -> List[int]:
            try:
                v = [int(a) for a in args]
            except ValueError:
                v = None
            if v is None or not lo <= len(v) <= hi or any(x < 0 for x in v):
                raise ArchitectureError(f"layer {tok!r}: expected {lo}...{hi} non-negative integers")
            return v

        if name in ("dense", "linear"):
            layers.append(("dense", ints(1, 1)[0]))
        elif name in ("conv2d", "conv"):
            v = ints(2, 4)
            layers.append(("conv2d", v[0], v[1], v[2] if len(v) > 2 else 1, v[3] if len(v) > 3 else 0))
        elif name in ("maxpool", "avgpool"):
            v = ints(1, 2)
            layers.append((name, v[0], v[1] if len(v) > 1 else v[0]))
        elif name in ("flatten", "relu", "tanh", "sigmoid") and not m:
            layers.append((name,))
        elif name == "dropout" and len(args) == 1:
            try:
                layers.append(("dropout", float(args[0])))
            except ValueError:
                raise ArchitectureError(f"layer {tok!r}: expected dropout(RATE)") from None
        else:
            raise ArchitectureError(f"unknown layer {tok!r} (known: dense, conv2d, maxpool, avgpool, flatten, "
                                    "relu, tanh, sigmoid, dropout)")
    if not layers:
        raise ArchitectureError(f"architecture {text!r}: no layers")
    return shape, layers


# ---------------------------------------------------------------- torch -> gtl

def _token_of(i: int, m: nn.Module, shape: Tuple[int, ...]) -> Tuple:
    where = f"layer {i} ({m.__class__.__name__})"
    if isinstance(m, nn.Linear):
        if m.bias is None:
            raise ArchitectureError(f"{where}: Linear without bias; gtl's dense layers always have a bias")
        if len(shape) == 1 and shape[0] != m.in_features:
            raise ArchitectureError(f"{where}: in_features {m.in_features}, but the input has {shape[0]} features")
        return ("dense", m.out_features)
    if isinstance(m, nn.Conv2d):
        if m.bias is None:
            raise ArchitectureError(f"{where}: Conv2d without bias; gtl's conv2d always has a bias")
        if m.groups != 1 or _pair(m.dilation, "dilation", where) != 1:
            raise ArchitectureError(f"{where}: groups and dilation must be 1 for gtl")
        if m.padding_mode != "zeros":
            raise ArchitectureError(f"{where}: padding_mode {m.padding_mode!r}; gtl pads with zeros only")
        k = _pair(m.kernel_size, "kernel", where)
        s = _pair(m.stride, "stride", where)
        if m.padding == "valid":
            p = 0
        elif m.padding == "same":
            if s != 1 or k % 2 == 0:
                raise ArchitectureError(f"{where}: padding='same' maps to gtl only for stride 1 and an odd kernel")
            p = (k - 1) // 2
        else:
            p = _pair(m.padding, "padding", where)
        if len(shape) == 3 and shape[0] != m.in_channels:
            raise ArchitectureError(f"{where}: in_channels {m.in_channels}, but the input has {shape[0]} channels")
        return ("conv2d", m.out_channels, k, s, p)
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
        kind = "maxpool" if isinstance(m, nn.MaxPool2d) else "avgpool"
        k = _pair(m.kernel_size, "kernel", where)
        s = _pair(m.stride if m.stride is not None else m.kernel_size, "stride", where)
        if _pair(m.padding, "padding", where) != 0 or m.ceil_mode:
            raise ArchitectureError(f"{where}: gtl pools without padding and with ceil_mode=False")
        if isinstance(m, nn.MaxPool2d) and (_pair(m.dilation, "dilation", where) != 1 or m.return_indices):
            raise ArchitectureError(f"{where}: dilation must be 1 and return_indices False for gtl")
        if isinstance(m, nn.AvgPool2d) and m.divisor_override is not None:
            raise ArchitectureError(f"{where}: divisor_override is not supported by gtl")
        return (kind, k, s)
    if isinstance(m, nn.Flatten):
        if m.start_dim != 1 or m.end_dim != -1:
            raise ArchitectureError(f"{where}: gtl's flatten is Flatten(start_dim=1, end_dim=-1)")
        return ("flatten",)
    if type(m) is nn.ReLU:
        return ("relu",)
    if type(m) is nn.Tanh:
        return ("tanh",)
    if type(m) is nn.Sigmoid:
        return ("sigmoid",)
    if type(m) is nn.Dropout:
        if not 0 <= m.p < 1:
            raise ArchitectureError(f"{where}: dropout rate must be in [0, 1), got {m.p}")
        return ("dropout", float(m.p))
    raise ArchitectureError(f"{where}: {m.__class__.__name__} has no gtl equivalent (supported: Linear, Conv2d, "
                            "MaxPool2d, AvgPool2d, Flatten, ReLU, Tanh, Sigmoid, Dropout)")


def architecture_of(model: nn.Sequential, input_shape: Union[int, Sequence[int]]) -> str:
    """gtl's architecture text for ``model`` on samples of ``input_shape`` (without the batch
    dimension, e.g. ``(1, 8, 8)`` or ``64``); raises :class:`ArchitectureError` naming the first
    module gtl cannot represent."""
    if not isinstance(model, nn.Sequential):
        raise ArchitectureError(f"gtl bases are nn.Sequential models, got {model.__class__.__name__}")
    shape = (int(input_shape),) if isinstance(input_shape, int) else tuple(int(d) for d in input_shape)
    in_shape = shape
    if not shape or any(d <= 0 for d in shape):
        raise ArchitectureError(f"bad input shape {input_shape!r}")
    names = list(model._modules.keys())
    if names != [str(i) for i in range(len(names))]:
        raise ArchitectureError(f"the Sequential's children are named {names}; gtl names parameters by position "
                                "(0.weight, 2.bias, ...), so build it as nn.Sequential(module, module, ...)")
    if not names:
        raise ArchitectureError("empty Sequential")
    tokens = []
    for i, m in enumerate(model):
        tok = _token_of(i, m, shape)
        shape = _shape_after(tok, shape, f"layer {i} ({m.__class__.__name__})")
        tokens.append(tok)
    return "x".join(str(d) for d in in_shape) + ": " + " ".join(_text(t) for t in tokens)


def export_base(model: nn.Sequential, input_shape: Union[int, Sequence[int]], path,
                metadata: Dict[str, str] = None) -> str:
    """Writes ``model`` as a gtl base: its parameters (F32, ``INDEX.weight`` / ``INDEX.bias``) and
    the ``gtl.architecture`` metadata built from its modules. Returns the architecture text."""
    text = architecture_of(model, input_shape)
    tensors = {name: p.detach().to("cpu", torch.float32).contiguous() for name, p in model.named_parameters()}
    expected = _parameter_shapes(parse_architecture(text))
    if {n: tuple(t.shape) for n, t in tensors.items()} != expected:
        raise ArchitectureError(f"the model's parameters {sorted(tensors)} do not match the architecture "
                                f"{text!r}, which has {sorted(expected)}")
    meta = {"gtl.kind": "base", "gtl.source": "gtl_torch.export_base"}
    meta.update(metadata or {})
    meta[ARCHITECTURE_KEY] = text
    save_file(tensors, str(path), metadata=meta)
    return text


# ---------------------------------------------------------------- gtl -> torch

def _modules(spec) -> List[nn.Module]:
    shape, layers = spec
    mods = []
    for i, tok in enumerate(layers):
        where = f"layer {i} ({_text(tok)})"
        nxt = _shape_after(tok, shape, where)
        kind = tok[0]
        if kind == "dense":
            mods.append(nn.Linear(shape[0], tok[1]))
        elif kind == "conv2d":
            mods.append(nn.Conv2d(shape[0], tok[1], kernel_size=tok[2], stride=tok[3], padding=tok[4]))
        elif kind == "maxpool":
            mods.append(nn.MaxPool2d(tok[1], stride=tok[2]))
        elif kind == "avgpool":
            mods.append(nn.AvgPool2d(tok[1], stride=tok[2]))
        elif kind == "flatten":
            mods.append(nn.Flatten())
        elif kind == "relu":
            mods.append(nn.ReLU())
        elif kind == "tanh":
            mods.append(nn.Tanh())
        elif kind == "sigmoid":
            mods.append(nn.Sigmoid())
        elif kind == "dropout":
            mods.append(nn.Dropout(tok[1]))
        shape = nxt
    return mods


def _parameter_shapes(spec) -> Dict[str, Tuple[int, ...]]:
    return {n: tuple(p.shape) for n, p in nn.Sequential(*_modules(spec)).named_parameters()}


def import_base(path) -> nn.Sequential:
    """Builds the ``nn.Sequential`` a gtl model file describes and loads its weights (strict:
    every parameter present with its shape, no extra tensors). The result carries the file's
    ``gtl_input_shape`` (per sample, no batch dimension) and ``gtl_architecture`` as attributes."""
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata() or {}
        tensors = {name: f.get_tensor(name) for name in f.keys()}
    text = metadata.get(ARCHITECTURE_KEY)
    if text is None:
        raise ArchitectureError(f"{path}: no {ARCHITECTURE_KEY!r} in the metadata; not a gtl model file")
    try:
        spec = parse_architecture(text)
        model = nn.Sequential(*_modules(spec))
    except ArchitectureError as e:
        raise ArchitectureError(f"{path}: {e}") from None
    params = dict(model.named_parameters())
    missing = [n for n in params if n not in tensors]
    unexpected = sorted(n for n in tensors if n not in params)
    wrong = [f"{n!r} is {list(tensors[n].shape)}, expected {list(p.shape)}"
             for n, p in params.items() if n in tensors and tuple(tensors[n].shape) != tuple(p.shape)]
    if missing or unexpected or wrong:
        parts = ([f"missing tensors {missing}"] if missing else []) + \
                ([f"unexpected tensors {unexpected}"] if unexpected else []) + wrong
        raise ArchitectureError(f"{path} does not fit its architecture {text!r}: " + "; ".join(parts))
    model.load_state_dict({n: t.to(torch.float32) for n, t in tensors.items()}, strict=True)
    model.gtl_input_shape = spec[0]
    model.gtl_architecture = text
    return model
