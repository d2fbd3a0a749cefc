"""Where the data lives while training, from the per-sample size: on the GPU, streamed, or in memory."""
from workbench.core.templates import template
from workbench.data import load_dataset, sample_count
from workbench.training.placement import data_placement

GIB = 1024 ** 3


def test_the_sample_count_is_what_loading_gives():
    for data in ({"dataset": "digits"}, {"dataset": "digits", "count": 300}, {"dataset": "shapes", "count": 500}):
        loaded = load_dataset(data, [1, 8, 8] if data["dataset"] == "digits" else [3, 32, 32])
        assert sample_count(data) == len(loaded.train_x) + len(loaded.val_x)
    assert sample_count({"dataset": "cifar10", "count": 1000}) == 1000 + 10_000  # the test set validates
    assert sample_count({"dataset": "folder", "root": "/nowhere/at/all"}) is None


def test_a_dataset_is_kept_on_the_gpu_while_it_takes_at_most_half_of_it():
    doc = template("cifar10-cnn")
    doc["data"] = {"dataset": "cifar10"}  # 60,000 images of 32×32×3 float32 and a label each
    sample = 32 * 32 * 3 * 4 + 8
    assert data_placement(doc, "cpu").case == "memory"
    kept = data_placement(doc, "cuda", device_bytes=80 * GIB, device_label="an 80 GiB GPU")
    assert kept.case == "device" and kept.sample_bytes == sample and kept.dataset_bytes == 60_000 * sample
    assert kept.text == "60,000 samples × 12.0 KiB = 703.6 MiB: kept on an 80 GiB GPU (80.0 GiB)"
    small = 2 * 60_000 * sample - 1  # just under twice the data
    streamed = data_placement(doc, "cuda", device_bytes=small)
    assert streamed.case == "streamed" and "batches stream from pinned host memory" in streamed.text
    assert data_placement(doc, "cuda", device_bytes=small + 1).case == "device"
