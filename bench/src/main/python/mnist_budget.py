"""PyTorch twin of the MNIST budget benchmark (org.diffusion4j.bench.MnistBudgetBench).

Trains the U-Net of torch_bench.py (the same layers as org.diffusion4j.train.nn.UNet) with the same EDM
objective (Karras et al. 2022: preconditioning with the given sigma_data, sigma ~ logN(-1.2, 1.2^2), the
effective-target loss), AdamW (beta 0.9/0.999, eps 1e-8, no weight decay), a linear warm-up then a
constant learning rate, global gradient-norm clipping and the warm-up EMA
beta_t = min(decay, (1 + t)/(10 + t)), on the MNIST training images read from the IDX files (x/127.5 - 1),
for a wall-clock budget: a step starts only while the budget is not spent, as the Java Trainer does. Then
it samples N images with the EMA weights by Heun's method on the PF-ODE in sigma (EDM Algorithm 1, no
churn, Euler on the last step to sigma = 0) on the sigma grid given by the Java side (the Karras grid),
x_0 = sigma_0 * eps, and writes them as samples.npy (float32 [N, 1, 28, 28]) plus twin.json.

With --classes 10 the network is class-conditional (torch_bench.UNet's class table, row 10 the null label):
training reads the IDX labels and drops each to the null label with probability --label-dropout (Ho &
Salimans 2022); sample i asks for class i mod 10, and --guidance w != 1 samples with classifier-free
guidance D_null + w (D_label - D_null), both halves in one forward of a doubled batch, as ours does.

Run with Debian's /usr/bin/python3 (python3-torch). Usage:
  mnist_budget.py --idx DIR --minutes M --threads T --n N --sigmas s0,...,0 --sigma-data S --out DIR [net/opt flags]
  mnist_budget.py --params-only [net flags]      (prints {"params": count} and exits)
"""

import argparse
import gzip
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_bench as tb  # noqa: E402  (the twin's layers)

import numpy as np  # noqa: E402
import torch  # noqa: E402


def read_idx_images(path):
    """IDX3 (plain or .gz) -> float32 [n, 1, rows, cols] on [-1, 1]."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, n, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in range(0, 16, 4))
    if magic != 2051:
        raise SystemExit("%s: not an IDX image file (magic %d, expected 2051)" % (path, magic))
    x = np.frombuffer(data, dtype=np.uint8, offset=16, count=n * rows * cols).reshape(n, 1, rows, cols)
    return torch.from_numpy(x.astype(np.float32) / 127.5 - 1.0)


def read_idx_labels(path):
    """IDX1 (plain or .gz) -> int64 [n]."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, n = (int.from_bytes(data[i:i + 4], "big") for i in range(0, 8, 4))
    if magic != 2049:
        raise SystemExit("%s: not an IDX label file (magic %d, expected 2049)" % (path, magic))
    return torch.from_numpy(np.frombuffer(data, dtype=np.uint8, offset=8, count=n).astype(np.int64))


def find_idx(directory, kind):
    names = ("train-%s-idx%d-ubyte.gz" % (kind, 3 if kind == "images" else 1),
             "train-%s-idx%d-ubyte" % (kind, 3 if kind == "images" else 1),
             "train-%s.idx%d-ubyte" % (kind, 3 if kind == "images" else 1))
    for name in names:
        p = os.path.join(directory, name)
        if os.path.exists(p):
            return p
    raise SystemExit("no MNIST training %s (%s) in %s" % (kind, names[0], directory))


def network(a):
    return tb.UNet(channels=1, resolution=28, base=a.base, mult=tuple(int(v) for v in a.mult.split(",")),
                   blocks=a.blocks, attention=tuple(int(v) for v in a.attention.split(",") if v),
                   dropout=a.dropout, heads=1, classes=a.classes)


def denoiser(net, classes, guidance):
    """D(x; sigma, labels): unconditional (classes 0), conditional (guidance 1), or classifier-free guidance
    D_null + w (D_label - D_null) with both halves in one forward of a doubled batch (Ho & Salimans 2022)."""
    if classes == 0:
        return lambda x, s, labels: tb.sample_step(net, x, s)
    if guidance == 1:
        return lambda x, s, labels: tb.sample_step(net, x, s, labels)

    def guided(x, s, labels):
        both = tb.sample_step(net, torch.cat([x, x]), s, torch.cat([labels, torch.full_like(labels, classes)]))
        cond, null = both[:x.shape[0]], both[x.shape[0]:]
        return null + guidance * (cond - null)
    return guided


def sample(net, sigmas, n, batch, seed, churn=0.0, tmin=0.0, tmax=float("inf"), noise=1.0, classes=0, guidance=1.0):
    """EDM's Heun sampler on the given decreasing grid ending in 0: Algorithm 1 when churn is 0, else
    Algorithm 2 (Karras et al. 2022): gamma = min(S_churn/N, sqrt(2)-1) where S_tmin <= sigma <= S_tmax,
    sigma_hat = sigma (1 + gamma), x_hat = x + sqrt(sigma_hat^2 - sigma^2) S_noise eps, then a Heun step
    from sigma_hat to the next sigma (Euler on the step to 0). A class-conditional net draws sample i as
    class i mod classes."""
    dn = denoiser(net, classes, guidance)
    gen = torch.Generator().manual_seed(seed)
    steps = len(sigmas) - 1
    gamma_max = min(churn / steps, math.sqrt(2) - 1) if churn > 0 else 0.0
    out = []
    net.eval()
    t0 = time.perf_counter()
    next_report = t0 + 30
    for start in range(0, n, batch):
        now = time.perf_counter()
        if now >= next_report and start > 0:  # progress every 30 s, as our side prints it
            print("twin: sampling, %d of %d samples (%.0f %%), %.0f s, about %.0f s left" % (
                start, n, 100.0 * start / n, now - t0, (now - t0) * (n - start) / start), flush=True)
            next_report = now + 30
        k = min(batch, n - start)
        x = torch.randn((k, 1, 28, 28), generator=gen) * sigmas[0]
        labels = torch.arange(start, start + k) % classes if classes > 0 else None
        for i in range(steps):
            s, s_next = sigmas[i], sigmas[i + 1]
            gamma = gamma_max if tmin <= s <= tmax else 0.0
            s_hat = s + gamma * s
            if churn > 0:
                eps = torch.randn(x.shape, generator=gen)  # drawn on every step, as EDM's randn_like
                if gamma > 0:
                    x = x + eps * (math.sqrt(s_hat * s_hat - s * s) * noise)
            d = (x - dn(x, s_hat, labels)) / s_hat
            x_next = x + d * (s_next - s_hat)
            if s_next > 0:
                d2 = (x_next - dn(x_next, s_next, labels)) / s_next
                x_next = x + 0.5 * (d + d2) * (s_next - s_hat)
            x = x_next
        out.append(x)
    return torch.cat(out).numpy().astype(np.float32)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--idx")
    p.add_argument("--minutes", type=float, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--sigmas", help="the sampling grid, comma-separated, decreasing, ending in 0")
    p.add_argument("--sigma-data", type=float, default=0.5)
    p.add_argument("--base", type=int, default=16)
    p.add_argument("--mult", default="1,2,2")
    p.add_argument("--blocks", type=int, default=1)
    p.add_argument("--attention", default="7")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--schedule", choices=["constant", "cosine"], default="cosine",
                   help="after warm-up: constant, or a half cosine that reaches 0 when the budget ends")
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--ema", type=float, default=0.995)
    p.add_argument("--classes", type=int, default=0, help="10: class-conditional on the IDX labels; 0: not")
    p.add_argument("--label-dropout", type=float, default=0.1, help="probability of training on the null label")
    p.add_argument("--guidance", type=float, default=1.0, help="classifier-free guidance scale w (1: conditional)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sample-batch", type=int, default=100)
    p.add_argument("--sampler", choices=["heun", "edm"], default="heun",
                   help="heun: EDM Algorithm 1; edm: Algorithm 2, stochastic Heun with --s-churn etc.")
    p.add_argument("--s-churn", type=float, default=0.0)
    p.add_argument("--s-tmin", type=float, default=0.0)
    p.add_argument("--s-tmax", type=float, default=float("inf"))
    p.add_argument("--s-noise", type=float, default=1.0)
    p.add_argument("--out")
    p.add_argument("--params-only", action="store_true")
    p.add_argument("--sample-only", action="store_true",
                   help="no training: sample from the twin-ema.pt and twin.json an earlier run left in --out")
    a = p.parse_args()

    torch.manual_seed(a.seed)
    if a.params_only:
        print(json.dumps({"params": sum(q.numel() for q in network(a).parameters())}))
        return
    if not (a.idx and a.out and a.sigmas):
        raise SystemExit("--idx, --sigmas and --out are required")
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    tb.set_blas_threads(a.threads)
    tb.SIGMA_DATA = a.sigma_data  # read by edm_scalings and edm_loss
    sigmas = [float(v) for v in a.sigmas.split(",")]
    net = network(a)
    if a.sample_only:
        with open(os.path.join(a.out, "twin.json")) as f:
            info = json.load(f)  # the training's record, kept; the sampling fields are replaced
        net.load_state_dict(torch.load(os.path.join(a.out, "twin-ema.pt")))
        print("twin: sampling from %s (%d training steps), no training" % (
            os.path.join(a.out, "twin-ema.pt"), info["steps"]), flush=True)
        sample_and_write(net, a, sigmas, info)
        return
    images = read_idx_images(find_idx(a.idx, "images"))
    labels = read_idx_labels(find_idx(a.idx, "labels")) if a.classes > 0 else None
    if labels is not None and (labels.shape[0] != images.shape[0] or int(labels.max()) >= a.classes):
        raise SystemExit("twin: %d labels up to %d for %d images and %d classes" % (
            labels.shape[0], int(labels.max()), images.shape[0], a.classes))
    params = list(net.parameters())
    ema = [q.detach().clone() for q in params]
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    info = {"torch": torch.__version__, "blas": tb.blas(), "threads": torch.get_num_threads(),
            "params": sum(q.numel() for q in params)}
    print("twin: torch %s, BLAS %s, %d threads, %d parameters, %d training images" % (
        info["torch"], info["blas"], info["threads"], info["params"], images.shape[0]), flush=True)

    budget = a.minutes * 60
    gen = torch.Generator().manual_seed(a.seed)
    net.train()
    step, loss_value = 0, float("nan")
    t0 = time.perf_counter()
    next_report = t0 + 30
    warmup_end = t0
    while True:
        start = time.perf_counter()
        if start - t0 >= budget:
            break
        # The Java Trainer's rule (LrSchedule.at(step, budgetProgress)): linear warm-up in steps, then either
        # constant or a cosine whose progress is the fraction of the post-warm-up budget spent at step start.
        if step == a.warmup:
            warmup_end = start
        if step < a.warmup:
            lr = a.lr * step / a.warmup
        elif a.schedule == "constant":
            lr = a.lr
        else:
            rest = budget - (warmup_end - t0)
            progress = 1.0 if rest <= 0 else min(1.0, (start - warmup_end) / rest)
            lr = a.lr * 0.5 * (1 + math.cos(math.pi * progress))
        idx = torch.randint(0, images.shape[0], (a.batch,), generator=gen)
        x0 = images[idx]
        y = None
        if labels is not None:  # each label dropped to the null label with probability --label-dropout
            y = labels[idx].clone()
            y[torch.rand(a.batch, generator=gen) < a.label_dropout] = a.classes
        sigma, eps = tb.draw(x0)
        loss = tb.edm_loss(net, x0, sigma, eps, y)
        loss.backward()
        loss_value = loss.item()
        if not np.isfinite(loss_value):
            raise SystemExit("twin: the loss became %s at step %d" % (loss_value, step))
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(params, a.clip)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        opt.zero_grad(set_to_none=False)
        beta = min(a.ema, (1.0 + step) / (10.0 + step))
        with torch.no_grad():
            for e, q in zip(ema, params):
                e.mul_(beta).add_(q, alpha=1 - beta)
        step += 1
        now = time.perf_counter()
        if now >= next_report:
            print("twin: step %d, %.0f s, loss %.4f" % (step, now - t0, loss_value), flush=True)
            next_report = now + 30
    seconds = time.perf_counter() - t0

    with torch.no_grad():
        for e, q in zip(ema, params):
            q.copy_(e)
    os.makedirs(a.out, exist_ok=True)
    torch.save(net.state_dict(), os.path.join(a.out, "twin-ema.pt"))
    info.update({"steps": step, "train_seconds": seconds, "steps_per_s": step / seconds, "final_loss": loss_value})
    write_json(info, a.out)  # the training's record before sampling: an interrupted sampling resumes with --sample-only
    print("twin: %d steps in %.1f s (%.3f steps/s), final loss %.4f" % (step, seconds, step / seconds, loss_value),
          flush=True)
    sample_and_write(net, a, sigmas, info)


def write_json(info, out):
    tmp = os.path.join(out, "twin.tmp.json")
    with open(tmp, "w") as f:
        json.dump(info, f, indent=1)
    os.replace(tmp, os.path.join(out, "twin.json"))


def sample_and_write(net, a, sigmas, info):
    """Samples from the EMA weights in net, twin.json, then samples.npy (last: its presence marks the side done)."""
    t1 = time.perf_counter()
    churn = a.s_churn if a.sampler == "edm" else 0.0
    samples = sample(net, sigmas, a.n, a.sample_batch, a.seed + 1, churn, a.s_tmin, a.s_tmax, a.s_noise,
                     a.classes, a.guidance)
    sample_seconds = time.perf_counter() - t1
    tmp = os.path.join(a.out, "samples.tmp.npy")
    np.save(tmp, samples.reshape(a.n, 1, 28, 28))
    info.update({"sample_seconds": sample_seconds, "n": a.n, "nfe": 2 * (len(sigmas) - 1) - 1,
                 "sampler": ("heun (EDM Algorithm 1, no churn)" if churn == 0 else
                             "edm (Algorithm 2, S_churn %g, S_tmin %g, S_tmax %g, S_noise %g)" % (
                                 churn, a.s_tmin, a.s_tmax, a.s_noise)) + " on the given grid"
                 + ("" if a.classes == 0 else ", sample i of class i mod %d, guidance w %g" % (a.classes, a.guidance))})
    write_json(info, a.out)
    os.replace(tmp, os.path.join(a.out, "samples.npy"))
    print("twin: %d samples in %.1f s" % (a.n, sample_seconds), flush=True)


if __name__ == "__main__":
    main()
