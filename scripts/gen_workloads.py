#!/usr/bin/env python3
"""Generate the shipped plumsim workload JSON files (see workloads/README.md).

Usage (from anywhere):

    python3 scripts/gen_workloads.py            # write the files
    python3 scripts/gen_workloads.py --check    # exit 1 if a committed file differs
    python3 scripts/gen_workloads.py --summary  # also print per-layer shapes / MACs

Standard library only. The output is deterministic: keys sorted, 2-space indent, one
trailing newline. The script infers every tensor shape itself with the same rules as
`sim/workload.rs` (PyTorch output-size rule, GEMM lowering) and asserts that the layers
chain, that residual adds see equal shapes, and that each file-backed layer's weight
shape matches the shape listed in /work/shared/weights/MANIFEST.md (hard-coded below
where it matters: the totals are asserted against the MANIFEST parameter counts).

Outputs:
  workloads/resnet18.json           ImageNet ResNet-18 (torchvision layout), synthetic weights
  workloads/mobilenet_v2.json       ImageNet MobileNetV2 1.0 (torchvision layout), synthetic
  workloads/resnet20_cifar10.json   CIFAR-10 ResNet-20 (akamaster), weights from npz
  workloads/resnet56_cifar10.json   CIFAR-10 ResNet-56 (akamaster), weights from npz
  workloads/resnet8_cifar10.json    MLPerf Tiny ResNet-8, weights from npz
  tests/fixtures/workloads/*.json   small valid and malformed test workloads
"""

import argparse
import json
import os
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
WEIGHTS_DIR = "../../shared/weights"  # relative to workloads/ (repo at X/main, weights at X/shared)

INT8 = {"scheme": "int", "weight_bits": 8, "activation_bits": 8}

# Input transforms (`--inputs` images): pixels / 255, then per-channel mean and std.
IMAGENET_MEAN_STD = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
CIFAR_TRANSFORM = {"scale": 1 / 255, **IMAGENET_MEAN_STD}  # akamaster's training transform
IMAGENET_TRANSFORM = {"scale": 1 / 255, **IMAGENET_MEAN_STD, "resize": 256, "crop": 224}


def out_dim(size, kernel, stride, pad, dilation=1, ceil=False):
    """PyTorch output size along one axis (same rule as sim/workload.rs `out_dim`)."""
    span = dilation * (kernel - 1) + 1
    padded = size + 2 * pad
    assert padded >= span, "kernel larger than padded input"
    num = padded - span
    return (-(-num // stride) if ceil else num // stride) + 1


class Net:
    """Builds a workload's layer list while tracking shapes, weights and MACs."""

    def __init__(self, name, inputs, defaults, batch=1, transform=None):
        self.name = name
        self.transform = transform
        self.batch = batch
        self.inputs = dict(inputs)
        self.defaults = defaults
        self.layers = []
        self.shapes = dict(inputs)  # tensor name -> per-sample shape
        self.stats = []  # (layer name, op, out shape, weights, macs)
        self.weight_shapes = {}  # layer name -> PyTorch-layout weight shape

    def _add(self, layer, out_shape, weights=0, macs=0):
        for t in layer["inputs"]:
            assert t in self.shapes, f"{layer['name']}: input tensor {t} not produced yet"
        assert layer["output"] not in self.shapes, f"{layer['output']} produced twice"
        assert all(d >= 1 for d in out_shape), f"{layer['name']}: bad shape {out_shape}"
        self.layers.append(layer)
        self.shapes[layer["output"]] = list(out_shape)
        self.stats.append((layer["name"], layer["op"], list(out_shape), weights, macs))
        return layer["output"]

    def conv(self, name, x, out, kernel, stride=1, padding=0, groups=1, tensor=None, bias=None):
        c, h, w = self.shapes[x]
        assert c % groups == 0 and out % groups == 0, f"{name}: groups {groups}"
        oh = out_dim(h, kernel, stride, padding)
        ow = out_dim(w, kernel, stride, padding)
        layer = {"name": name, "op": "conv2d", "inputs": [x], "output": name,
                 "out_channels": out, "kernel": kernel}
        if stride != 1:
            layer["stride"] = stride
        if padding != 0:
            layer["padding"] = padding
        if groups != 1:
            layer["groups"] = groups
        if tensor is not None:
            layer["weights"] = {"tensor": tensor}
        if bias is not None:
            layer["params"] = {"bias": bias}
        weights = out * (c // groups) * kernel * kernel
        self.weight_shapes[name] = [out, c // groups, kernel, kernel]
        # GEMM lowering: M = batch*oh*ow, K = k*k*c/groups, N = out/groups, x groups.
        macs = (self.batch * oh * ow) * (kernel * kernel * c // groups) * (out // groups) * groups
        return self._add(layer, [out, oh, ow], weights, macs)

    def linear(self, name, x, out, tensor=None, bias=None):
        k = 1
        for d in self.shapes[x]:
            k *= d
        layer = {"name": name, "op": "linear", "inputs": [x], "output": name, "out_features": out}
        self.weight_shapes[name] = [out, k]
        if tensor is not None:
            layer["weights"] = {"tensor": tensor}
        if bias is not None:
            layer["params"] = {"bias": bias}
        return self._add(layer, [out, 1, 1], out * k, self.batch * k * out)

    def matmul(self, name, x, n):
        m, k = self.shapes[x]
        layer = {"name": name, "op": "matmul", "inputs": [x], "output": name, "out_features": n}
        return self._add(layer, [m, n], k * n, self.batch * m * k * n)

    def pool(self, name, x, op, kernel=None, stride=None, padding=0, global_=False):
        c, h, w = self.shapes[x]
        layer = {"name": name, "op": op, "inputs": [x], "output": name}
        if global_:
            layer["global"] = True
            return self._add(layer, [c, 1, 1])
        stride = kernel if stride is None else stride
        layer["kernel"] = kernel
        layer["stride"] = stride
        if padding:
            layer["padding"] = padding
        return self._add(layer, [c, out_dim(h, kernel, stride, padding), out_dim(w, kernel, stride, padding)])

    def eltwise(self, name, x, op):
        return self._add({"name": name, "op": op, "inputs": [x], "output": name}, self.shapes[x])

    def bn(self, name, x, params=None):
        out = self.eltwise(name, x, "batch_norm")
        if params is not None:
            self.layers[-1]["params"] = params
        return out

    def relu(self, name, x):
        return self.eltwise(name, x, "relu")

    def add(self, name, a, b):
        assert self.shapes[a] == self.shapes[b], f"{name}: {self.shapes[a]} vs {self.shapes[b]}"
        return self._add({"name": name, "op": "add", "inputs": [a, b], "output": name}, self.shapes[a])

    # -- totals / output

    def total_weights(self):
        return sum(s[3] for s in self.stats)

    def total_macs(self):
        return sum(s[4] for s in self.stats)

    def weight_layers(self):
        return sum(1 for s in self.stats if s[3])

    def doc(self):
        d = {"name": self.name, "batch": self.batch, "inputs": self.inputs, "layers": self.layers}
        if self.defaults:
            d["defaults"] = self.defaults
        if self.transform:
            d["input_transform"] = self.transform
        return d


# ---------------------------------------------------------------- networks

def plum_setting(n, name, keep):
    """PLUM's setting (Kuhar et al.): the layers in `keep` stay at int8 whatever scheme a
    design imposes (their own `quant` names the scheme); every other weight layer takes the
    design's scheme. Returns a renamed copy."""
    import copy
    m = copy.deepcopy(n)
    m.name = name
    for layer in m.layers:
        if layer["name"] in keep:
            layer["quant"] = dict(INT8)
    missing = set(keep) - {l["name"] for l in m.layers}
    assert not missing, missing
    return m


def resnet18():
    """torchvision resnet18, ImageNet 224x224, synthetic Laplace weights."""
    n = Net("resnet18", {"input": [3, 224, 224]},
            {"quant": dict(INT8), "weights": {"synthetic": {"distribution": "laplace", "seed": 1}}},
            transform=IMAGENET_TRANSFORM)
    x = n.conv("conv1", "input", 64, 7, stride=2, padding=3)
    x = n.bn("bn1", x)
    x = n.relu("relu", x)
    x = n.pool("maxpool", x, "max_pool", kernel=3, stride=2, padding=1)
    assert n.shapes[x] == [64, 56, 56]
    cin = 64
    for stage, (planes, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)], start=1):
        for b in range(2):
            p = f"layer{stage}.{b}"
            s = stride if b == 0 else 1
            y = n.conv(f"{p}.conv1", x, planes, 3, stride=s, padding=1)
            y = n.bn(f"{p}.bn1", y)
            y = n.relu(f"{p}.relu1", y)
            y = n.conv(f"{p}.conv2", y, planes, 3, padding=1)
            y = n.bn(f"{p}.bn2", y)
            sc = x
            if s != 1 or cin != planes:
                sc = n.conv(f"{p}.downsample.0", x, planes, 1, stride=s)
                sc = n.bn(f"{p}.downsample.1", sc)
            y = n.add(f"{p}.add", y, sc)
            x = n.relu(f"{p}.relu2", y)
            cin = planes
        assert n.shapes[x][1] == {1: 56, 2: 28, 3: 14, 4: 7}[stage]
    x = n.pool("avgpool", x, "avg_pool", global_=True)
    n.linear("fc", x, 1000)
    # conv + fc weights, no biases, no BN: torchvision's 11,689,512 parameters minus
    # 9,600 BN affine parameters and 1,000 fc biases.
    assert n.total_weights() == 11_678_912, n.total_weights()
    return n


def mobilenet_v2():
    """torchvision mobilenet_v2 (width 1.0), ImageNet 224x224, synthetic weights.

    Layer names follow the tensor keys of mobilenetv2_imagenet_deepsort_fp32.npz (the
    Sequential layout: features.N.conv.{0 conv, 1 bn, 2 relu6, 3 conv, ...}); ReLU6 is
    modelled as relu. The classifier is torchvision's classifier.1 (classifier.0 is dropout).
    """
    n = Net("mobilenet_v2", {"input": [3, 224, 224]},
            {"quant": dict(INT8), "weights": {"synthetic": {"distribution": "laplace", "seed": 1}}},
            transform=IMAGENET_TRANSFORM)
    x = n.conv("features.0.0", "input", 32, 3, stride=2, padding=1)
    x = n.bn("features.0.1", x)
    x = n.relu("features.0.2", x)
    cin = 32
    idx = 1
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    for t, c, reps, s in settings:
        for i in range(reps):
            stride = s if i == 0 else 1
            p = f"features.{idx}.conv"
            hidden = cin * t
            y = x
            j = 0
            if t != 1:
                y = n.conv(f"{p}.{j}", y, hidden, 1)
                y = n.bn(f"{p}.{j + 1}", y)
                y = n.relu(f"{p}.{j + 2}", y)
                j += 3
            y = n.conv(f"{p}.{j}", y, hidden, 3, stride=stride, padding=1, groups=hidden)
            y = n.bn(f"{p}.{j + 1}", y)
            y = n.relu(f"{p}.{j + 2}", y)
            y = n.conv(f"{p}.{j + 3}", y, c, 1)
            y = n.bn(f"{p}.{j + 4}", y)
            if stride == 1 and cin == c:
                y = n.add(f"features.{idx}.add", x, y)
            x = y
            cin = c
            idx += 1
    assert idx == 18
    x = n.conv("features.18.0", x, 1280, 1)
    x = n.bn("features.18.1", x)
    x = n.relu("features.18.2", x)
    assert n.shapes[x] == [1280, 7, 7]
    x = n.pool("avgpool", x, "avg_pool", global_=True)
    features_weights = n.total_weights()
    assert features_weights == 2_189_760, features_weights  # MANIFEST: 52 tensors, 2,189,760
    n.linear("classifier.1", x, 1000)
    return n


def resnet_cifar(depth):
    """akamaster/pytorch_resnet_cifar10 ResNet-(6n+2), option-A shortcuts, real weights.

    Option A (LambdaLayer): when a block changes shape, the shortcut is x[:, :, ::2, ::2]
    zero-padded with planes/4 channels on each side; it has no parameters. It is written as a
    kernel-1 stride-2 max_pool (the subsampling), then `pad_channels` to the block's width,
    then the residual add.
    """
    assert (depth - 2) % 6 == 0
    blocks = (depth - 2) // 6
    npz = f"resnet{depth}_cifar10_akamaster_fp32.npz"
    n = Net(f"resnet{depth}_cifar10", {"input": [3, 32, 32]},
            {"quant": dict(INT8), "weights": {"file": f"{WEIGHTS_DIR}/{npz}"}},
            transform=CIFAR_TRANSFORM)

    def bn(name, y):
        return n.bn(name, y, {"prefix": f"aux/{name}"})

    x = n.conv("conv1", "input", 16, 3, padding=1, tensor="conv1.weight")
    x = bn("bn1", x)
    x = n.relu("relu", x)
    cin = 16
    for stage, (planes, stride) in enumerate([(16, 1), (32, 2), (64, 2)], start=1):
        for b in range(blocks):
            p = f"layer{stage}.{b}"
            s = stride if b == 0 else 1
            y = n.conv(f"{p}.conv1", x, planes, 3, stride=s, padding=1, tensor=f"{p}.conv1.weight")
            y = bn(f"{p}.bn1", y)
            y = n.relu(f"{p}.relu1", y)
            y = n.conv(f"{p}.conv2", y, planes, 3, padding=1, tensor=f"{p}.conv2.weight")
            y = bn(f"{p}.bn2", y)
            if s == 1 and cin == planes:
                y = n.add(f"{p}.add", y, x)
            else:
                sc = n.pool(f"{p}.shortcut.subsample", x, "max_pool", kernel=1, stride=s)
                c, h, w = n.shapes[sc]
                layer = {"name": f"{p}.shortcut.pad", "op": "pad_channels", "inputs": [sc],
                         "output": f"{p}.shortcut.pad", "out_channels": planes}
                sc = n._add(layer, [planes, h, w])
                y = n.add(f"{p}.add", y, sc)
            x = n.relu(f"{p}.relu2", y)
            cin = planes
    assert n.shapes[x] == [64, 8, 8]
    x = n.pool("avgpool", x, "avg_pool", global_=True)
    n.linear("linear", x, 10, tensor="linear.weight", bias="aux/linear.bias")
    assert n.total_weights() == {20: 268_336, 56: 848_944}[depth], n.total_weights()
    assert n.weight_layers() == depth
    return n


def resnet8():
    """MLPerf Tiny image-classification ResNet-8 (resnet_v1_eembc), real weights.

    Keras layer order: conv2d stem; stack 1: conv2d_1, conv2d_2 (identity shortcut);
    stack 2: conv2d_3 (3x3/2), conv2d_4, shortcut conv2d_5 (1x1/2, no BN);
    stack 3: conv2d_6 (3x3/2), conv2d_7, shortcut conv2d_8 (1x1/2, no BN);
    8x8 average pool, dense. Keras padding='same' is written as symmetric padding 1 for
    3x3 convs (same output size; TF pads stride-2 convs 0 before / 1 after) and 0 for 1x1.
    """
    npz = "resnet8_cifar10_mlperftiny_fp32.npz"
    n = Net("resnet8_cifar10", {"input": [3, 32, 32]},
            {"quant": dict(INT8), "weights": {"file": f"{WEIGHTS_DIR}/{npz}"}},
            transform={"scale": 1.0})  # raw 0..255 RGB (MANIFEST)

    def bn(name, y):
        return n.bn(name, y, {"prefix": f"aux/{name}", "names": "keras", "eps": 1e-3})

    def conv(name, y, *a, **k):
        return n.conv(name, y, *a, tensor=name, bias=f"aux/{name}.bias", **k)

    x = conv("conv2d", "input", 16, 3, padding=1)
    x = bn("batch_normalization", x)
    x = n.relu("activation", x)
    bn_i, act_i, add_i = 1, 1, 0
    conv_i = 1
    for planes, stride in [(16, 1), (32, 2), (64, 2)]:
        y = conv(f"conv2d_{conv_i}", x, planes, 3, stride=stride, padding=1)
        y = bn(f"batch_normalization_{bn_i}", y)
        y = n.relu(f"activation_{act_i}", y)
        y = conv(f"conv2d_{conv_i + 1}", y, planes, 3, padding=1)
        y = bn(f"batch_normalization_{bn_i + 1}", y)
        conv_i += 2
        bn_i += 2
        act_i += 1
        if stride != 1:
            x = conv(f"conv2d_{conv_i}", x, planes, 1, stride=stride)
            conv_i += 1
        y = n.add("add" if add_i == 0 else f"add_{add_i}", x, y)
        add_i += 1
        x = n.relu(f"activation_{act_i}", y)
        act_i += 1
    assert conv_i == 9 and bn_i == 7
    assert n.shapes[x] == [64, 8, 8]
    x = n.pool("average_pooling2d", x, "avg_pool", kernel=8, stride=8)
    n.linear("dense", x, 10, tensor="dense", bias="aux/dense.bias")
    assert n.total_weights() == 77_360, n.total_weights()  # MANIFEST: 10 tensors, 77,360
    return n


# ---------------------------------------------------------------- test fixtures

def tiny_conv():
    n = Net("tiny_conv", {"input": [4, 8, 8]}, {"weights": {"synthetic": {"seed": 1}}})
    x = n.conv("conv", "input", 8, 3, padding=1)
    x = n.bn("bn", x)
    n.relu("relu", x)
    return n


def tiny_gemm():
    n = Net("tiny_gemm", {"a": [64, 32]}, {"weights": {"synthetic": {"seed": 1}}})
    n.matmul("gemm", "a", 16)
    return n


def tiny_resblock():
    n = Net("tiny_resblock", {"input": [8, 8, 8]}, {"weights": {"synthetic": {"seed": 1}}})
    y = n.conv("conv1", "input", 8, 3, padding=1)
    y = n.bn("bn1", y)
    y = n.relu("relu1", y)
    y = n.conv("conv2", y, 8, 3, padding=1)
    y = n.bn("bn2", y)
    y = n.add("add", y, "input")
    n.relu("relu2", y)
    return n


def depthwise():
    n = Net("depthwise", {"input": [8, 16, 16]}, {"weights": {"synthetic": {"seed": 1}}})
    x = n.conv("dw", "input", 8, 3, padding=1, groups=8)
    n.conv("pw", x, 16, 1)
    return n


def render(doc):
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def malformed_fixtures():
    """Hand-written broken workloads: file name -> exact text (see tests/fixtures/README.md)."""
    base = tiny_conv().doc()
    out = {}
    # bad_json.json: a missing comma between two fields of layers[0] on line 8.
    out["bad_json.json"] = (
        "{\n"
        '  "name": "bad_json",\n'
        '  "inputs": {"input": [4, 8, 8]},\n'
        '  "layers": [\n'
        "    {\n"
        '      "name": "conv",\n'
        '      "op": "conv2d",\n'
        '      "inputs": ["input"]\n'
        '      "output": "conv",\n'
        '      "out_channels": 8,\n'
        '      "kernel": 3\n'
        "    }\n"
        "  ]\n"
        "}\n"
    )
    # unknown_key.json: "stirde" (typo of "stride") in layers[0].
    doc = json.loads(json.dumps(base))
    doc["name"] = "unknown_key"
    doc["layers"][0]["stirde"] = 2
    out["unknown_key.json"] = render(doc)
    # shape_mismatch.json: add of [8,8,8] and [16,8,8].
    doc = {"name": "shape_mismatch", "inputs": {"input": [8, 8, 8]},
           "defaults": {"weights": {"synthetic": {"seed": 1}}},
           "layers": [
               {"name": "conv", "op": "conv2d", "inputs": ["input"], "output": "conv",
                "out_channels": 16, "kernel": 3, "padding": 1},
               {"name": "add", "op": "add", "inputs": ["input", "conv"], "output": "add"}]}
    out["shape_mismatch.json"] = render(doc)
    # cycle.json: relu_a consumes relu_b's output and relu_b consumes relu_a's.
    doc = {"name": "cycle", "inputs": {"input": [4, 8, 8]},
           "layers": [
               {"name": "relu_a", "op": "relu", "inputs": ["b"], "output": "a"},
               {"name": "relu_b", "op": "relu", "inputs": ["a"], "output": "b"}]}
    out["cycle.json"] = render(doc)
    # dangling.json: bn reads tensor `missing` that nobody produces.
    doc = json.loads(json.dumps(base))
    doc["name"] = "dangling"
    doc["layers"][1]["inputs"] = ["missing"]
    out["dangling.json"] = render(doc)
    # zero_channels.json: conv with out_channels 0.
    doc = json.loads(json.dumps(base))
    doc["name"] = "zero_channels"
    doc["layers"][0]["out_channels"] = 0
    out["zero_channels.json"] = render(doc)
    return out


ARCH_BASE = """\
name = "{name}"
clock_mhz = 1000

[array]
rows = {rows}
cols = 16
dataflow = "{dataflow}"

[pe]
kind = "dense"
weight_bits = 8
activation_bits = 8
accumulator_bits = 32

[buffers.input]
capacity_bytes = 65536

[buffers.weight]
capacity_bytes = {weight_bytes}

[buffers.output]
capacity_bytes = 65536

[dram]
type = "lpddr4"
bandwidth_bytes_per_cycle = 16
"""


def arch_fixtures():
    """Malformed architecture TOML files (see tests/fixtures/README.md)."""
    def fill(name, rows=16, dataflow="ws", weight_bytes=65536):
        return ARCH_BASE.format(name=name, rows=rows, dataflow=dataflow, weight_bytes=weight_bytes)

    out = {}
    # bad_toml.toml: unclosed table header on line 4.
    out["bad_toml.toml"] = fill("bad_toml").replace("[array]\n", "[array\n")
    # unknown_key.toml: `colums` (typo of `cols`) in [array], line 6.
    out["unknown_key.toml"] = fill("unknown_key").replace("cols = 16", "colums = 16")
    out["zero_rows.toml"] = fill("zero_rows", rows=0)
    out["tiny_buffer.toml"] = fill("tiny_buffer", weight_bytes=64)
    out["bad_dataflow.toml"] = fill("bad_dataflow", dataflow="xs")
    return out


# ---------------------------------------------------------------- weight-file check

def npz_shapes(path):
    """{key: shape} of an .npz, read from the .npy headers with the standard library."""
    import ast
    import zipfile
    shapes = {}
    with zipfile.ZipFile(path) as z:
        for member in z.namelist():
            with z.open(member) as f:
                magic = f.read(8)
                assert magic[:6] == b"\x93NUMPY", member
                hlen = int.from_bytes(f.read(2 if magic[6] == 1 else 4), "little")
                header = ast.literal_eval(f.read(hlen).decode("latin1"))
            key = member[:-4] if member.endswith(".npy") else member
            shapes[key] = list(header["shape"])
    return shapes


def verify_weights(rel, net):
    """Check every file-backed layer's tensor exists with the layer's weight shape."""
    default_file = (net.defaults or {}).get("weights", {}).get("file")
    cache = {}
    checked = 0
    for layer in net.layers:
        w = layer.get("weights")
        if not w or "synthetic" in w:
            continue
        file = w.get("file", default_file)
        path = os.path.normpath(os.path.join(ROOT, os.path.dirname(rel), file))
        if path not in cache:
            cache[path] = npz_shapes(path)
        got = cache[path].get(w["tensor"])
        want = net.weight_shapes[layer["name"]]
        assert got == want, f"{rel}: {layer['name']}: tensor {w['tensor']} is {got}, layer needs {want}"
        checked += 1
    return checked


# ---------------------------------------------------------------- main

def summary_line(path, n):
    return (f"{path}: {len(n.layers)} layers, {n.weight_layers()} weight layers, "
            f"{n.total_weights():,} weights, {n.total_macs():,} MACs (batch {n.batch})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the files on disk; write nothing")
    ap.add_argument("--summary", action="store_true", help="print per-layer shapes, weights and MACs")
    ap.add_argument("--verify-weights", action="store_true",
                    help="check each file-backed layer against the .npz tensor shapes (needs ../shared/weights)")
    args = ap.parse_args()

    nets = {
        "workloads/resnet18.json": resnet18(),
        # Stem, 1x1 downsample shortcuts and classifier kept at 8 bit, as in PLUM.
        "workloads/resnet18_plum.json": plum_setting(
            resnet18(), "resnet18_plum",
            ["conv1", "layer2.0.downsample.0", "layer3.0.downsample.0", "layer4.0.downsample.0", "fc"]),
        "workloads/resnet20_cifar10_plum.json": plum_setting(
            resnet_cifar(20), "resnet20_cifar10_plum", ["conv1", "linear"]),
        "workloads/mobilenet_v2.json": mobilenet_v2(),
        "workloads/resnet20_cifar10.json": resnet_cifar(20),
        "workloads/resnet56_cifar10.json": resnet_cifar(56),
        "workloads/resnet8_cifar10.json": resnet8(),
        "tests/fixtures/workloads/tiny_conv.json": tiny_conv(),
        "tests/fixtures/workloads/tiny_gemm.json": tiny_gemm(),
        "tests/fixtures/workloads/tiny_resblock.json": tiny_resblock(),
        "tests/fixtures/workloads/depthwise.json": depthwise(),
    }
    files = {path: render(n.doc()) for path, n in nets.items()}
    for name, text in malformed_fixtures().items():
        files[f"tests/fixtures/workloads/{name}"] = text
    for name, text in arch_fixtures().items():
        files[f"tests/fixtures/arch/{name}"] = text

    stale = []
    for rel, text in sorted(files.items()):
        path = os.path.join(ROOT, rel)
        if args.check:
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        stale.append(rel)
            except FileNotFoundError:
                stale.append(rel)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)

    for rel, n in nets.items():
        print(summary_line(rel, n))
        if args.summary:
            for name, op, shape, w, macs in n.stats:
                print(f"  {name:32} {op:10} {str(shape):18} weights {w:>10,} MACs {macs:>13,}")
    if args.verify_weights:
        for rel, n in nets.items():
            checked = verify_weights(rel, n)
            if checked:
                print(f"{rel}: {checked} weight tensors match the .npz shapes")
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
