package org.diffusion4j.train.autodiff;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;

/**
 * The PyTorch side of {@link Jvp}'s double-backward method: grad mode, and a forward-over-reverse
 * Jacobian-vector product through {@code torch.autograd.grad}.
 *
 * <p>DJL 0.36 exposes reverse mode only as {@code Tensor.backward(grad, keep_graph, create_graph)}
 * ({@code JniUtils.backward}), which accumulates into the {@code .grad} of <em>every</em> leaf that
 * requires a gradient — the network's parameters included — and, with {@code create_graph}, stores a
 * graph-carrying gradient on the input leaf. That leaf then references its own gradient's graph,
 * which references the leaf's accumulator, which references the leaf: a reference cycle PyTorch
 * never frees (measured: ~10 MB of native memory lost per call on a 2-layer 256-wide tanh MLP,
 * batch 512, invisible to DJL's array count). {@code torch.autograd.grad} has neither problem: it
 * returns gradients with respect to the inputs it is given and writes no {@code .grad}. DJL has no
 * binding for it, but it runs TorchScript, and TorchScript has it; so this class builds, in memory,
 * a short TorchScript module (an archive in PyTorch's own serialization format: pickled module
 * object, TorchScript source, empty constants) and loads it through DJL's stream loader once.
 *
 * <p>The script computes, for y = F(x, t) built with grad mode on and a dummy cotangent u of y's
 * shape that requires grad,
 * <pre>
 *   (g_x, g_t) = autograd.grad(y, (x, t), u, create_graph)      = Jᵀu, linear in u
 *   J·(v, w)   = autograd.grad((g_x, g_t), u, (v, w))            = ∂/∂u ⟨Jᵀu, (v, w)⟩
 * </pre>
 * (the double-backward identity). Before that, y gains an exact zero, Σ 0·x + Σ 0·t, so that both
 * inputs are always used and y always has a graph: the script then takes one path for every F. An
 * earlier version let {@code allow_unused} gradients of ignored inputs come back as None and branched
 * on them; after a few such calls the module returned wrong U-Net tangents (all NaN with the graph
 * executor's optimiser on, O(1) errors with it off). With one path both are exact.
 * (Checking y in Java is no option: DJL's {@code JniUtils.requiresGrad} answers false for every
 * non-leaf tensor, graph or not.)
 */
final class TorchAutograd {
  /** The TorchScript source of the module's class {@code __torch__.Jvp}. */
  private static final String SOURCE = String.join("\n",
      "class Jvp(Module):",
      "  __parameters__ = []",
      "  __buffers__ = []",
      "  training : bool",
      "  def forward(self: __torch__.Jvp,",
      "    y: Tensor,",
      "    x: Tensor,",
      "    t: Tensor,",
      "    u: Tensor,",
      "    v: Tensor,",
      "    w: Tensor) -> Tensor:",
      "    z = torch.sum(torch.mul(x, 0.0)) + torch.sum(torch.mul(t, 0.0))",
      "    y = torch.add(y, z.to(y.dtype))",
      "    cotangent = annotate(List[Optional[Tensor]], [u])",
      "    g = torch.autograd.grad([y], [x, t], cotangent, True, True, False)",
      "    gx = g[0]",
      "    gt = g[1]",
      "    assert gx is not None",
      "    assert gt is not None",
      "    tangents = annotate(List[Optional[Tensor]], [v, w])",
      "    jv = torch.autograd.grad([gx, gt], [u], tangents, False, False, False)[0]",
      "    assert jv is not None",
      "    return jv",
      "");

  /**
   * The TorchScript source of {@code __torch__.Vjp}: g = (∂y/∂x)ᵀu with {@code create_graph}, so that g is
   * itself differentiable (in whatever y depends on — a network's parameters).
   */
  private static final String VJP_SOURCE = String.join("\n",
      "class Vjp(Module):",
      "  __parameters__ = []",
      "  __buffers__ = []",
      "  training : bool",
      "  def forward(self: __torch__.Vjp,",
      "    y: Tensor,",
      "    x: Tensor,",
      "    u: Tensor) -> Tensor:",
      "    z = torch.sum(torch.mul(x, 0.0))",
      "    y = torch.add(y, z.to(y.dtype))",
      "    cotangent = annotate(List[Optional[Tensor]], [u])",
      "    g = torch.autograd.grad([y], [x], cotangent, True, True, False)[0]",
      "    assert g is not None",
      "    return g",
      "");

  private static PtSymbolBlock module;
  private static PtSymbolBlock vjpModule;
  private static String unavailable;

  private TorchAutograd() {}

  /** Whether the double-backward method can run: the PyTorch engine is the default and the script loads. */
  static synchronized boolean available() {
    if (module == null && unavailable == null) {
      try {
        if (!org.diffusion4j.train.nn.TorchScript.available()) {
          unavailable = "the default DJL engine is " + ai.djl.engine.Engine.getInstance().getEngineName()
              + ", not PyTorch";
        } else {
          long handle = JniUtils.loadModuleHandle(new ByteArrayInputStream(archive()), Device.cpu(), true, false);
          long vjp = JniUtils.loadModuleHandle(new ByteArrayInputStream(archive("Vjp", VJP_SOURCE)), Device.cpu(), true,
              false);
          // Managers of their own, never closed: the modules live as long as the process.
          vjpModule = new PtSymbolBlock((PtNDManager) ai.djl.engine.Engine.getInstance().newBaseManager(), vjp);
          module = new PtSymbolBlock((PtNDManager) ai.djl.engine.Engine.getInstance().newBaseManager(), handle);
        }
      } catch (IOException | RuntimeException | LinkageError e) {
        unavailable = "the TorchScript autograd module did not load: " + e;
      }
    }
    return module != null;
  }

  /** Why {@link #available()} is false (null while it is true or untried). */
  static synchronized String unavailableReason() {
    return unavailable;
  }

  static boolean isTorch(NDArray a) {
    return org.diffusion4j.train.nn.TorchScript.isTorch(a);
  }

  static boolean gradMode() {
    return JniUtils.isGradMode();
  }

  static void setGradMode(boolean on) {
    JniUtils.setGradMode(on);
  }

  /**
   * J·(v, w) for y = F(x, t), where x, t and u require grad and y was computed from x and t with grad
   * mode on. The result carries no graph; no {@code .grad} anywhere is touched.
   */
  static NDArray jvp(NDArray y, NDArray x, NDArray t, NDArray u, NDArray v, NDArray w) {
    if (!available()) {
      throw new UnsupportedOperationException("double-backward JVP unavailable: " + unavailableReason());
    }
    // Fresh, unnamed handles: DJL reads structure (lists, dicts) from array names of module inputs.
    NDArray yAlias = y.reshape(y.getShape());
    NDArray vAlias = v.stopGradient();
    NDArray wAlias = w.stopGradient();
    return IValueUtils.forward(module, new NDList(yAlias, x, t, u, vAlias, wAlias), true).singletonOrThrow();
  }

  /**
   * (∂y/∂x)ᵀu for y computed from x (which requires grad) with grad mode on; the result keeps its graph.
   */
  static NDArray vjpWithGraph(NDArray y, NDArray x, NDArray u) {
    if (!available()) {
      throw new UnsupportedOperationException("input gradients with a graph need the PyTorch engine: "
          + unavailableReason());
    }
    NDArray yAlias = y.reshape(y.getShape());
    NDArray uAlias = u.stopGradient();
    return IValueUtils.forward(vjpModule, new NDList(yAlias, x, uAlias), true).singletonOrThrow();
  }

  /** The Jvp module as a TorchScript archive: pickled object, source, empty constants, format version. */
  static byte[] archive() {
    return archive("Jvp", SOURCE);
  }

  /** Module {@code __torch__.<name>} of {@code source} as a TorchScript archive. */
  static byte[] archive(String name, String source) {
    return org.diffusion4j.train.nn.TorchScript.archive(name, source);
  }
}
