"""A safetensors reader on numpy alone (no `safetensors` package).

Format: 8-byte little-endian unsigned header length N, N bytes of JSON header
({name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}), then the
raw little-endian data; offsets are relative to the end of the header.
"""
from __future__ import annotations

import json
import struct
from typing import Dict, Tuple

_DTYPES = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2",
    "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
    "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?",
}


class SafetensorsError(ValueError):
    pass


def read_header(path: str) -> Tuple[dict, int]:
    """The parsed JSON header and the byte offset where the data starts."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise SafetensorsError(f"{path}: too short for a safetensors file")
        (n,) = struct.unpack("<Q", head)
        if n > 100_000_000:
            raise SafetensorsError(f"{path}: implausible header length {n}")
        raw = f.read(n)
        if len(raw) != n:
            raise SafetensorsError(f"{path}: header truncated ({len(raw)} of {n} bytes)")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"{path}: header is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: header is not a JSON object")
    return header, 8 + n


def tensor_digests(path: str) -> Dict[str, Tuple[str, Tuple[int, ...], str]]:
    """name -> (dtype, shape, SHA-256 of its data bytes), standard library only: compares two
    files' tensors while ignoring their metadata and the header's layout."""
    import hashlib

    header, start = read_header(path)
    out = {}
    with open(path, "rb") as f:
        for name, info in header.items():
            if name == "__metadata__":
                continue
            begin, end = (int(x) for x in info["data_offsets"])
            f.seek(start + begin)
            blob = f.read(end - begin)
            if len(blob) != end - begin:
                raise SafetensorsError(f"{path}: tensor '{name}' is truncated")
            out[name] = (info["dtype"], tuple(info["shape"]), hashlib.sha256(blob).hexdigest())
    return out


def read(path: str):
    """(tensors, metadata): tensors maps each name to a numpy array of its dtype and shape, in
    data order (gtl writes the network's parameters in layer order; the JSON header itself has
    sorted keys); metadata is the `__metadata__` dict (empty when absent)."""
    import numpy as np

    header, start = read_header(path)
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read()
    meta = header.get("__metadata__") or {}
    tensors: Dict[str, "np.ndarray"] = {}
    entries = [(n, i) for n, i in header.items() if n != "__metadata__"]
    if not all(isinstance(i, dict) for _, i in entries):
        raise SafetensorsError(f"{path}: a tensor entry is not a JSON object")
    entries.sort(key=lambda e: tuple(e[1].get("data_offsets") or [0, 0]))
    for name, info in entries:
        try:
            dtype = np.dtype(_DTYPES[info["dtype"]])
            shape = [int(s) for s in info["shape"]]
            begin, end = (int(x) for x in info["data_offsets"])
        except KeyError as e:
            raise SafetensorsError(f"{path}: tensor '{name}': missing or unsupported {e}") from None
        count = 1
        for s in shape:
            count *= s
        if not (0 <= begin <= end <= len(data)) or end - begin != count * dtype.itemsize:
            raise SafetensorsError(f"{path}: tensor '{name}': data_offsets {begin}..{end} do not fit shape {shape} "
                                   f"of {info['dtype']} in {len(data)} data bytes")
        tensors[name] = np.frombuffer(data, dtype=dtype, count=count, offset=begin).reshape(shape)
    return tensors, meta


def write(path: str, tensors, metadata=None) -> None:
    """Writes numpy arrays in the same format (for tests and tools); data in the given order."""
    import numpy as np

    rev = {np.dtype(v).str: k for k, v in _DTYPES.items()}
    header = {}
    blobs = []
    offset = 0
    for name, arr in tensors.items():
        a = np.ascontiguousarray(arr)
        key = a.dtype.newbyteorder("<").str if a.dtype.byteorder not in "|" else a.dtype.str
        if key not in rev:
            raise SafetensorsError(f"unsupported dtype {a.dtype} for '{name}'")
        b = a.astype(np.dtype(key), copy=False).tobytes()
        header[name] = {"dtype": rev[key], "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
