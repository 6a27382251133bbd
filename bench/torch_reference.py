"""PyTorch side of `nodal bench torch`: the same U-Net, loss, optimizer and step as bench/torch.ts.

Protocol on stdin/stdout, one line each, so that nodal can interleave its steps with these (the fairest
comparison on a machine whose load changes): first line a JSON object {"config": UNetConfig, "patch": [D, H, W],
"threads": N}, answered with {"ready": true, "torch": version, "threads": N, "parameters": count}; then "step" (one training step)
or "infer" (one no-grad forward), each answered with the elapsed milliseconds; "quit" ends.
Run with Debian's python3-torch (/usr/bin/python3), i.e. on the same libtorch as nodal's addon.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_norm_act(dims, cin, cout, kernel, stride, slope):
    conv = nn.Conv3d if dims == 3 else nn.Conv2d
    norm = nn.InstanceNorm3d if dims == 3 else nn.InstanceNorm2d
    return nn.Sequential(
        conv(cin, cout, kernel, stride=stride, padding=[k // 2 for k in kernel]),
        norm(cout, affine=True, eps=1e-5),
        nn.LeakyReLU(slope),
    )


def stacked(dims, cin, cout, count, kernel, stride, slope):
    ones = [1] * dims
    return nn.Sequential(*[
        conv_norm_act(dims, cin if i == 0 else cout, cout, kernel, stride if i == 0 else ones, slope)
        for i in range(count)
    ])


class UNet(nn.Module):
    """Mirror of src/models/unet.ts (plain encoder, no attention)."""

    def __init__(self, c):
        super().__init__()
        dims, feats, slope = c["dims"], c["features"], c.get("negativeSlope") or 0.01
        blocks = c.get("encoderBlocks") or [2] * len(feats)
        tconv = nn.ConvTranspose3d if dims == 3 else nn.ConvTranspose2d
        conv = nn.Conv3d if dims == 3 else nn.Conv2d
        self.encoder = nn.ModuleList([
            stacked(dims, c["inChannels"] if s == 0 else feats[s - 1], f, blocks[s], c["kernelSizes"][s], c["strides"][s], slope)
            for s, f in enumerate(feats)
        ])
        self.upsample = nn.ModuleList([
            tconv(feats[s + 1], feats[s], c["strides"][s + 1], stride=c["strides"][s + 1], bias=False) for s in range(len(feats) - 1)
        ])
        self.decoder = nn.ModuleList([
            stacked(dims, 2 * feats[s], feats[s], c.get("decoderConvs") or 2, c["kernelSizes"][s], [1] * dims, slope)
            for s in range(len(feats) - 1)
        ])
        self.head = nn.ModuleList([conv(feats[s], c["numClasses"], 1) for s in range(len(feats) - 1)])
        self.deep = c.get("deepSupervision", True)

    def forward(self, x, all_heads=True):
        skips = []
        h = x
        for stage in self.encoder:
            h = stage(h)
            skips.append(h)
        outputs = []
        for s in range(len(self.decoder) - 1, -1, -1):
            up = self.upsample[s](h)
            h = self.decoder[s](torch.cat([up, skips[s]], 1))
            if (all_heads and self.deep) or s == 0:
                outputs.insert(0, self.head[s](h))
        return outputs


def soft_dice_loss(logits, target, ignore=255, smooth=1e-5):
    """Same formula as src/train/losses/overlap.ts softDiceLoss (per sample, background excluded)."""
    mask = (target != ignore).unsqueeze(1).to(logits.dtype)
    index = target.unsqueeze(1) * (target != ignore).unsqueeze(1).long()
    p = logits.softmax(1) * mask
    g = F.one_hot(index.squeeze(1), logits.shape[1]).movedim(-1, 1).to(logits.dtype) * mask
    axes = list(range(2, logits.dim()))
    tp = (p * g).sum(axes)
    fp = p.sum(axes) - tp
    fn = g.sum(axes) - tp
    dice = (2 * tp + smooth) / (2 * tp + fp + fn + smooth)
    return 1 - dice[:, 1:].mean()


def dice_ce(logits, target):
    return F.cross_entropy(logits, target, ignore_index=255) + soft_dice_loss(logits, target)


def reply(value):
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def main():
    spec = json.loads(sys.stdin.readline())
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    model = UNet(spec["config"])
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.99, nesterov=True, weight_decay=3e-5)
    patch = spec["patch"]
    x = torch.randn([1, spec["config"]["inChannels"], *patch])
    target = torch.randint(0, spec["config"]["numClasses"], [1, *patch])
    with torch.no_grad():
        sizes = [o.shape[2:] for o in model(x)]
    targets = [target if list(s) == patch else F.interpolate(target.unsqueeze(1).float(), size=list(s), mode="nearest").squeeze(1).long() for s in sizes]
    weights = [1 / 2 ** k for k in range(len(sizes))]
    weights = [w / sum(weights) for w in weights]

    def step():
        model.train()
        opt.zero_grad(set_to_none=True)
        outputs = model(x)
        loss = sum(w * dice_ce(o, t) for w, o, t in zip(weights, outputs, targets))
        loss.backward()
        opt.step()

    def infer():
        model.eval()
        with torch.no_grad():
            model(x, all_heads=False)

    reply({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
           "parameters": sum(p.numel() for p in model.parameters())})
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        t0 = time.perf_counter()
        {"step": step, "infer": infer}[command]()
        reply((time.perf_counter() - t0) * 1000)


if __name__ == "__main__":
    main()
