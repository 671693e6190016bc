import json
import struct

import pytest

np = pytest.importorskip("numpy")

from studies import safetensors  # noqa: E402


def write_by_hand(path, tensors, metadata, pad=True):
    """The documented format, written without the module under test: u64 LE header length,
    JSON header (sorted keys, like gtl's), then the raw little-endian data in the given order."""
    header, blobs, off = {}, [], 0
    for name, (dtype, shape, values, fmt) in tensors.items():
        b = struct.pack("<" + fmt * len(values), *values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = metadata
    raw = json.dumps(header, sort_keys=True).encode()
    if pad:
        raw += b" " * ((8 - (8 + len(raw)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def test_reads_a_file_in_the_documented_format(tmp_path):
    p = tmp_path / "guide.safetensors"
    w = [0.0, 0.25, 0.5, 0.75, 1.0, 0.125]
    write_by_hand(p, {"1.weight": ("F32", [2, 3], w, "f"), "1.bias": ("F32", [2], [0.5, 1.0], "f"),
                      "0.count": ("I64", [1], [7], "q")},
                  {"gtl.kind": "guide", "gtl.statistic": "squared"})
    tensors, meta = safetensors.read(str(p))
    assert meta == {"gtl.kind": "guide", "gtl.statistic": "squared"}
    assert list(tensors) == ["1.weight", "1.bias", "0.count"]   # data order, not the header's sorted order
    assert tensors["1.weight"].dtype == np.float32
    assert tensors["1.weight"].shape == (2, 3)
    np.testing.assert_array_equal(tensors["1.weight"], np.array(w, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(tensors["1.bias"], [0.5, 1.0])
    assert tensors["0.count"].tolist() == [7]


def test_round_trip_and_digests(tmp_path):
    a = tmp_path / "a.safetensors"
    b = tmp_path / "b.safetensors"
    t = {"0.weight": np.arange(6, dtype=np.float32).reshape(3, 2), "0.bias": np.ones(3, dtype=np.float32)}
    safetensors.write(str(a), t, {"gtl.seed": "1"})
    safetensors.write(str(b), t, {"gtl.seed": "other metadata"})
    back, meta = safetensors.read(str(a))
    assert meta == {"gtl.seed": "1"}
    for k in t:
        np.testing.assert_array_equal(back[k], t[k])
    assert safetensors.tensor_digests(str(a)) == safetensors.tensor_digests(str(b))   # metadata ignored
    t["0.bias"] = np.zeros(3, dtype=np.float32)
    safetensors.write(str(b), t)
    assert safetensors.tensor_digests(str(a)) != safetensors.tensor_digests(str(b))


def test_rejects_truncated_and_inconsistent_files(tmp_path):
    p = tmp_path / "bad.safetensors"
    p.write_bytes(b"\x10\x00")
    with pytest.raises(safetensors.SafetensorsError, match="too short"):
        safetensors.read(str(p))
    write_by_hand(p, {"x": ("F32", [4], [1.0, 2.0], "f")}, {})   # 2 values for shape [4]
    with pytest.raises(safetensors.SafetensorsError, match="do not fit"):
        safetensors.read(str(p))
    raw = b"not json"
    p.write_bytes(struct.pack("<Q", len(raw)) + raw)
    with pytest.raises(safetensors.SafetensorsError, match="not JSON"):
        safetensors.read(str(p))
