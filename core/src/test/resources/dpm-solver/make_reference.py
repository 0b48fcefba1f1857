"""Reference outputs of LuChengTHU's DPM-Solver (dpm_solver_pytorch.py) on an EXACT noise-prediction model,
for DpmSolverReferenceParityTest.

The model is the closed-form posterior mean D(x^; sigma) of a 2-D Gaussian mixture (torch, float64) turned into
a noise prediction eps(x, t) = (x - alpha_t D(x / alpha_t; sigma_t / alpha_t)) / sigma_t on the continuous
linear VP schedule NoiseScheduleVP('linear', beta_0 = 0.1, beta_1 = 20). Each run is
    DPM_Solver(model_fn, ns, algorithm_type=A).sample(x_T, steps, t_start=1, t_end=1e-3, order, skip_type,
                                                      method, lower_order_final=True, denoise_to_zero=False,
                                                      solver_type, atol, rtol)
from the same float64 initial state x_T = z (torch default dtype float64, so the time grids are float64 too).
Every algorithm_type x method (multistep / singlestep / singlestep_fixed / adaptive) x order x skip_type
(time_uniform / logSNR / time_quadratic), a few step counts (multistep below and above the 10-step
lower-order-final threshold; singlestep NFE budgets of every residue mod 3) and both solver types.
Outputs: outputs.npy (float64 [runs, n, 2]), initial.npy (z, [n, 2]) and index.json (the mixture, every
run's arguments and the number of model calls the reference made).

Run with Debian's /usr/bin/python3 (python3-torch 1.13) and the reference's dpm_solver_pytorch.py at
$DPM_SOLVER_SRC (a checkout of github:LuChengTHU/dpm-solver, commit 52bc3fb):
    DPM_SOLVER_SRC=/tmp/dpm-solver /usr/bin/python3 make_reference.py
"""
import contextlib, io, json, os, sys
import numpy as np

sys.path.insert(0, os.environ.get("DPM_SOLVER_SRC", "/tmp/dpm-solver"))
import torch
torch.set_default_dtype(torch.float64)
import dpm_solver_pytorch as dps

OUT = os.path.dirname(os.path.abspath(__file__))
MIX = {"type": "gaussian-mixture", "weights": [0.5, 0.3, 0.2],
       "means": [[1.5, 0.0], [-1.0, 1.0], [-0.5, -1.5]], "stds": [0.3, 0.5, 0.2]}
N = 32
T_END = 1e-3


def denoise(xhat, sigma):
    w = torch.tensor(MIX["weights"])
    mu = torch.tensor(MIX["means"])
    s2 = torch.tensor(MIX["stds"]) ** 2
    var = s2 + sigma * sigma
    d2 = ((xhat[:, None, :] - mu[None]) ** 2).sum(-1)
    logr = torch.log(w) - 0.5 * d2 / var - xhat.shape[1] * 0.5 * torch.log(var)
    r = torch.softmax(logr, dim=1)
    comp = (s2[None, :, None] * xhat[:, None, :] + sigma * sigma * mu[None]) / var[None, :, None]
    return (r[:, :, None] * comp).sum(1)


NS = dps.NoiseScheduleVP('linear', continuous_beta_0=0.1, continuous_beta_1=20.)
CALLS = [0]


def model_fn(x, t):
    CALLS[0] += 1
    tt = t.reshape(-1)[:1]
    alpha = NS.marginal_alpha(tt)
    sig = NS.marginal_std(tt)
    d = denoise(x / alpha, sig / alpha)
    return (x - alpha * d) / sig


def runs():
    out = []
    for alg in ("dpmsolver", "dpmsolver++"):
        for skip in ("time_uniform", "logSNR", "time_quadratic"):
            for order in (1, 2, 3):
                for steps in (6, 12):
                    out.append(dict(algorithm=alg, method="multistep", order=order, skip=skip, steps=steps,
                                    solver_type="dpmsolver"))
                for steps in (9, 10, 11):
                    out.append(dict(algorithm=alg, method="singlestep", order=order, skip=skip, steps=steps,
                                    solver_type="dpmsolver"))
                out.append(dict(algorithm=alg, method="singlestep_fixed", order=order, skip=skip, steps=12,
                                solver_type="dpmsolver"))
            # The Taylor solver type of the second- and third-order updates.
            out.append(dict(algorithm=alg, method="multistep", order=2, skip=skip, steps=6, solver_type="taylor"))
            out.append(dict(algorithm=alg, method="singlestep", order=3, skip=skip, steps=10, solver_type="taylor"))
            out.append(dict(algorithm=alg, method="singlestep_fixed", order=2, skip=skip, steps=12,
                            solver_type="taylor"))
        for order in (2, 3):
            out.append(dict(algorithm=alg, method="adaptive", order=order, skip="time_uniform", steps=0,
                            solver_type="dpmsolver", atol=0.0078, rtol=0.05))
            out.append(dict(algorithm=alg, method="adaptive", order=order, skip="time_uniform", steps=0,
                            solver_type="dpmsolver", atol=1e-4, rtol=1e-3))
        out.append(dict(algorithm=alg, method="adaptive", order=3, skip="time_uniform", steps=0,
                        solver_type="taylor", atol=0.0078, rtol=0.05))
    return out


def name(r):
    n = "%s-%s-%d-%s-%s" % (r["algorithm"], r["method"], r["order"], r["skip"], r["solver_type"])
    if r["method"] == "adaptive":
        return n + "-rtol%g" % r["rtol"]
    return n + "-%d" % r["steps"]


def main():
    g = torch.Generator().manual_seed(7)
    z = torch.randn(N, 2, generator=g, dtype=torch.float64)
    np.save(os.path.join(OUT, "initial.npy"), z.numpy())
    specs = runs()
    outs = []
    for r in specs:
        solver = dps.DPM_Solver(model_fn, NS, algorithm_type=r["algorithm"])
        CALLS[0] = 0
        kw = dict(steps=max(r["steps"], 1), t_start=1., t_end=T_END, order=r["order"], skip_type=r["skip"],
                  method=r["method"], lower_order_final=True, denoise_to_zero=False, solver_type=r["solver_type"])
        if r["method"] == "adaptive":
            kw.update(atol=r["atol"], rtol=r["rtol"])
        with contextlib.redirect_stdout(io.StringIO()):  # the adaptive solver prints its NFE
            x = solver.sample(z.clone(), **kw)
        r["name"] = name(r)
        r["nfe"] = CALLS[0]
        outs.append(x.numpy())
        print("%-58s nfe %3d  |x| %.6f" % (r["name"], r["nfe"], float(x.abs().max())))
    np.save(os.path.join(OUT, "outputs.npy"), np.stack(outs))
    index = {"reference": "github:LuChengTHU/dpm-solver dpm_solver_pytorch.py (commit 52bc3fb), torch "
                          + torch.__version__ + ", float64",
             "schedule": {"type": "linear", "beta_0": 0.1, "beta_1": 20.0, "t_start": 1.0, "t_end": T_END},
             "mixture": MIX, "initial": "initial.npy", "outputs": "outputs.npy", "runs": specs}
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, indent=1)


if __name__ == "__main__":
    main()
