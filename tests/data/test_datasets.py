"""Datasets load through the code users run, from the real on-disk formats; nothing downloads."""
import gzip
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from workbench.data import DataError, digits, load_dataset, validate_data
from workbench.data.augment import augment_batch
from workbench.data.shapes import CLASSES, generate


def test_digits_split_is_deterministic_disjoint_and_in_unit_range():
    a = load_dataset({"dataset": "digits"}, [1, 8, 8])
    b = load_dataset({"dataset": "digits"}, [1, 8, 8])
    assert (len(a.train_x), len(a.val_x)) == (1438, 359)
    assert torch.equal(a.val_x, b.val_x) and torch.equal(a.train_y, b.train_y)
    assert a.train_x.dtype == torch.float32 and a.train_y.dtype == torch.int64
    assert 0.0 == float(a.train_x.min()) and float(a.train_x.max()) == 1.0
    other = load_dataset({"dataset": "digits", "split_seed": 1}, [1, 8, 8])
    assert not torch.equal(a.val_y, other.val_y)
    # no validation image is also a training image
    train = {row.numpy().tobytes() for row in a.train_x.flatten(1)}
    assert sum(row.numpy().tobytes() in train for row in a.val_x.flatten(1)) < 5  # the set has a few duplicates


def test_digits_resized_for_lenet_and_flattened_for_an_mlp():
    big = load_dataset({"dataset": "digits", "resize": 32}, [1, 32, 32])
    assert big.input_shape == [1, 32, 32] and float(big.train_x.std()) > 0.2
    flat = load_dataset({"dataset": "digits"}, [64])
    assert flat.train_x.shape[1:] == (64,)


def test_a_mismatched_input_names_both_shapes_and_the_fixes():
    with pytest.raises(DataError) as err:
        load_dataset({"dataset": "digits"}, [1, 32, 32])
    assert str(err.value) == ("digits images are 8×8×1 but the project's input is 32×32×1: set the input to "
                              "[1, 8, 8] (8×8×1), or resize digits to 32×32 with data.resize = 32")
    with pytest.raises(DataError, match="32×32×3.*use a dataset with 3 channels"):
        load_dataset({"dataset": "digits"}, [3, 32, 32])


def test_shapes_are_balanced_deterministic_and_not_blank():
    x, y = generate(1000, seed=3)
    assert x.shape == (1000, 3, 32, 32) and torch.equal(torch.bincount(y), torch.full((10,), 100))
    assert torch.equal(x, generate(1000, seed=3)[0]) and not torch.equal(x, generate(1000, seed=4)[0])
    # every image shows a shape: the foreground covers part of it and contrasts with the background
    spread = x.flatten(2).std(2).mean(1)
    assert float(spread.min()) > 0.05 and len(CLASSES) == 10


def test_shapes_dataset_uses_count():
    ds = load_dataset({"dataset": "shapes", "count": 200, "val_fraction": 0.25}, [3, 32, 32])
    assert (len(ds.train_x), len(ds.val_x)) == (150, 50) and ds.classes[0] == "circle"


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_mnist_family_from_idx_files(tmp_path, name, folder):
    raw = tmp_path / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 28, 28))
    labels = np.arange(12) % 10
    for prefix, n in (("train", 12), ("t10k", 5)):
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(_idx(images[:n]))
        with gzip.open(raw / f"{prefix}-labels-idx1-ubyte.gz", "wb") as handle:  # gz is fine too
            handle.write(_idx(labels[:n]))
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(_idx(labels[:n]))
    ds = load_dataset({"dataset": name, "root": str(tmp_path)}, [1, 28, 28])
    assert (len(ds.train_x), len(ds.val_x)) == (12, 5) and len(ds.classes) == 10
    assert float(ds.train_x[3, 0, 5, 7]) == pytest.approx(images[3, 5, 7] / 255)
    assert ds.train_y.tolist() == labels.tolist()


def test_missing_mnist_says_which_files_go_where(tmp_path):
    with pytest.raises(DataError) as err:
        load_dataset({"dataset": "mnist"}, [1, 28, 28], root=str(tmp_path))
    message = str(err.value)
    assert str(tmp_path / "MNIST" / "raw") in message and "t10k-images-idx3-ubyte" in message
    assert "download" in message


def test_cifar10_from_python_pickles(tmp_path, monkeypatch):
    import torchvision.datasets.cifar as cifar

    # torchvision checks the real files' md5; our tiny files cannot match it
    monkeypatch.setattr(cifar, "check_integrity", lambda *args, **kwargs: True)
    base = tmp_path / "cifar-10-batches-py"
    base.mkdir()
    rng = np.random.default_rng(1)
    for i, name in enumerate(["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
                              "test_batch"]):
        data = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
        data[0, :1024] = 255  # first image: red channel full
        data[0, 1024:] = 0
        with open(base / name, "wb") as handle:
            pickle.dump({"data": data, "labels": [i % 10, 1, 2, 3]}, handle)
    with open(base / "batches.meta", "wb") as handle:
        pickle.dump({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                                     "ship", "truck"]}, handle)
    ds = load_dataset({"dataset": "cifar10", "root": str(tmp_path)}, [3, 32, 32])
    assert (len(ds.train_x), len(ds.val_x)) == (20, 4) and ds.classes[0] == "airplane"
    assert ds.train_x[0, 0].min() == 1.0 and ds.train_x[0, 1:].max() == 0.0  # channels land right


def test_image_folder_resized_to_the_input(tmp_path):
    for label, colour in (("cat", (255, 0, 0)), ("dog", (0, 0, 255))):
        (tmp_path / label).mkdir()
        for i in range(5):
            Image.new("RGB", (40 + i, 30), colour).save(tmp_path / label / f"{i}.png")
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    ds = load_dataset({"dataset": "folder", "root": str(tmp_path), "val_fraction": 0.2}, [3, 16, 16])
    assert ds.classes == ["cat", "dog"] and ds.input_shape == [3, 16, 16]
    assert len(ds.train_x) + len(ds.val_x) == 10
    x = torch.cat([ds.train_x, ds.val_x])
    y = torch.cat([ds.train_y, ds.val_y])
    assert torch.allclose(x[y == 0][:, 0], torch.ones(1)) and torch.allclose(x[y == 1][:, 2], torch.ones(1))


def test_folder_without_classes_is_explained(tmp_path):
    with pytest.raises(DataError, match="one sub-folder per class"):
        load_dataset({"dataset": "folder", "root": str(tmp_path / "nope")}, [3, 16, 16])


def test_bad_data_sections_name_key_and_allowed_values():
    with pytest.raises(DataError, match=r"data.dataset: 'cifar' is not allowed: must be one of digits, shapes"):
        validate_data({"dataset": "cifar"})
    with pytest.raises(DataError, match=r"data.resise: unknown key \(did you mean 'resize'\?\)"):
        validate_data({"resise": 32})
    assert validate_data({})["val_fraction"] == 0.2


def test_augmentation_works_on_whole_batches():
    x = torch.zeros(64, 1, 8, 8)
    x[:, :, :, 0] = 1.0  # a bar on the left edge
    flipped = augment_batch(x, ["flip"])
    moved = flipped[:, 0, :, 7].sum(1) == 8
    assert 10 < int(moved.sum()) < 54  # about half mirrored
    shifted = augment_batch(x, ["shift"])
    assert shifted.shape == x.shape and not torch.equal(shifted, x)


def test_a_split_that_leaves_a_part_empty_is_refused_naming_the_numbers():
    with pytest.raises(DataError) as err:
        load_dataset({"dataset": "digits", "count": 20, "val_fraction": 0.01}, [1, 8, 8])
    assert "20 samples with data.val_fraction = 0.01 give 0 validation and 20 training samples" in str(err.value)
    small = load_dataset({"dataset": "digits", "count": 20, "val_fraction": 0.05}, [1, 8, 8])
    assert (len(small.train_x), len(small.val_x)) == (19, 1)


def test_digits_are_scikit_learns_read_without_importing_it():
    import subprocess
    import sys

    from sklearn.datasets import load_digits

    x, y = digits.load()
    bunch = load_digits()
    assert torch.equal(x, torch.from_numpy(bunch.images).float().div_(16.0).unsqueeze(1))
    assert torch.equal(y, torch.from_numpy(bunch.target).long())
    code = "import sys; from workbench.data import digits; digits.load(); print('sklearn' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
