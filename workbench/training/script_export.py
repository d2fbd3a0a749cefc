"""`workbench export SPEC --format script`: the project as a standalone, readable training script.

The script holds the network (the same source as `--format pytorch`: workbench.core.export), the
data loading (torchvision datasets, an image folder, or the generated shapes / embedded digits
copied in, so it needs no workbench), the project's training section as the defaults of its
--epochs, --batch-size, --lr, --device and --out options, and a plain PyTorch loop that prints the
same JSON lines as `workbench train` and writes safetensors checkpoints. Batches come from a
DataLoader (workers and pinned memory for datasets read from files), and the script runs unchanged
under torchrun: DistributedDataParallel, a DistributedSampler, the batch size the global one.
"""
from __future__ import annotations

import base64
import inspect
import json
import os
import zlib
from pathlib import Path
from string import Template

from workbench import __version__
from workbench.core.build import build_model
from workbench.core.catalogue import fmt_shape
from workbench.core.export import checked_summary, custom_layer_source, network_class_source
from workbench.core.project import write_atomic
from workbench.core.spec import ProjectSpec, load_spec
import torch

from workbench.data import Dataset, DataError, augment, shapes
from workbench.data.dataset import fit_to_input
from workbench.data.vision import VISION
from workbench.training.config import validate_sections
from workbench.training.tasks import make_task

# The loss of each task kind (workbench.training.tasks.Task.loss), as the script writes it.
LOSSES = {
    "ce": "F.cross_entropy(out, target)",
    "nll": "F.nll_loss(torch.log(out.clamp_min(1e-12)), target)  # the network ends in Softmax",
    "mse": "F.mse_loss(out, target)",
    "bce": "F.binary_cross_entropy(out.clamp(0.0, 1.0), target.clamp(0.0, 1.0))",
    "bce_logits": "F.binary_cross_entropy_with_logits(out, target.clamp(0.0, 1.0))  # the network gives logits",
}
# What each built-in dataset's samples are (C, H, W) and how many classes it has: an export whose
# input does not fit is refused with the message training would give.
SAMPLES = {"digits": ([1, 8, 8], 10), "shapes": ([3, 32, 32], 10), "mnist": ([1, 28, 28], 10),
           "fashion-mnist": ([1, 28, 28], 10), "cifar10": ([3, 32, 32], 10)}

HEADER = Template('''"""$name: a standalone training script exported by workbench $version.

    python $file                                    # one process (the GPU when there is one)
    python $file --epochs 5 --batch-size 128 --lr 0.001 --device cpu --out runs/x
    torchrun --nproc_per_node 4 $file               # several GPUs or machines (DistributedDataParallel)

Network: input $input_text, output $output_text, $params parameters.
Data: $data_text
Training: $training_text
Prints one JSON object per line (start, epoch, done), as `workbench train` does, and writes
safetensors checkpoints (last.safetensors, best.safetensors) to --out. Under torchrun the batch
size is the global one, shared by the processes; process 0 prints and writes.
Needs: $needs.
"""
$stdlib_imports

import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, RandomSampler, Subset, TensorDataset
from torch.utils.data.distributed import DistributedSampler
$extra_imports
# The project's training and data sections: the defaults of the options below.
TRAINING = $training
DATA = $data
INPUT = $input  # one sample: ${input_kind}
RANK = 0  # this process's place under torchrun (0 when it trains alone)
''')

SPLIT = '''

def split(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The train/validation split workbench makes: a permutation seeded with split_seed, whose
    first val_fraction validates."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(DATA["split_seed"]))
    n_val = int(round(n * DATA["val_fraction"]))
    return order[n_val:], order[:n_val]
'''

TENSOR_SETS = '''

def tensors_to_sets(x: torch.Tensor, y: torch.Tensor) -> tuple[Dataset, Dataset]:
    """Images (N×C×H×W in [0, 1]) and labels, split, resized to data.resize, flattened for a vector input."""
    if DATA["count"]:
        x, y = x[:DATA["count"]], y[:DATA["count"]]
    train, val = split(len(x))
    if DATA["resize"]:
        x = F.interpolate(x, size=tuple(DATA["resize"]), mode="bilinear", antialias=True).clamp_(0.0, 1.0)
    x = x.reshape(len(x), *INPUT)
    return TensorDataset(x[train], y[train]), TensorDataset(x[val], y[val])
'''

DIGITS = '''

CLASSES = [str(i) for i in range(10)]


def load_data(root: str) -> tuple[Dataset, Dataset, list[str]]:
    """scikit-learn's 1,797 8×8 handwritten digits, embedded at the end of this file."""
    raw = zlib.decompress(base64.b64decode("".join(DIGITS)))
    n = len(raw) // 65  # 64 pixels (0..16) per image, then one label per image
    x = torch.frombuffer(bytearray(raw[:64 * n]), dtype=torch.uint8).float().div_(16.0).view(n, 1, 8, 8)
    y = torch.frombuffer(bytearray(raw[64 * n:]), dtype=torch.uint8).long()
    return (*tensors_to_sets(x, y), CLASSES)
'''

SHAPES = Template('''

def load_data(root: str) -> tuple[Dataset, Dataset, list[str]]:
    """$count_text generated 32×32×3 images of 10 shape classes (workbench's `shapes`, seeded with split_seed)."""
    x, y = generate($count, DATA["split_seed"])
    return (*tensors_to_sets(x, y), CLASSES)
''')

VISION_LOADER = Template('''

def load_data(root: str) -> tuple[Dataset, Dataset, list[str]]:
    """torchvision's $cls from `root` (the official test set validates); read image by image by the
    DataLoader's workers. data.download lets torchvision download it."""
    steps = [transforms.ToTensor()]  # uint8 H×W(×C) -> float32 C×H×W in [0, 1]
    if DATA["resize"]:
        steps.append(transforms.Resize(tuple(DATA["resize"]), antialias=True))
    steps.append(transforms.Lambda(to_input))
    transform = transforms.Compose(steps)
    train = datasets.$cls(root, train=True, transform=transform, download=DATA["download"])
    val = datasets.$cls(root, train=False, transform=transform, download=DATA["download"])
    classes = [c.split(" - ")[-1] for c in train.classes]
    if DATA["count"]:
        train = Subset(train, range(min(DATA["count"], len(train))))
    return train, val, classes


def to_input(image: torch.Tensor) -> torch.Tensor:
    return image.reshape(INPUT)  # the input's shape: flattened when it is a vector
''')

FOLDER_LOADER = '''

def load_data(root: str) -> tuple[Dataset, Dataset, list[str]]:
    """An image folder with one sub-folder per class, read image by image by the DataLoader's
    workers, converted to the input's channels and size."""
    channels, height, width = INPUT
    transform = transforms.Compose([transforms.Lambda(to_grey if channels == 1 else to_rgb),
                                    transforms.Resize((height, width)), transforms.ToTensor()])
    images = datasets.ImageFolder(root, transform=transform)
    indices = torch.arange(len(images))
    if DATA["count"]:
        indices = indices[:DATA["count"]]
    train, val = split(len(indices))
    return Subset(images, indices[train].tolist()), Subset(images, indices[val].tolist()), images.classes


def to_grey(image):
    return image.convert("L")


def to_rgb(image):
    return image.convert("RGB")
'''

LOOP = Template('''

def loss_function(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    out = out.float()  # in float32, outside autocast
    return $loss


def tally(loss: torch.Tensor, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """One batch's loss × samples, right answers and samples (added up over an epoch, and over processes)."""
    right = $correct
    return torch.stack([loss * len(y), right, torch.tensor(float(len(y)), device=y.device)])


def options() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=TRAINING["epochs"])
    p.add_argument("--batch-size", type=int, default=TRAINING["batch_size"],
                   help="the global batch: under torchrun each process takes its share")
    p.add_argument("--lr", type=float, default=TRAINING["lr"])
    p.add_argument("--device", default=TRAINING["device"], choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--out", default="runs/$name", help="folder for the checkpoints")
    p.add_argument("--data-root", default=DATA["root"] or os.environ.get("WORKBENCH_DATA")
                   or os.path.expanduser("~/.workbench/datasets"))
    p.add_argument("--workers", type=int, default=$workers,
                   help="processes reading samples for the DataLoader")
    return p.parse_args()


def pick_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    return torch.device(name)


def emit(event: dict) -> None:
    if RANK == 0:
        print(json.dumps(event), flush=True)


def save(model: nn.Module, path: str) -> None:
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, path)


def main() -> int:
    global RANK
    args = options()
    device = pick_device(args.device)
    # torchrun starts one process per GPU (or CPU share) and says which one this is
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        RANK = dist.get_rank()
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
            torch.cuda.set_device(device)
    if args.batch_size < world:
        raise SystemExit(f"--batch-size {args.batch_size} is smaller than the {world} processes sharing it")
    torch.manual_seed(TRAINING["seed"])
    model = Net().to(device)
    if world > 1 and device.type == "cuda":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)  # batch statistics of the global batch
    torch.manual_seed(TRAINING["seed"] + RANK)  # dropout and noise draw differently in each process

    if world > 1 and RANK != 0:
        dist.barrier()  # process 0 reads (or downloads) the data first
    train_set, val_set, classes = load_data(args.data_root)
    if world > 1 and RANK == 0:
        dist.barrier()
    # Each process: its share of every epoch's shuffled order, and of the validation set.
    batch = args.batch_size // world
    sampler = (DistributedSampler(train_set, shuffle=True, seed=TRAINING["seed"]) if world > 1
               else RandomSampler(train_set, generator=torch.Generator().manual_seed(TRAINING["seed"])))
    share = range(len(val_set) * RANK // world, len(val_set) * (RANK + 1) // world)
    pin = device.type == "cuda"  # pinned host memory: copies to the GPU overlap the step
    # (a last batch of one sample is left out: batch normalization cannot train on one sample)
    train_loader = DataLoader(train_set, batch_size=batch, sampler=sampler, num_workers=args.workers,
                              pin_memory=pin, drop_last=math.ceil(len(train_set) / world) % batch == 1)
    val_loader = DataLoader(Subset(val_set, share), batch_size=1024, num_workers=args.workers, pin_memory=pin)

    # what the steps call: under torchrun DDP averages the processes' gradients in backward
    trained = (DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
               if world > 1 else model)
    optimizer = $optimizer
    amp = device.type == "cuda" and TRAINING["amp"]
    amp_dtype = torch.bfloat16 if amp and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=amp and amp_dtype == torch.float16)
    emit({"event": "start", "device": str(device), "epochs": args.epochs, "steps_per_epoch": len(train_loader),
          "train_size": len(train_set), "val_size": len(val_set), "classes": classes, "epoch": 0,
          "global_step": 0, "processes": world})
    began, step, best = time.perf_counter(), 0, math.inf
    os.makedirs(args.out, exist_ok=True)
    for epoch in range(1, args.epochs + 1):
        if world > 1:
            sampler.set_epoch(epoch)
        trained.train()
        sums = torch.zeros(3, device=device)  # loss × samples, right answers, samples
        epoch_began = time.perf_counter()
        for x, y in train_loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
$augment_call            target = $target
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
                out = trained($inputs)
            loss = loss_function(out, target)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            step += 1
            sums += tally(loss.detach(), out, y)
        train_time = time.perf_counter() - epoch_began
        val_sums = evaluate(model, val_loader, device, amp, amp_dtype)
        if world > 1:
            dist.all_reduce(sums)
            dist.all_reduce(val_sums)
        train_loss, val_loss = (sums[0] / sums[2]).item(), (val_sums[0] / val_sums[2]).item()
        if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
            emit({"event": "done", "status": "failed", "message": f"the loss became {train_loss} in epoch {epoch}: "
                  f"try a lower learning rate (now {args.lr:g})", "run_dir": args.out, "epoch": epoch - 1,
                  "global_step": step, "best_val_loss": None if math.isinf(best) else best})
            return 1
        record = {"event": "epoch", "epoch": epoch, "global_step": step, "train_loss": train_loss}
$accuracy        record.update({"val_loss": val_loss, "samples_per_s": sums[2].item() / train_time,
                       "time_s": time.perf_counter() - began})
        if RANK == 0:
            save(model, os.path.join(args.out, "last.safetensors"))
            if val_loss < best:
                save(model, os.path.join(args.out, "best.safetensors"))
        best = min(best, val_loss)
        emit(record)
    epochs = f"{args.epochs} epoch{'' if args.epochs == 1 else 's'}"
    emit({"event": "done", "status": "finished", "message": f"finished {epochs}", "run_dir": args.out,
          "epoch": args.epochs, "global_step": step, "best_val_loss": best})
    if world > 1:
        dist.barrier()  # every process is done with the group before any leaves it
        dist.destroy_process_group()
    return 0


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, device: torch.device, amp: bool, amp_dtype: torch.dtype) -> torch.Tensor:
    """This process's share of the validation set: loss × samples, right answers, samples."""
    model.eval()
    sums = torch.zeros(3, device=device)
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        target = $val_target
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
            out = model($val_inputs)
        loss = loss_function(out, target)
        sums += tally(loss, out, y)
    return sums

''')

MAIN = '''

if __name__ == "__main__":
    raise SystemExit(main())
'''

OPTIMIZERS = {
    "sgd": 'torch.optim.SGD(model.parameters(), lr=args.lr, momentum=TRAINING["momentum"], '
           'weight_decay=TRAINING["weight_decay"])',
    "adam": 'torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=TRAINING["weight_decay"])',
    "adamw": 'torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=TRAINING["weight_decay"])',
}


def _functions(module: object, names: list[str]) -> str:
    """Functions of a workbench module copied verbatim (they import only torch and math)."""
    return "\n\n\n".join(inspect.getsource(getattr(module, name)).rstrip() for name in names)


def _check_input(input_shape: list[int], data: dict) -> None:
    """The dataset's samples fit the project's input (InputMismatch, as training says, when not)."""
    if data["dataset"] == "folder":  # its images are resized to the input
        if len(input_shape) != 3 or input_shape[0] not in (1, 3):
            raise DataError(f"folder dataset: the project's input must be [1, H, W] or [3, H, W] images, "
                            f"got {input_shape}")
        return
    shape = list(SAMPLES[data["dataset"]][0])
    if data["resize"]:
        shape[1:] = data["resize"]
    blank = torch.zeros(1, *shape)
    fit_to_input(Dataset(data["dataset"], [], blank, torch.zeros(1), blank, torch.zeros(1)), input_shape)


def _dict_source(values: dict, width: int = 100) -> str:
    """A dict literal, its items wrapped four spaces in."""
    lines, line = [], ""
    for key, value in values.items():
        item = f"{_literal(key)}: {_literal(value)},"
        if line and len(line) + 1 + len(item) > width:
            lines.append(line)
            line = ""
        line = f"{line} {item}" if line else f"    {item}"
    return "{\n" + "\n".join(lines + [line]) + "\n}"


def _literal(value: object) -> str:
    """Python source of a JSON-like value, strings in double quotes like the rest of the script."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def _digits_blob() -> list[str]:
    """The digits (uint8 pixels 0..16, then the labels) zlib-compressed and base64-encoded, in lines."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    raw = bunch.images.astype("uint8").tobytes() + bunch.target.astype("uint8").tobytes()
    text = base64.b64encode(zlib.compress(raw, 9)).decode("ascii")
    return [text[i:i + 96] for i in range(0, len(text), 96)]


def to_training_script(project: ProjectSpec, file_name: str = "train.py") -> str:
    """The source of a standalone training script for the project (see the module docstring)."""
    doc = load_spec(project)
    summary = checked_summary(doc)
    config, data = validate_sections(doc)
    dataset = data["dataset"]
    _check_input(doc["input"], data)
    task = make_task(config, build_model(doc), doc["input"], summary["output"], SAMPLES.get(dataset, ([], 1))[1])
    name = doc.get("name") or Path(file_name).stem
    classify = task.classifies
    denoise = task.corruption is not None
    needs = ["torch", "safetensors"] + (["torchvision"] if dataset in VISION or dataset == "folder" else []) \
        + (["pillow"] if dataset == "folder" else [])
    if dataset == "digits":
        data_text = "digits, scikit-learn's 1,797 8×8 handwritten digits (embedded at the end of this file)"
    elif dataset == "shapes":
        data_text = "shapes, generated 32×32×3 images of 10 shape classes (the generator is below)"
    elif dataset == "folder":
        data_text = "an image folder with one sub-folder per class (--data-root)"
    else:
        data_text = f"{dataset} through torchvision, from --data-root"
    if dataset in ("digits", "shapes", "folder"):
        data_text += f"; {data['val_fraction']:.0%} validates (split seed {data['split_seed']})"
    if data["augment"]:
        data_text += f"; augmented: {', '.join(data['augment'])}"
    training_text = (f"{task.name} ({task.loss_kind} loss), {config.optimizer}, lr {config.lr:g}, batch {config.batch_size}, "
                     f"{config.epochs} epochs, seed {config.seed}")
    if config.schedule != "plain":
        training_text += f" (the project's {config.schedule} schedule is not in this script: it trains the whole network)"
    stdlib = ["argparse", "json", "math", "os", "time"] + (["base64", "zlib"] if dataset == "digits" else [])
    extra_imports = "from torchvision import datasets, transforms\n" if dataset in VISION or dataset == "folder" else ""
    header = HEADER.substitute(
        name=name, version=__version__, file=file_name, input_text=fmt_shape(tuple(doc["input"])),
        output_text=fmt_shape(tuple(summary["output"] or ())), params=f"{summary['total_params']:,}", data_text=data_text,
        training_text=training_text, needs=", ".join(needs),
        stdlib_imports="\n".join(f"import {name}" for name in sorted(stdlib)), extra_imports=extra_imports,
        training=_dict_source(config.to_dict()), data=_dict_source(data), input=repr(list(doc["input"])),
        input_kind="C×H×W" if len(doc["input"]) == 3 else "a vector (the images flattened)")

    parts = [header]
    layers = {layer["type"] for layer in doc["layers"]} | ({"Corruption"} if denoise else set())
    parts += ["\n".join(custom_layer_source(layers)), "\n".join(network_class_source(doc, summary))]
    if data["augment"]:
        parts.append(f"MAX_SHIFT = {augment.MAX_SHIFT!r}  # of the image size\n\n\n"
                     + _functions(augment, ["augment_batch"]))
    if task.corruption is not None:
        parts.append(f"# denoising: the network is given noisy inputs and learns to give back the clean ones\n"
                     f"CORRUPT = Corruption({_literal(task.corruption.kind)}, {task.corruption.level!r}).train()\n")
    if dataset in ("digits", "shapes", "folder"):
        parts.append(SPLIT)
    if dataset in ("digits", "shapes"):
        parts.append(TENSOR_SETS)
    if dataset == "digits":
        parts.append(DIGITS)
    elif dataset == "shapes":
        from workbench.data import SHAPES_COUNT

        parts.append(f"CLASSES = {shapes.CLASSES!r}\nSIZE = {shapes.SIZE}\n\n\n"
                     + _functions(shapes, ["_box", "_stripes", "_distance", "generate"]))
        count = data["count"] or SHAPES_COUNT
        parts.append(SHAPES.substitute(count=count, count_text=f"{count:,}"))
    elif dataset == "folder":
        parts.append(FOLDER_LOADER)
    else:
        parts.append(VISION_LOADER.substitute(cls=VISION[dataset][0]))
    inputs = "CORRUPT(x)" if denoise else "x"
    parts.append(LOOP.substitute(
        loss=LOSSES[task.loss_kind], name=name, workers="0" if dataset in ("digits", "shapes") else "min(4, os.cpu_count() or 1)",
        optimizer=OPTIMIZERS[config.optimizer],
        augment_call=f"            x = augment_batch(x, {_literal(data['augment'])})\n" if data["augment"] else "",
        target="y" if classify else "x", inputs=inputs, val_target="y" if classify else "x",
        val_inputs=inputs,
        correct="(out.argmax(1) == y).sum().float()" if classify else "torch.zeros((), device=y.device)  # nothing to classify",
        accuracy=('        record["train_accuracy"] = (sums[1] / sums[2]).item()\n'
                  '        record["val_accuracy"] = (val_sums[1] / val_sums[2]).item()\n') if classify else ""))
    if dataset == "digits":
        blob = _digits_blob()
        parts.append("# scikit-learn's digits: 1,797 × 64 pixels (0..16), then the 1,797 labels; zlib, base64\n"
                     "DIGITS = [\n" + "\n".join(f'    "{line}",' for line in blob) + "\n]\n")
    parts.append(MAIN)
    return "\n\n\n".join(part.strip("\n") for part in parts if part.strip()) + "\n"


def export_script(project: ProjectSpec, path: str | os.PathLike) -> None:
    """Write the training script atomically."""
    write_atomic(path, to_training_script(project, Path(path).name))
