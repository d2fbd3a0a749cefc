"""What torchvision's datasets and image folders are on disk, without loading torch: names, sizes,
the files each needs. The window's dataset menu and its sample counts read these; workbench.data.vision
loads the files."""

# name -> (torchvision class name, folder under root, the files it needs)
VISION = {
    "mnist": ("MNIST", "MNIST/raw", "train-images-idx3-ubyte, train-labels-idx1-ubyte, "
              "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (or the same names with .gz)"),
    "fashion-mnist": ("FashionMNIST", "FashionMNIST/raw", "train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                      "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (or the same names with .gz)"),
    "cifar10": ("CIFAR10", "cifar-10-batches-py", "data_batch_1 … data_batch_5, test_batch and batches.meta "
                "(unpacked from cifar-10-python.tar.gz)"),
}
# name -> (training images, test images): what the official files hold
VISION_SIZES = {"mnist": (60_000, 10_000), "fashion-mnist": (60_000, 10_000), "cifar10": (50_000, 10_000)}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
