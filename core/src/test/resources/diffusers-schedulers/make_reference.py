"""Reference outputs of diffusers' schedulers on an EXACT denoiser, for DiffusersSchedulerParityTest.

Each run: a diffusers scheduler built from a config, set_timesteps(steps), then the usual loop
    for t in scheduler.timesteps:
        inp = scheduler.scale_model_input(x, t); out = model(inp, t); x = scheduler.step(out, t, x).prev_sample
from fixed float64 initial latents x_T = init_noise_sigma * z. The model is the closed-form posterior mean
D(x^; sigma) of a 2-D Gaussian mixture (written below in torch, float64), converted to the scheduler's
prediction_type (epsilon / v_prediction / sample) at the noise level the scheduler itself uses for that call
(sigmas[step_index], or sigmas_interpol for KDPM2's second stage, or the alphas_cumprod table at integer t
for DDIM/DDPM/PNDM, which keep no sigmas). Outputs: <name>.npy (float64 [n, 2]) and index.json
(configs, steps, initial latents file, mixture, the timesteps and sigmas diffusers used).

Run with Debian's /usr/bin/python3 (python3-torch 1.13 on OpenBLAS) and diffusers v0.25.0's src
(git archive v0.25.0 src of huggingface/diffusers) at $DIFFUSERS_SRC; stubs.py (as in
shared/fixtures/diffusers-unet2d-tiny/tools) at $STUBS_DIR makes huggingface_hub/safetensors importable:
    DIFFUSERS_SRC=/tmp/diffusers/src STUBS_DIR=... /usr/bin/python3 make_reference.py
"""
import json, os, sys
import numpy as np

sys.path.insert(0, os.environ.get("STUBS_DIR", os.path.dirname(os.path.abspath(__file__))))
import stubs
stubs.install("huggingface_hub", "safetensors")
sys.path.insert(0, os.environ.get("DIFFUSERS_SRC", "/tmp/diffusers/src"))
import torch
stubs.torch_compat()
import diffusers

OUT = os.path.dirname(os.path.abspath(__file__))
MIX = {"type": "gaussian-mixture", "weights": [0.5, 0.3, 0.2],
       "means": [[1.5, 0.0], [-1.0, 1.0], [-0.5, -1.5]], "stds": [0.3, 0.5, 0.2]}
N = 16


def denoise(xhat, sigma):
    w = torch.tensor(MIX["weights"], dtype=torch.float64)
    mu = torch.tensor(MIX["means"], dtype=torch.float64)
    s2 = torch.tensor(MIX["stds"], dtype=torch.float64) ** 2
    var = s2 + sigma * sigma  # [K]
    d2 = ((xhat[:, None, :] - mu[None]) ** 2).sum(-1)  # [n, K]
    logr = torch.log(w) - 0.5 * d2 / var - xhat.shape[1] * 0.5 * torch.log(var)
    r = torch.softmax(logr, dim=1)
    comp = (s2[None, :, None] * xhat[:, None, :] + sigma * sigma * mu[None]) / var[None, :, None]
    return (r[:, :, None] * comp).sum(1)


def model_sigma(sch, t):
    if hasattr(sch, "sigmas") and getattr(sch, "_step_index", "absent") != "absent":
        i = 0 if sch.step_index is None else sch.step_index
        if hasattr(sch, "sigmas_interpol") and not sch.state_in_first_order:
            return float(sch.sigmas_interpol[i])
        return float(sch.sigmas[i])
    a = float(sch.alphas_cumprod[int(t)])
    return ((1 - a) / a) ** 0.5


def model(sch, x, t):
    sigma = model_sigma(sch, t)
    alpha = 1 / (1 + sigma * sigma) ** 0.5
    xhat = x / alpha
    d = denoise(xhat, sigma)
    eps = (xhat - d) / sigma
    p = sch.config.prediction_type
    if p == "epsilon":
        return eps
    if p == "v_prediction":
        return alpha * eps - alpha * sigma * d
    if p == "sample":
        return d
    raise ValueError(p)


# diffusers' _threshold_sample reshapes by np.prod of the trailing dimensions, which for [n, d] states is the float
# 1.0 that torch 1.13 refuses: hand it [n, d, 1] (the same values) and take the trailing axis off again.
for _cls in ("DDPMScheduler", "DPMSolverMultistepScheduler", "DEISMultistepScheduler"):
    _orig = getattr(diffusers, _cls)._threshold_sample
    setattr(getattr(diffusers, _cls), "_threshold_sample",
            (lambda orig: lambda self, sample: orig(self, sample[..., None])[..., 0])(_orig))


# UniPC's einsum mixes its float32 coefficient tables with the state: it runs in float32 only.
FLOAT32_ONLY = {"UniPCMultistepScheduler"}


class StoredNoise:
    """Replaces diffusers' randn_tensor in the stochastic schedulers: pre-drawn N(0, I) (float64) handed out
    in call order and saved, so that the Java side can replay the same draws."""

    def __init__(self):
        self.draws = []
        self.rng = np.random.default_rng(7)

    def __call__(self, shape, generator=None, device=None, dtype=None, layout=None):
        z = torch.from_numpy(self.rng.standard_normal(tuple(shape))).to(dtype or torch.float64)
        self.draws.append(z.double().numpy())
        return z


STOCHASTIC = {"EulerAncestralDiscreteScheduler": "scheduling_euler_ancestral_discrete",
              "DDPMScheduler": "scheduling_ddpm", "DDIMScheduler": "scheduling_ddim"}


def run(name, cls, cfg, steps, eta=None):
    noise = None
    if cls in STOCHASTIC and (cls != "DDIMScheduler" or eta):
        import importlib
        noise = StoredNoise()
        importlib.import_module("diffusers.schedulers." + STOCHASTIC[cls]).randn_tensor = noise
    dtype = torch.float32 if cls in FLOAT32_ONLY else torch.float64
    sch = getattr(diffusers, cls).from_config(dict(cfg))
    sch.set_timesteps(steps)
    z = torch.from_numpy(np.load(os.path.join(OUT, "initial.npy")))
    x = (z * float(sch.init_noise_sigma)).to(dtype)
    ts = [float(t) for t in sch.timesteps]
    used = []
    for t in sch.timesteps:
        inp = sch.scale_model_input(x, t)
        used.append(model_sigma(sch, t))
        out = model(sch, inp.double(), t).to(dtype)
        x = (sch.step(out, t, x, eta=eta) if eta else sch.step(out, t, x)).prev_sample
    assert x.dtype == dtype, (name, x.dtype)
    np.save(os.path.join(OUT, name + ".npy"), x.double().numpy())
    sig = [float(s) for s in sch.sigmas] if hasattr(sch, "sigmas") else None
    extra = {}
    if noise is not None:
        np.save(os.path.join(OUT, name + ".noise.npy"), np.stack(noise.draws))
        extra["noise"] = name + ".noise.npy"
    if eta:
        cfg = dict(cfg, eta=eta)
    if cls in FLOAT64_TABLES and not cfg.get("use_karras_sigmas") and cfg.get("beta_schedule") == "linear":
        extra["output_f64_tables"] = run_f64_tables(name, cls, cfg, steps)
    if cls == "PNDMScheduler" and cfg.get("beta_schedule") == "linear":
        extra["output_f64_tables"] = run_pndm_f64_tables(name, cfg, steps)
    return {**extra, "name": name, "steps": steps, "config": dict(cfg, _class_name=cls), "timesteps": ts,
            "sigmas": sig, "model_sigmas": used, "dtype": str(dtype).replace("torch.", ""), "output": name + ".npy"}


# The same run with diffusers' float32 tables (alphas_cumprod, sigmas) replaced by float64 ones: isolates
# the table round-off from the method (the Java side keeps float64 tables).
FLOAT64_TABLES = {"DPMSolverMultistepScheduler", "DPMSolverSinglestepScheduler", "DEISMultistepScheduler"}


def run_f64_tables(name, cls, cfg, steps):
    sch = getattr(diffusers, cls).from_config(dict(cfg))
    n = cfg["num_train_timesteps"]
    b = np.linspace(cfg["beta_start"], cfg["beta_end"], n)
    ac = np.cumprod(1 - b)
    table = np.sqrt((1 - ac) / ac)
    sch.alphas_cumprod = torch.from_numpy(ac)
    sch.set_timesteps(steps)
    ts = sch.timesteps.numpy()
    sch.sigmas = torch.from_numpy(np.concatenate([table[ts], [table[0]]]))
    x = torch.from_numpy(np.load(os.path.join(OUT, "initial.npy")))
    for t in sch.timesteps:
        inp = sch.scale_model_input(x, t)
        x = sch.step(model(sch, inp, t), t, x).prev_sample
    np.save(os.path.join(OUT, name + ".f64.npy"), x.numpy())
    return name + ".f64.npy"


def run_pndm_f64_tables(name, cfg, steps):
    """PNDM with float64 alphas_cumprod (and final_alpha_cumprod): the method alone, no table round-off."""
    sch = diffusers.PNDMScheduler.from_config(dict(cfg))
    b = np.linspace(cfg["beta_start"], cfg["beta_end"], cfg["num_train_timesteps"])
    ac = torch.from_numpy(np.cumprod(1 - b))
    sch.alphas_cumprod = ac
    sch.final_alpha_cumprod = torch.tensor(1.0, dtype=torch.float64) if sch.config.set_alpha_to_one else ac[0]
    sch.set_timesteps(steps)
    x = torch.from_numpy(np.load(os.path.join(OUT, "initial.npy")))
    for t in sch.timesteps:
        x = sch.step(model(sch, sch.scale_model_input(x, t), t), t, x).prev_sample
    np.save(os.path.join(OUT, name + ".f64.npy"), x.numpy())
    return name + ".f64.npy"


def main():
    rng = np.random.default_rng(20251201)
    np.save(os.path.join(OUT, "initial.npy"), rng.standard_normal((N, 2)))
    base = {"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear"}
    sd = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear"}
    runs = []
    R = lambda name, cls, steps, **kw: runs.append(run(name, cls, dict(base, **kw), steps))
    # DDIM (eta = 0 is deterministic)
    R("ddim-leading-10", "DDIMScheduler", 10, clip_sample=False, steps_offset=1, set_alpha_to_one=False)
    R("ddim-trailing-10", "DDIMScheduler", 10, clip_sample=False, timestep_spacing="trailing")
    R("ddim-linspace-v-12", "DDIMScheduler", 12, clip_sample=False, timestep_spacing="linspace",
      prediction_type="v_prediction")
    # stochastic: diffusers' draws are replaced by stored ones (StoredNoise), replayed by the test
    runs.append(run("ddim-eta1-leading-10", "DDIMScheduler", dict(base, clip_sample=False, steps_offset=1), 10, eta=1.0))
    R("ddpm-leading-10", "DDPMScheduler", 10, clip_sample=False)
    R("ddpm-trailing-10", "DDPMScheduler", 10, clip_sample=False, timestep_spacing="trailing")
    R("ddpm-large-10", "DDPMScheduler", 10, clip_sample=False, variance_type="fixed_large")
    R("euler-ancestral-10", "EulerAncestralDiscreteScheduler", 10)
    # clip_sample / thresholding of the x0-prediction (the mixture's means reach 1.5: both act)
    R("ddpm-clip-10", "DDPMScheduler", 10, clip_sample=True)
    R("ddpm-clip-range-10", "DDPMScheduler", 10, clip_sample=True, clip_sample_range=1.2)
    R("ddpm-threshold-10", "DDPMScheduler", 10, clip_sample=False, thresholding=True,
      dynamic_thresholding_ratio=0.9, sample_max_value=1.3)
    R("dpmpp-2m-threshold-10", "DPMSolverMultistepScheduler", 10, solver_order=2, thresholding=True,
      dynamic_thresholding_ratio=0.9, sample_max_value=1.3)
    R("dpm-2m-threshold-10", "DPMSolverMultistepScheduler", 10, solver_order=2, algorithm_type="dpmsolver",
      thresholding=True, dynamic_thresholding_ratio=0.9, sample_max_value=1.3)
    R("deis-2-threshold-10", "DEISMultistepScheduler", 10, solver_order=2, thresholding=True,
      dynamic_thresholding_ratio=0.9, sample_max_value=1.3)
    # DPM-Solver multistep
    for order in (1, 2, 3):
        for steps in (10, 25):
            R(f"dpmpp-{order}m-{steps}", "DPMSolverMultistepScheduler", steps, solver_order=order)
    R("dpmpp-3m-10-nolof", "DPMSolverMultistepScheduler", 10, solver_order=3, lower_order_final=False)
    R("dpmpp-2m-heun-10", "DPMSolverMultistepScheduler", 10, solver_order=2, solver_type="heun")
    R("dpmpp-2m-eaf-20", "DPMSolverMultistepScheduler", 20, solver_order=2, euler_at_final=True)
    R("dpm-2m-10", "DPMSolverMultistepScheduler", 10, solver_order=2, algorithm_type="dpmsolver")
    R("dpm-3m-10", "DPMSolverMultistepScheduler", 10, solver_order=3, algorithm_type="dpmsolver")
    R("dpm-2m-heun-10", "DPMSolverMultistepScheduler", 10, solver_order=2, algorithm_type="dpmsolver",
      solver_type="heun")
    R("dpmpp-2m-karras-12", "DPMSolverMultistepScheduler", 12, solver_order=2, use_karras_sigmas=True)
    R("dpmpp-2m-trailing-v-10", "DPMSolverMultistepScheduler", 10, solver_order=2, timestep_spacing="trailing",
      prediction_type="v_prediction")
    runs.append(run("dpmpp-2m-sd-leading-15", "DPMSolverMultistepScheduler",
                    dict(sd, solver_order=2, timestep_spacing="leading", steps_offset=1), 15))
    # DPM-Solver singlestep
    R("dpmpp-2s-10", "DPMSolverSinglestepScheduler", 10, solver_order=2)
    R("dpmpp-3s-12", "DPMSolverSinglestepScheduler", 12, solver_order=3)
    # DEIS
    R("deis-2-10", "DEISMultistepScheduler", 10, solver_order=2)
    R("deis-3-10", "DEISMultistepScheduler", 10, solver_order=3)
    R("deis-3-25", "DEISMultistepScheduler", 25, solver_order=3)
    # UniPC
    R("unipc-bh2-2-10", "UniPCMultistepScheduler", 10, solver_order=2, solver_type="bh2")
    R("unipc-bh1-3-10", "UniPCMultistepScheduler", 10, solver_order=3, solver_type="bh1")
    R("unipc-bh2-3-25", "UniPCMultistepScheduler", 25, solver_order=3, solver_type="bh2")
    # sigma-space (k-diffusion-like) schedulers
    R("euler-10", "EulerDiscreteScheduler", 10)
    R("euler-karras-10", "EulerDiscreteScheduler", 10, use_karras_sigmas=True)
    R("euler-leading-10", "EulerDiscreteScheduler", 10, timestep_spacing="leading", steps_offset=1)
    R("heun-10", "HeunDiscreteScheduler", 10)
    R("heun-karras-8", "HeunDiscreteScheduler", 8, use_karras_sigmas=True)
    R("kdpm2-10", "KDPM2DiscreteScheduler", 10)
    R("lms-10", "LMSDiscreteScheduler", 10)
    R("lms-25", "LMSDiscreteScheduler", 25)
    # PNDM: PLMS only (skip_prk_steps, as Stable Diffusion's configs) and the Runge-Kutta (PRK) warm-up; leading
    # (default), trailing and linspace spacings, where linspace (and trailing at 30 steps, and PRK's half step of an
    # odd step ratio) makes diffusers' "previous timestep" t - N//steps differ from the next timestep
    P = lambda name, steps, **kw: R(name, "PNDMScheduler", steps, **kw)
    P("pndm-plms-leading-10", 10, skip_prk_steps=True)
    P("pndm-plms-leading-1", 1, skip_prk_steps=True)
    P("pndm-plms-leading-2", 2, skip_prk_steps=True, set_alpha_to_one=True)
    P("pndm-plms-trailing-20", 20, skip_prk_steps=True, timestep_spacing="trailing", set_alpha_to_one=True)
    P("pndm-plms-trailing-30", 30, skip_prk_steps=True, timestep_spacing="trailing")
    P("pndm-plms-linspace-15", 15, skip_prk_steps=True, timestep_spacing="linspace")
    P("pndm-plms-v-25", 25, skip_prk_steps=True, prediction_type="v_prediction", steps_offset=1)
    runs.append(run("pndm-plms-sd-50", "PNDMScheduler", dict(sd, skip_prk_steps=True, steps_offset=1,
                                                                 set_alpha_to_one=False, clip_sample=False), 50))
    P("pndm-prk-leading-10", 10)
    P("pndm-prk-leading-4", 4)
    P("pndm-prk-leading-30", 30, steps_offset=1)
    P("pndm-prk-trailing-25", 25, timestep_spacing="trailing", set_alpha_to_one=True)
    P("pndm-prk-linspace-12", 12, timestep_spacing="linspace")
    P("pndm-prk-v-20", 20, prediction_type="v_prediction")
    P("pndm-prk-leading-50", 50, steps_offset=1)
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump({"diffusers": diffusers.__version__, "torch": torch.__version__, "mixture": MIX,
                   "initial": "initial.npy", "runs": runs}, f, indent=1)
    print(len(runs), "runs")


if __name__ == "__main__":
    main()
