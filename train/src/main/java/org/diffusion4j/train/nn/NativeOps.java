package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.pytorch.engine.PtSymbolBlock;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * PyTorch's fused kernels that DJL 0.36 does not bind, called through {@link TorchScript} modules (one
 * per op, loaded on first use): {@code torch.group_norm}, {@code torch.silu}, and the multi-tensor {@code _foreach} ops that
 * update a whole parameter list in one call (AdamW, EMA, zeroing, norms) instead of a dozen small calls,
 * each with its Java array object, per tensor.
 */
public final class NativeOps {
  private static final String HEADER = "  __parameters__ = []\n  __buffers__ = []\n  training : bool\n";
  private static final Map<String, PtSymbolBlock> MODULES = new ConcurrentHashMap<>();

  private NativeOps() {}

  private static PtSymbolBlock module(String name, String forward) {
    return MODULES.computeIfAbsent(name, n -> TorchScript.load(n, "class " + n + "(Module):\n" + HEADER
        + forward));
  }

  /** A TorchScript float literal for {@code v} (exact: Java's shortest round-trip digits). */
  static String literal(double v) {
    return Double.toString(v).toLowerCase(Locale.ROOT);
  }

  /**
   * {@code torch.group_norm(x, groups, γ, β, ε)} (Wu &amp; He 2018, eq. 1–3): one fused kernel forward and
   * backward, differentiable in x, γ and β inside a gradient collector.
   */
  public static NDArray groupNorm(NDArray x, int groups, NDArray gamma, NDArray beta, double eps) {
    String name = "GroupNorm_" + groups + "_" + Long.toHexString(Double.doubleToLongBits(eps));
    PtSymbolBlock m = MODULES.get(name);
    if (m == null) {
      m = module(name, "  def forward(self: __torch__." + name + ", x: Tensor, gamma: Tensor, "
          + "beta: Tensor) -> Tensor:\n    return torch.group_norm(x, " + groups + ", gamma, beta, " + literal(eps)
          + ", False)\n");
    }
    return call3(m, x, gamma, beta);
  }

  /**
   * {@code torch.silu(torch.group_norm(x, groups, γ, β, ε))}: the normalise-then-activate of every DDPM++ and
   * diffusers residual block in one TorchScript call instead of two (a call costs about 30 µs on a 2-core Zen 3
   * whatever the tensor's size; 35 of a U-Net forward's 41 group norms are followed by SiLU). The same kernels
   * in the same order as {@link #groupNorm} then {@link #silu}, so the same numbers.
   */
  public static NDArray groupNormSilu(NDArray x, int groups, NDArray gamma, NDArray beta, double eps) {
    String name = "GroupNormSilu_" + groups + "_" + Long.toHexString(Double.doubleToLongBits(eps));
    PtSymbolBlock m = MODULES.get(name);
    if (m == null) {
      m = module(name, "  def forward(self: __torch__." + name + ", x: Tensor, gamma: Tensor, "
          + "beta: Tensor) -> Tensor:\n    return torch.silu(torch.group_norm(x, " + groups + ", gamma, beta, "
          + literal(eps) + ", False))\n");
    }
    return call3(m, x, gamma, beta);
  }

  private static NDArray call3(PtSymbolBlock m, NDArray x, NDArray gamma, NDArray beta) {
    NDArray xa = single(x);
    NDArray ga = single(gamma);
    NDArray ba = single(beta);
    try {
      return TorchScript.call(m, new NDList(xa, ga, ba)).singletonOrThrow();
    } finally {
      closeAlias(xa, x);
      closeAlias(ga, gamma);
      closeAlias(ba, beta);
    }
  }

  /**
   * {@code torch.silu(x) = x·sigmoid(x)} (Elfwing et al. 2018): one fused kernel forward and one backward,
   * differentiable inside a gradient collector, instead of a sigmoid, a product and their two backwards.
   */
  public static NDArray silu(NDArray x) {
    PtSymbolBlock m = module("Silu", "  def forward(self: __torch__.Silu, x: Tensor) -> Tensor:\n"
        + "    return torch.silu(x)\n");
    NDArray xa = single(x);
    try {
      return TorchScript.call(m, new NDList(xa)).singletonOrThrow();
    } finally {
      closeAlias(xa, x);
    }
  }

  /**
   * One AdamW step of every tensor in place, {@code torch._fused_adamw_} (Loshchilov &amp; Hutter 2019; the
   * update of {@code torch.optim.AdamW(fused=True)}): {@code w ← w(1 − lr·wd)}, {@code m ← β1 m + (1−β1) g},
   * {@code v ← β2 v + (1−β2) g²}, {@code w ← w − (lr/(1−β1^t))·m/(sqrt(v)/sqrt(1−β2^t) + ε)}.
   * Call with grad mode off (outside a gradient collector).
   */
  public static void adamw(List<NDArray> params, List<NDArray> grads, List<NDArray> m, List<NDArray> v, long step,
      double lr, double beta1, double beta2, double eps, double weightDecay) {
    PtSymbolBlock mod = module("FusedAdamW", "  def forward(self: __torch__.FusedAdamW, params: List[Tensor], "
        + "grads: List[Tensor], m: List[Tensor], v: List[Tensor], hp: Tensor) -> Tensor:\n"
        + "    step = torch.to(hp[0:1], 6)\n"
        + "    steps = [step for _ in range(len(params))]\n"
        + "    none = annotate(List[Tensor], [])\n"
        + "    torch._fused_adamw_(params, grads, m, v, none, steps, lr=float(hp[1]), beta1=float(hp[2]), "
        + "beta2=float(hp[3]), weight_decay=float(hp[4]), eps=float(hp[5]), amsgrad=False, maximize=False)\n"
        + "    return step\n");
    NDArray first = params.get(0);
    NDArray hp = first.getManager().create(new double[] {step, lr, beta1, beta2, weightDecay, eps});
    NDList in = new NDList();
    in.addAll(list("params", params));
    in.addAll(list("grads", grads));
    in.addAll(list("m", m));
    in.addAll(list("v", v));
    in.add(hp);
    run(mod, in);
  }

  /** {@code t ← t + w(s − t)} for every pair, in place ({@code torch._foreach_lerp_}). */
  public static void lerp(List<NDArray> targets, List<NDArray> sources, double weight) {
    PtSymbolBlock mod = module("ForeachLerp", "  def forward(self: __torch__.ForeachLerp, t: List[Tensor], "
        + "s: List[Tensor], w: Tensor) -> Tensor:\n    torch._foreach_lerp_(t, s, float(w))\n    return w\n");
    NDList in = new NDList();
    in.addAll(list("t", targets));
    in.addAll(list("s", sources));
    in.add(targets.get(0).getManager().create(weight));
    run(mod, in);
  }

  /**
   * {@code t ← c·t} for every tensor, in place ({@code torch._foreach_mul_}): one call where a loop of
   * {@code Scalars.muli} made four native calls per tensor (gradient clipping, about 130 tensors in the MNIST
   * U-Net). The same numbers: c is rounded to each tensor's dtype as a 0-d operand would be. Call with grad
   * mode off.
   */
  public static void scale(List<NDArray> tensors, double c) {
    PtSymbolBlock mod = module("ForeachMul", "  def forward(self: __torch__.ForeachMul, t: List[Tensor], "
        + "c: Tensor) -> Tensor:\n    torch._foreach_mul_(t, float(c))\n    return c\n");
    NDList in = list("t", tensors);
    in.add(tensors.get(0).getManager().create(c));
    run(mod, in);
  }

  /** Every tensor set to zero in place ({@code torch._foreach_zero_}; 0 replaces NaN and ±∞ too). */
  public static void zero(List<NDArray> tensors) {
    PtSymbolBlock mod = module("ForeachZero", "  def forward(self: __torch__.ForeachZero, t: List[Tensor], "
        + "dummy: Tensor) -> Tensor:\n    torch._foreach_zero_(t)\n    return dummy\n");
    NDList in = list("t", tensors);
    in.add(tensors.get(0).getManager().create(0f));
    run(mod, in);
  }

  /**
   * {@code Σ_i ‖t_i‖²} over the list: each tensor's L2 norm by {@code torch._foreach_norm}, squared and
   * summed in float64. NaN or ±∞ anywhere makes the result non-finite.
   */
  public static double sumOfSquares(List<NDArray> tensors) {
    PtSymbolBlock mod = module("ForeachNormSq", "  def forward(self: __torch__.ForeachNormSq, t: List[Tensor], "
        + "dummy: Tensor) -> Tensor:\n    n = torch._foreach_norm(t, 2.0)\n"
        + "    return torch.sum(torch.square(torch.to(torch.stack(n), 7)))\n");
    NDList in = list("t", tensors);
    in.add(tensors.get(0).getManager().create(0f));
    NDList out = TorchScript.call(mod, in);
    try {
      return out.singletonOrThrow().getDouble();
    } finally {
      out.close();
      in.close();
    }
  }

  private static void run(PtSymbolBlock mod, NDList in) {
    NDList out = TorchScript.call(mod, in);
    out.close();
    in.close();
  }

  /**
   * {@code a} as one tensor argument: itself when its name means nothing to DJL's {@code IValueUtils} (which
   * reads list, tuple and dict structure from names with {@code .}, {@code [} or {@code (}, and a method from
   * {@code module_method:}), else a fresh unnamed alias (a view), which the caller closes after the call — the
   * graph keeps what the backward needs. Parameters are named ("gamma"), op results not; skipping the alias
   * saves a reshape and a close per argument (three per group norm, 41 group norms per U-Net forward).
   */
  static NDArray single(NDArray a) {
    String name = a.getName();
    boolean structural = name != null && (name.indexOf('.') >= 0 || name.indexOf('[') >= 0 || name.indexOf('(') >= 0
        || name.startsWith("module_method:"));
    return structural ? a.reshape(a.getShape()) : a;
  }

  private static void closeAlias(NDArray alias, NDArray of) {
    if (alias != of) {
      alias.close();
    }
  }

  /** Unnamed-to-named aliases of the handles, forming one TorchScript list argument {@code name[]}. */
  static NDList list(String name, List<NDArray> arrays) {
    NDList out = new NDList(arrays.size());
    for (NDArray a : arrays) {
      NDArray alias = a.reshape(a.getShape());
      alias.setName(name + "[]");
      out.add(alias);
    }
    return out;
  }
}
