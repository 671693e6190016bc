import pytest
import torch
from torch import nn
from safetensors.torch import save_file

from gtl_torch import GuideError, export_base, load_guide


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 5))


def write_guide(path, tensors, kind="guide"):
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata={"gtl.kind": kind})


def test_loads_values_keyed_by_parameter_name(tmp_path):
    m = mlp()
    values = {n: torch.rand(p.shape) for n, p in m.named_parameters()}
    write_guide(tmp_path / "g.safetensors", values)
    g = load_guide(tmp_path / "g.safetensors", m)
    assert list(g) == ["1.weight", "1.bias", "3.weight", "3.bias"]
    for n, t in g.items():
        assert torch.equal(t, values[n]) and t.dtype == torch.float32


def test_follows_the_parameter_dtype(tmp_path):
    m = mlp().double()
    write_guide(tmp_path / "g.safetensors", {n: torch.rand(p.shape) for n, p in m.named_parameters()})
    assert all(t.dtype == torch.float64 for t in load_guide(tmp_path / "g.safetensors", m).values())


def test_missing_and_unexpected_names_are_listed(tmp_path):
    m = mlp()
    values = {n: torch.rand(p.shape) for n, p in m.named_parameters() if n != "3.bias"}
    values["5.weight"] = torch.rand(2, 2)
    write_guide(tmp_path / "g.safetensors", values)
    with pytest.raises(GuideError) as e:
        load_guide(tmp_path / "g.safetensors", m)
    msg = str(e.value)
    assert "missing guide tensors for parameters '3.bias'" in msg
    assert "unexpected guide tensors '5.weight'" in msg


def test_non_strict_tolerates_names_but_not_shapes(tmp_path):
    m = mlp()
    values = {"1.weight": torch.rand(16, 64), "9.bias": torch.rand(3)}
    write_guide(tmp_path / "g.safetensors", values)
    assert list(load_guide(tmp_path / "g.safetensors", m, strict=False)) == ["1.weight"]
    values["1.weight"] = torch.rand(64, 16)
    write_guide(tmp_path / "g.safetensors", values)
    with pytest.raises(GuideError, match=r"'1.weight' has shape \[64, 16\], parameter has \[16, 64\]"):
        load_guide(tmp_path / "g.safetensors", m, strict=False)


def test_negative_values_name_the_tensor(tmp_path):
    m = mlp()
    values = {n: torch.rand(p.shape) for n, p in m.named_parameters()}
    values["3.weight"][2, 7] = -0.5
    write_guide(tmp_path / "g.safetensors", values)
    with pytest.raises(GuideError, match=r"'3.weight' holds -0.5 at flat index 39"):
        load_guide(tmp_path / "g.safetensors", m)


def test_a_model_file_is_not_taken_for_a_guide(tmp_path):
    m = mlp()
    export_base(m, (1, 8, 8), tmp_path / "base.safetensors")
    with pytest.raises(GuideError, match="gtl.kind is 'base', not 'guide'"):
        load_guide(tmp_path / "base.safetensors", m)
