"""Checks with diffusers itself that a model exported by `d4j export --format diffusers` loads and computes what
Diffusion4J computes: DDPMPipeline.from_pretrained(model/), every tensor of the file used and every parameter
filled, the UNet's forward pass on expected/forward_x.npy, and a DDIM and an Euler loop from
expected/loop_init_noise.npy (see expected/inputs.json), against our outputs stored in expected/.

Run with Debian's /usr/bin/python3 (python3-torch 1.13, numpy, tqdm, filelock, regex, requests, PIL,
importlib-metadata) and the source of huggingface/diffusers at tag v0.25.0 (`git archive v0.25.0 src`) at
$DIFFUSERS_SRC:
    DIFFUSERS_SRC=.../diffusers-0.25/src /usr/bin/python3 check_export.py [MODEL_DIR] > check_export.out.txt
huggingface_hub is an import stub (nothing of it runs for a local directory: stubs.py of
shared/fixtures/diffusers-unet2d-tiny/tools, or the minimal one below); safetensors is replaced by the
small reader below (format: u64 header length, JSON header, raw little-endian data)."""
import importlib.abc, importlib.machinery, json, os, struct, sys, types
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def load_file(path, device="cpu"):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        if v["dtype"] != "F32":
            raise ValueError("%s: dtype %s, expected F32" % (k, v["dtype"]))
        a, b = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(blob[a:b], dtype="<f4").reshape(v["shape"]).copy())
    return out


def install_modules():
    st = types.ModuleType("safetensors")
    st.__path__ = []
    st.__spec__ = importlib.machinery.ModuleSpec("safetensors", None, is_package=True)
    stt = types.ModuleType("safetensors.torch")
    stt.__spec__ = importlib.machinery.ModuleSpec("safetensors.torch", None)
    stt.load_file = load_file
    st.torch = stt
    sys.modules["safetensors"] = st
    sys.modules["safetensors.torch"] = stt

    class Stub(types.ModuleType):  # huggingface_hub: names resolve; calling one raises
        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            if name.isupper():
                v = name.startswith(("HF_HUB_DISABLE", "HF_HUB_OFFLINE")) or "/tmp/hub_stub_" + name.lower()
            elif name.startswith("is_"):
                v = lambda *a, **k: False
            else:
                def _new(cls, *a, **k):
                    if len(a) == 1 and not k and callable(a[0]):
                        return a[0]  # used as a decorator
                    raise RuntimeError("stubbed %s.%s was used" % (self.__name__, name))
                v = type(name, (object,), {"__new__": _new, "__module__": self.__name__})
            setattr(self, name, v)
            return v

    class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, fullname, path, target=None):
            if fullname.split(".")[0] == "huggingface_hub":
                return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

        def create_module(self, spec):
            m = Stub(spec.name)
            m.__path__ = []
            m.__version__ = "0.0.0-stub"
            return m

        def exec_module(self, module):
            pass

    sys.meta_path.append(Finder())


def rel(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / np.abs(b).max())


def main():
    model_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "model")
    ex = os.path.join(HERE, "expected")
    install_modules()
    sys.path.insert(0, os.environ.get("DIFFUSERS_SRC", "diffusers-0.25/src"))
    import diffusers
    import diffusers.utils.import_utils as iu
    iu._safetensors_available = True  # our reader stands in for the safetensors package
    from diffusers import DDPMPipeline, DDIMScheduler, EulerDiscreteScheduler

    print("diffusers %s, torch %s" % (diffusers.__version__, torch.__version__))
    pipe = DDPMPipeline.from_pretrained(model_dir)
    unet = pipe.unet.eval()
    print("DDPMPipeline.from_pretrained(%s): %s, %s" % (os.path.relpath(model_dir, HERE), type(unet).__name__,
                                                          type(pipe.scheduler).__name__))
    ok = True
    tensors = load_file(os.path.join(model_dir, "unet", "diffusion_pytorch_model.safetensors"))
    sd = unet.state_dict()
    same_names = set(tensors) == set(sd)
    same_values = same_names and all(torch.equal(tensors[k], sd[k]) for k in sd)
    print("tensors: %d in the file, %d parameters in the model, same names %s, loaded exactly %s"
          % (len(tensors), len(sd), same_names, same_values))
    ok &= same_values
    cfg = dict(unet.config)
    print("config: block_out_channels %s, num_class_embeds %s, sample_size %s; scheduler %s betas %s→%s, %s"
          % (list(cfg["block_out_channels"]), cfg["num_class_embeds"], cfg["sample_size"],
             pipe.scheduler.config.beta_schedule, pipe.scheduler.config.beta_start, pipe.scheduler.config.beta_end,
             pipe.scheduler.config.prediction_type))
    inputs = json.load(open(os.path.join(ex, "inputs.json")))
    labels = torch.tensor(inputs["class_labels"])
    x = torch.from_numpy(np.load(os.path.join(ex, "forward_x.npy")))
    t = torch.tensor(inputs["timesteps"], dtype=torch.float32)
    with torch.no_grad():
        y = unet(x, t, class_labels=labels).sample
    e = rel(y.numpy(), np.load(os.path.join(ex, "forward_out.npy")))
    print("forward (t %s, labels %s): max relative difference %.2e (must be < 1e-4)" % (inputs["timesteps"],
                                                                                        inputs["class_labels"], e))
    ok &= e < 1e-4
    init = torch.from_numpy(np.load(os.path.join(ex, "loop_init_noise.npy")))
    for name, cls, n, spacing in (("ddim_eta0_leading_10", DDIMScheduler, 10, "leading"),
                                  ("euler_linspace_15", EulerDiscreteScheduler, 15, "linspace")):
        s = cls.from_config(pipe.scheduler.config, timestep_spacing=spacing)
        s.set_timesteps(n)
        xt = init * s.init_noise_sigma
        with torch.no_grad():
            for step in s.timesteps:
                eps = unet(s.scale_model_input(xt, step), step, class_labels=labels).sample
                xt = s.step(eps, step, xt).prev_sample
        e = rel(xt.numpy(), np.load(os.path.join(ex, "loop_%s.npy" % name)))
        print("%s %s %d steps (timesteps %s…): max relative difference %.2e (must be < 1e-3)"
              % (cls.__name__, spacing, n, [round(float(v), 3) for v in s.timesteps[:3]], e))
        ok &= e < 1e-3
    print("all checks passed" if ok else "CHECK FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
