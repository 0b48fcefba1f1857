"""PyTorch twin of TrainBench: the same MLP and U-Net as org.diffusion4j.train.nn, timed the same way.

Run by org.diffusion4j.bench.TrainBench with Debian's /usr/bin/python3 (python3-torch); prints one
JSON object on stdout. Every layer, width, GroupNorm group count, attention and embedding mirrors the
Java classes Mlp, UNet, ResBlock, SelfAttention, GroupNorm and NoiseEmbedding; the loss is the EDM
objective in the effective-target form of Objective.perExampleLoss; the optimiser is torch.optim.AdamW
with the Java defaults (β 0.9/0.999, ε 1e-8, no weight decay).

Usage: torch_bench.py --threads N --warmup W --mlp-steps K --unet-steps K   (one JSON result)
       torch_bench.py --serve --threads N                                  (TrainBench's interleaved protocol)
"""

import argparse
import json
import math
import os
import re
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # reported, not raised: TrainBench then prints the DJL numbers alone
    print(json.dumps({"available": False, "reason": str(e)}))
    sys.exit(0)

SKIP_SCALE = math.sqrt(0.5)
SIGMA_DATA = 0.5


def default_groups(c):
    """min(32, C/4), lowered to a divisor of C (GroupNorm.defaultGroups)."""
    g = max(1, min(32, c // 4))
    while c % g:
        g -= 1
    return g


def dense(i, o, gain=1.0):
    layer = nn.Linear(i, o)
    nn.init.xavier_uniform_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def conv(i, o, k, stride=1, gain=1.0):
    layer = nn.Conv2d(i, o, k, stride=stride, padding=k // 2)
    nn.init.xavier_uniform_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def group_norm(c):
    return nn.GroupNorm(default_groups(c), c, eps=1e-5)


class Sinusoidal(nn.Module):
    """DDPM sinusoidal embedding [sin(c f_k), cos(c f_k)], f_k = 10000^(-k/(h-1)) (a buffer, not trained)."""

    def __init__(self, dim):
        super().__init__()
        half = dim // 2
        k = torch.arange(half, dtype=torch.float64)
        self.register_buffer("freqs", torch.exp(-math.log(10000) * k / (half - 1)).float())

    def forward(self, c):
        arg = c.float()[:, None] * self.freqs[None]
        return torch.cat([arg.sin(), arg.cos()], dim=1)


class Residual(nn.Module):
    """h + W_b SiLU(W_a h + U e) (Mlp.Residual, no LayerNorm)."""

    def __init__(self, w):
        super().__init__()
        self.a = dense(w, w)
        self.noise = dense(w, w)
        self.b = dense(w, w, 1e-5)

    def forward(self, h, e):
        return h + self.b(F.silu(self.a(h) + self.noise(e)))


class Mlp(nn.Module):
    """MlpConfig.toy(dim): hidden 256, 4 residual blocks, embedding 64, unconditional."""

    def __init__(self, dim=2, hidden=256, blocks=4, embed_dim=64):
        super().__init__()
        self.emb = Sinusoidal(embed_dim)
        self.embed1 = dense(embed_dim, hidden)
        self.embed2 = dense(hidden, hidden)
        self.inp = dense(dim, hidden)
        self.blocks = nn.ModuleList([Residual(hidden) for _ in range(blocks)])
        self.out = dense(hidden, dim)

    def forward(self, x, c_noise):
        n = x.shape[0]
        e = F.silu(self.embed1(self.emb(c_noise)))
        e = F.silu(self.embed2(e))
        h = self.inp(x.reshape(n, -1))
        for b in self.blocks:
            h = b(h, e)
        return self.out(F.silu(h)).reshape(x.shape)


class SelfAttention(nn.Module):
    """(x + W_proj softmax(qᵀk/√d) v)/√2 over spatial positions, q, k, v from a 1×1 conv of GroupNorm(x)."""

    def __init__(self, c, heads):
        super().__init__()
        self.heads = heads
        self.norm = group_norm(c)
        self.qkv = conv(c, 3 * c, 1, gain=math.sqrt(0.2))
        self.proj = conv(c, c, 1, gain=1e-5)

    def forward(self, x):
        n, c = x.shape[0], x.shape[1]
        d = c // self.heads
        t = self.qkv(self.norm(x)).reshape(n, 3, self.heads, d, -1)
        length = t.shape[4]
        q, k, v = (t[:, i].reshape(n * self.heads, d, length) for i in range(3))
        w = torch.softmax(torch.bmm(q.transpose(1, 2), k) * (1 / math.sqrt(d)), dim=2)
        a = torch.bmm(v, w.transpose(1, 2)).reshape(x.shape)
        return (x + self.proj(a)) * SKIP_SCALE


class ResBlock(nn.Module):
    """DDPM++ block: conv(SiLU(GN x)) + W e, conv(dropout(SiLU(GN h))), (h + skip x)/√2, optional attention."""

    def __init__(self, cin, cout, emb, dropout, heads):
        super().__init__()
        self.norm0 = group_norm(cin)
        self.conv0 = conv(cin, cout, 3)
        self.affine = dense(emb, cout)
        self.norm1 = group_norm(cout)
        self.conv1 = conv(cout, cout, 3, gain=1e-5)
        self.skip = conv(cin, cout, 1) if cin != cout else None
        self.attention = SelfAttention(cout, heads) if heads > 0 else None
        self.dropout = dropout

    def forward(self, x, e):
        h = self.conv0(F.silu(self.norm0(x)))
        h = h + self.affine(e)[:, :, None, None]
        h = F.silu(self.norm1(h))
        h = F.dropout(h, p=self.dropout, training=self.training)
        h = self.conv1(h)
        h = (h + (x if self.skip is None else self.skip(x))) * SKIP_SCALE
        return h if self.attention is None else self.attention(h)


class Down(nn.Module):
    """Strided 3×3 convolution (UNetConfig.Downsample.CONV)."""

    def __init__(self, c):
        super().__init__()
        self.conv = conv(c, c, 3, stride=2)

    def forward(self, x):
        return self.conv(x)


class Up(nn.Module):
    """Nearest-neighbour ×2, then 3×3 convolution."""

    def __init__(self, c):
        super().__init__()
        self.conv = conv(c, c, 3)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class UNet(nn.Module):
    """UNetConfig.mnist(): 1×28×28, base 32, multipliers (1, 2, 2), 2 blocks, attention at 7, dropout 0.1.

    classes K > 0 adds ClassEmbedding's table of K + 1 rows (row K the null label), added to the noise
    embedding before the embedding MLP."""

    def __init__(self, channels=1, resolution=28, base=32, mult=(1, 2, 2), blocks=2, attention=(7,),
                 dropout=0.1, heads=1, classes=0):
        super().__init__()
        emb = 4 * base
        self.classes = classes
        self.emb = Sinusoidal(base)
        if classes > 0:
            self.class_table = nn.Parameter(torch.empty(classes + 1, base))
            nn.init.xavier_uniform_(self.class_table)
        self.embed1 = dense(base, emb)
        self.embed2 = dense(emb, emb)
        self.inp = conv(channels, base, 3)
        self.down = nn.ModuleList()
        skips = [base]
        ch, res = base, resolution
        # Encoder.
        for level, m in enumerate(mult):
            out = base * m
            for _ in range(blocks):
                self.down.append(ResBlock(ch, out, emb, dropout, heads if res in attention else 0))
                ch = out
                skips.append(ch)
            if level < len(mult) - 1:
                self.down.append(Down(ch))
                skips.append(ch)
                res //= 2
        # Middle.
        self.middle = nn.ModuleList([ResBlock(ch, ch, emb, dropout, heads), ResBlock(ch, ch, emb, dropout, 0)])
        # Decoder.
        self.up = nn.ModuleList()
        for level in reversed(range(len(mult))):
            out = base * mult[level]
            for _ in range(blocks + 1):
                self.up.append(ResBlock(ch + skips.pop(), out, emb, dropout, heads if res in attention else 0))
                ch = out
            if level > 0:
                self.up.append(Up(ch))
                res *= 2
        self.out_norm = group_norm(ch)
        self.out = conv(ch, channels, 3, gain=1e-5)

    def forward(self, x, c_noise, labels=None):
        e = self.emb(c_noise)
        if self.classes > 0:
            if labels is None:  # no labels: every row the null label
                labels = torch.full((x.shape[0],), self.classes, dtype=torch.long)
            e = e + self.class_table[labels]
        e = F.silu(self.embed1(e))
        e = F.silu(self.embed2(e))
        h = self.inp(x)
        skips = [h]
        for b in self.down:
            h = b(h, e) if isinstance(b, ResBlock) else b(h)
            skips.append(h)
        for b in self.middle:
            h = b(h, e)
        for b in self.up:
            h = b(torch.cat([h, skips.pop()], dim=1), e) if isinstance(b, ResBlock) else b(h)
        return self.out(F.silu(self.out_norm(h)))


def edm_scalings(sigma):
    """c_skip, c_out, c_in, c_noise of Preconditioning.Edm(0.5) for a tensor of σ's."""
    r = sigma * sigma + SIGMA_DATA ** 2
    return SIGMA_DATA ** 2 / r, sigma * SIGMA_DATA / r.sqrt(), 1 / r.sqrt(), 0.25 * sigma.log()


def draw(x0):
    """σ ~ logN(−1.2, 1.2²) and ε ~ N(0, I) for a batch (the EDM training draw)."""
    n = x0.shape[0]
    return torch.exp(-1.2 + 1.2 * torch.randn(n, dtype=torch.float64)), torch.randn_like(x0)


def edm_loss(net, x0, sigma, eps, labels=None):
    """λ c_out² mean‖F(c_in x̂; c_noise[, labels]) − (x0 − c_skip x̂)/c_out‖², averaged over the batch."""
    bshape = (x0.shape[0],) + (1,) * (x0.dim() - 1)
    c_skip, c_out, c_in, c_noise = edm_scalings(sigma)
    weight = (sigma ** 2 + SIGMA_DATA ** 2) / (sigma * SIGMA_DATA) ** 2 * c_out ** 2
    c_skip, c_out, c_in = (c.float().reshape(bshape) for c in (c_skip, c_out, c_in))
    x_hat = x0 + eps * sigma.float().reshape(bshape)
    out = net(x_hat * c_in, c_noise.float()) if labels is None else net(x_hat * c_in, c_noise.float(), labels)
    target = (x0 - x_hat * c_skip) / c_out
    mse = (out - target).square().mean(dim=tuple(range(1, x0.dim())))
    return (mse * weight.float()).mean()


def train_step(net, opt, x0):
    """One EDM step: draw, loss, backward, read the loss, AdamW step, zero the gradients."""
    sigma, eps = draw(x0)
    loss = edm_loss(net, x0, sigma, eps)
    loss.backward()
    value = loss.item()
    opt.step()
    opt.zero_grad(set_to_none=False)
    return value


def sample_step(net, x, sigma, labels=None):
    """One denoiser call D(x̂; σ[, labels]) = c_skip x̂ + c_out F(c_in x̂; c_noise) at a shared σ, no gradients."""
    c_skip, c_out, c_in, c_noise = edm_scalings(torch.tensor(sigma, dtype=torch.float64))
    with torch.no_grad():
        c = torch.full((x.shape[0],), float(c_noise))
        f = net(x * float(c_in), c) if labels is None else net(x * float(c_in), c, labels)
        return x * float(c_skip) + f * float(c_out)


def profiled(path, fn):
    """Runs fn under the autograd profiler and writes its chrome trace to path; returns the wall ms."""
    with torch.autograd.profiler.profile() as prof:
        t0 = time.perf_counter()
        out = fn()
        ms = (time.perf_counter() - t0) * 1e3
    prof.export_chrome_trace(path)
    return ms, out


def profile_case(case, nets, directory):
    """One step of case 'unet-train' or 'unet-sample' by phase, each phase a trace file of its own."""
    net, opt, x0, x = nets[case.split("-")[0]]
    phases, wall = {}, {}

    def run(phase, fn):
        path = os.path.join(directory, "torch-%s-%s.json" % (case, phase))
        wall[phase], out = profiled(path, fn)
        phases[phase] = path
        return out

    if case.endswith("train"):
        net.train()
        sigma, eps = run("draw", lambda: draw(x0))
        loss = run("forward", lambda: edm_loss(net, x0, sigma, eps))
        run("backward", loss.backward)
        run("readback", loss.item)
        run("optimiser", opt.step)
        run("zero", lambda: opt.zero_grad(set_to_none=False))
        params = [p for p in net.parameters()]
        run("gradnorm", lambda: torch.norm(torch.stack([p.grad.detach().double().norm(2) for p in params]), 2).item())
        ema = nets["ema-" + case.split("-")[0]]
        def ema_update():
            with torch.no_grad():
                for e, p in zip(ema, params):
                    e.lerp_(p, 0.001)
        run("ema", ema_update)
    else:
        net.eval()
        run("forward", lambda: sample_step(net, x, 1.0))
    return {"phases": phases, "wall": wall}


def set_blas_threads(n):
    """OpenBLAS keeps a pthread pool of its own, sized from OMP_NUM_THREADS at load: resize it with torch's."""
    try:
        import ctypes
        lib = ctypes.CDLL(os.path.realpath("/etc/alternatives/libblas.so.3-x86_64-linux-gnu"))
        lib.openblas_set_num_threads(int(n))
        return True
    except (OSError, AttributeError):
        return False


def blas():
    """The BLAS PyTorch was built against and, for a generic build, the library the system resolves."""
    m = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    info = m.group(1) if m else "unknown"
    alt = "/etc/alternatives/libblas.so.3-x86_64-linux-gnu"
    if info == "generic" and os.path.exists(alt):
        lib = os.path.realpath(alt)
        note = " (netlib reference BLAS)" if "/blas/libblas" in lib else ""
        return "generic -> " + lib + note
    return info


def build(a):
    """The twin networks, optimisers and fixed batches, as the Java side builds its own."""
    torch.manual_seed(0)
    nets = {}
    for name, net, shape in (("mlp", Mlp(), (a.mlp_batch, 2)), ("unet", UNet(), (a.unet_batch, 1, 28, 28))):
        opt = torch.optim.AdamW(net.parameters(), lr=2e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
        nets[name] = (net, opt, torch.rand(shape) * 2 - 1, torch.randn(shape))
        nets["ema-" + name] = [p.detach().clone() for p in net.parameters()]
    return nets


def timed(nets, case, warmup, steps):
    name, kind = case.split("-")
    net, opt, x0, x = nets[name]
    if kind == "train":
        net.train()
        fn = lambda: train_step(net, opt, x0)
    else:
        net.eval()
        fn = lambda: sample_step(net, x, 1.0)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def serve(a):
    """Line protocol on stdin/stdout, one JSON object per line each way, so TrainBench can interleave
    its own timings with these: {"cmd": "threads", "n": N}, {"cmd": "time", "case": C, "warmup": W,
    "steps": K} -> {"ms": [...]}, {"cmd": "profile", "case": C, "dir": D}, {"cmd": "quit"}."""
    nets = build(a)
    hello = {"available": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas(),
             "params": {k: sum(q.numel() for q in nets[k][0].parameters()) for k in ("mlp", "unet")}}
    print(json.dumps(hello), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        cmd = req["cmd"]
        if cmd == "quit":
            break
        if cmd == "threads":
            torch.set_num_threads(req["n"])
            blas_set = set_blas_threads(req["n"])
            out = {"threads": torch.get_num_threads(), "blas_threads_set": blas_set}
        elif cmd == "time":
            out = {"ms": timed(nets, req["case"], req["warmup"], req["steps"])}
        elif cmd == "profile":
            out = profile_case(req["case"], nets, req["dir"])
        else:
            out = {"error": "unknown command " + cmd}
        print(json.dumps(out), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--mlp-steps", type=int, default=50)
    p.add_argument("--unet-steps", type=int, default=10)
    p.add_argument("--mlp-batch", type=int, default=512)
    p.add_argument("--unet-batch", type=int, default=32)
    p.add_argument("--serve", action="store_true", help="answer TrainBench's requests on stdin (see serve)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    set_blas_threads(a.threads)
    if a.serve:
        serve(a)
        return
    nets = build(a)
    result = {"available": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
              "blas": blas(), "params": {}, "ms": {}}
    for name, steps in (("mlp", a.mlp_steps), ("unet", a.unet_steps)):
        result["params"][name] = sum(q.numel() for q in nets[name][0].parameters())
        for kind in ("train", "sample"):
            result["ms"][name + "-" + kind] = statistics.median(timed(nets, name + "-" + kind, a.warmup, steps))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
