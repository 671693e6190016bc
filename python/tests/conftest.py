import gzip
import os
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
DIGITS = REPO / "Sources" / "GTL" / "Resources" / "digits.csv.gz"

torch.set_num_threads(1)  # small models; leave the other cores alone


def digits(classes):
    """gtl's embedded digits restricted to `classes`, in data set order, labels mapped to
    0..<len(classes) in the listed order: exactly the set `gtl finetune --train-all` trains on."""
    with gzip.open(DIGITS, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float32)
    x, y = table[:, :-1], table[:, -1].astype(np.int64)
    keep = np.isin(y, classes)
    mapping = {c: i for i, c in enumerate(classes)}
    features = (x[keep] * np.float32(1.0 / 16)).reshape(-1, 1, 8, 8)
    labels = np.array([mapping[c] for c in y[keep]], dtype=np.int64)
    return torch.from_numpy(features), torch.from_numpy(labels)


@pytest.fixture(scope="session")
def gtl_bin():
    path = os.environ.get("GTL_BIN")
    if not path:
        pytest.skip("GTL_BIN is not set (scripts/test-interop.sh sets it to the built gtl)")
    assert Path(path).is_file(), f"GTL_BIN={path} does not exist"
    return path
