"""Hostile or broken datasets give one line naming the file, never a traceback or a hang (issue 12,
items 6 and 11, and the download message)."""
import os
import struct
import threading
import zlib

import numpy as np
import pytest
from PIL import Image

from workbench.data import DataError, load_dataset


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width×height pixels: PIL refuses it at open, as it would a
    real decompression bomb, without our test allocating anything."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + \
        chunk(b"IEND", b"")


def _image_folder(root, per_class=3):
    for label in ("cat", "dog"):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            Image.new("L", (10, 10), 40 * i).save(root / label / f"{i}.png")


def _load_folder(root):
    return load_dataset({"dataset": "folder", "root": str(root), "val_fraction": 0.3}, [1, 8, 8])


@pytest.mark.parametrize("side", [20_000, 13_000])  # over twice PIL's limit (it refuses), over it (it warns)
def test_a_decompression_bomb_in_a_folder_dataset_is_named(tmp_path, side):
    _image_folder(tmp_path)
    bomb = tmp_path / "dog" / "bomb.png"
    bomb.write_bytes(_png_claiming(side, side))
    with pytest.raises(DataError) as caught:
        _load_folder(tmp_path)
    assert str(caught.value).startswith(f"folder dataset: {bomb} has more pixels than the ")
    assert "decompression bomb" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_in_a_folder_dataset_is_refused_without_blocking(tmp_path):
    _image_folder(tmp_path)
    fifo = tmp_path / "cat" / "stream.png"
    os.mkfifo(fifo)
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(error=_raises(_load_folder, tmp_path)), daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "blocked on the FIFO"
    assert str(outcome["error"]) == (f"folder dataset: {fifo} is not a regular file (a FIFO, device or broken "
                                     f"link): remove it")


def _raises(call, *args):
    try:
        call(*args)
    except DataError as exc:
        return exc
    return None


def _garbage_mnist(root):
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (raw / name).write_bytes(np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    return raw


def test_garbage_mnist_files_are_one_line_naming_the_folder(tmp_path):
    raw = _garbage_mnist(tmp_path)
    with pytest.raises(DataError) as caught:
        load_dataset({"dataset": "mnist", "root": str(tmp_path)}, [1, 28, 28])
    message = str(caught.value)
    assert message.startswith(f"mnist: cannot read the files in {raw}: they are not MNIST files (")
    assert "\n" not in message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_among_mnist_files_is_refused(tmp_path):
    raw = _garbage_mnist(tmp_path)
    (raw / "train-images-idx3-ubyte").unlink()
    os.mkfifo(raw / "train-images-idx3-ubyte")
    error = _raises(load_dataset, {"dataset": "mnist", "root": str(tmp_path)}, [1, 28, 28])
    assert str(error) == f"{raw / 'train-images-idx3-ubyte'}: not a regular file (a FIFO, device or broken link): remove it"


def test_a_download_without_network_is_one_line_and_keeps_stdout_clean(tmp_path, monkeypatch, capsys):
    import torchvision.datasets as tvd

    def offline(self):  # what torchvision does when every mirror fails
        print("Downloading https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz")
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\n"
                           "Tried https://ossci-datasets.s3.amazonaws.com/mnist/, got:\n"
                           "<urlopen error [Errno -2] Name or service not known>\n"
                           "Tried http://yann.lecun.com/exdb/mnist/, got:\n"
                           "<urlopen error [Errno -2] Name or service not known>\n")

    monkeypatch.setattr(tvd.MNIST, "download", offline)
    with pytest.raises(DataError) as caught:
        load_dataset({"dataset": "mnist", "root": str(tmp_path), "download": True}, [1, 28, 28])
    assert str(caught.value).startswith("mnist: the download failed (<urlopen error [Errno -2] Name or service not "
                                        "known>); check the network, or put train-images-idx3-ubyte")
    assert "\n" not in str(caught.value) and capsys.readouterr().out == ""
