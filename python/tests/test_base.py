import pytest
import torch
from torch import nn
from safetensors.torch import load_file, save_file

from gtl_torch import ArchitectureError, architecture_of, export_base, import_base, parse_architecture


def cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, stride=1),
                         nn.Tanh(), nn.AvgPool2d(2, stride=1), nn.Flatten(), nn.Dropout(0.25), nn.Linear(6, 5),
                         nn.Sigmoid())


def test_round_trip_keeps_architecture_weights_and_outputs(tmp_path):
    m = cnn().eval()
    text = export_base(m, (1, 8, 8), tmp_path / "b.safetensors")
    assert text == ("1x8x8: conv2d(4,3,1,1) relu maxpool(2,2) conv2d(6,3,1,0) tanh avgpool(2,1) flatten "
                    "dropout(0.25) dense(5) sigmoid")
    back = import_base(tmp_path / "b.safetensors").eval()
    assert back.gtl_input_shape == (1, 8, 8) and back.gtl_architecture == text
    assert [type(a) for a in back] == [type(a) for a in m]
    for (na, a), (nb, b) in zip(m.state_dict().items(), back.state_dict().items()):
        assert na == nb and torch.equal(a, b)
    x = torch.rand(7, 1, 8, 8)
    assert torch.equal(m(x), back(x))


def test_file_layout_is_pytorch_state_dict(tmp_path):
    m = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 5))
    export_base(m, 64, tmp_path / "b.safetensors")
    t = load_file(str(tmp_path / "b.safetensors"))
    assert {k: list(v.shape) for k, v in t.items()} == {"0.weight": [16, 64], "0.bias": [16],
                                                          "2.weight": [5, 16], "2.bias": [5]}
    assert all(v.dtype == torch.float32 for v in t.values())


@pytest.mark.parametrize("module, message", [
    (nn.Sequential(nn.Flatten(), nn.BatchNorm1d(64)), r"layer 1 \(BatchNorm1d\): BatchNorm1d has no gtl equivalent"),
    (nn.Sequential(nn.Flatten(), nn.Linear(64, 5, bias=False)), "Linear without bias"),
    (nn.Sequential(nn.Flatten(), nn.Linear(60, 5)), "in_features 60, but the input has 64 features"),
    (nn.Sequential(nn.Linear(8, 5)), r"dense needs a flat input, got shape \[1, 8, 8\]"),
    (nn.Sequential(nn.Conv2d(1, 2, (3, 1))), r"kernel \(3, 1\) is not square"),
    (nn.Sequential(nn.MaxPool2d(2, padding=1)), "without padding"),
    (nn.Sequential(nn.LeakyReLU()), "LeakyReLU has no gtl equivalent"),
    (nn.Sequential(nn.Sequential(nn.Flatten())), "Sequential has no gtl equivalent"),
])
def test_unsupported_modules_are_named(tmp_path, module, message):
    with pytest.raises(ArchitectureError, match=message):
        export_base(module, (1, 8, 8), tmp_path / "b.safetensors")
    assert not (tmp_path / "b.safetensors").exists()


def test_named_children_are_refused():
    from collections import OrderedDict
    m = nn.Sequential(OrderedDict(flat=nn.Flatten(), fc=nn.Linear(64, 5)))
    with pytest.raises(ArchitectureError, match=r"children are named \['flat', 'fc'\]"):
        architecture_of(m, (1, 8, 8))


def test_same_padding_maps_to_explicit_padding():
    assert architecture_of(nn.Sequential(nn.Conv2d(1, 2, 5, padding="same")), (1, 8, 8)) == "1x8x8: conv2d(2,5,1,2)"


def test_grammar_matches_gtl():
    shape, layers = parse_architecture("1x28x28: conv(8,3) RELU maxpool(2) flatten linear(10) dropout(0.5)")
    assert shape == (1, 28, 28)
    assert layers == [("conv2d", 8, 3, 1, 0), ("relu",), ("maxpool", 2, 2), ("flatten",), ("dense", 10),
                      ("dropout", 0.5)]
    for bad, msg in [("dense(3)", "expected 'SHAPE: LAYERS'"), ("0x3: relu", "bad input shape"),
                     ("64: dense(a)", "expected 1...1 non-negative integers"), ("64: gelu", "unknown layer 'gelu'"),
                     ("64:", "no layers")]:
        with pytest.raises(ArchitectureError, match=msg):
            parse_architecture(bad)


def test_import_is_strict(tmp_path):
    m = nn.Sequential(nn.Flatten(), nn.Linear(64, 5))
    path = tmp_path / "b.safetensors"
    export_base(m, (1, 8, 8), path)
    t = load_file(str(path))
    meta = {"gtl.architecture": "1x8x8: flatten dense(5)"}
    save_file({"1.weight": t["1.weight"], "2.bias": t["1.bias"]}, str(path), metadata=meta)
    with pytest.raises(ArchitectureError, match=r"missing tensors \['1.bias'\]; unexpected tensors \['2.bias'\]"):
        import_base(path)
    save_file({"1.weight": t["1.weight"][:4].contiguous(), "1.bias": t["1.bias"]}, str(path), metadata=meta)
    with pytest.raises(ArchitectureError, match=r"'1.weight' is \[4, 64\], expected \[5, 64\]"):
        import_base(path)
    save_file(t, str(path))
    with pytest.raises(ArchitectureError, match="no 'gtl.architecture' in the metadata"):
        import_base(path)
