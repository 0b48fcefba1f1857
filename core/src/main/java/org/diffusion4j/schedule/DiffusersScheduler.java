package org.diffusion4j.schedule;

import ai.djl.ndarray.NDArray;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.io.JsonText;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.ode.Ddim;
import org.diffusion4j.sampling.ode.Deis;
import org.diffusion4j.sampling.ode.Dpm2;
import org.diffusion4j.sampling.ode.DpmSolverMultistep;
import org.diffusion4j.sampling.ode.DpmSolverSinglestep;
import org.diffusion4j.sampling.ode.Euler;
import org.diffusion4j.sampling.ode.Heun;
import org.diffusion4j.sampling.ode.Lms;
import org.diffusion4j.sampling.ode.Pndm;
import org.diffusion4j.sampling.ode.UniPc;
import org.diffusion4j.sampling.sde.DdpmAncestral;
import org.diffusion4j.sampling.sde.EulerAncestral;

/**
 * A diffusers {@code scheduler_config.json} as the process, grid and sampler it describes: the discrete DDPM
 * process of its β's ({@link DiscreteDdpm}, Ho et al. 2020), the noise levels of its {@code set_timesteps}
 * (timestep spacing "linspace"/"leading"/"trailing" of Lin et al. 2024 Table 2, Karras et al. 2022 eq. 5
 * σ's) and the sampler of its {@code step}. Every option of the config is honoured or refused with an
 * error naming it.
 *
 * <p>Conventions: the denoiser is D(x̂; σ) whatever the config's {@code prediction_type} (that option
 * describes how a network's output becomes D, which is the model's business). The initial state in
 * process coordinates is {@link #initialScale()}·z for z ~ N(0, I), as diffusers' {@code init_noise_sigma}
 * prescribes. DDIM's {@code eta} (an argument of diffusers' {@code step}) may be given in the config as
 * {@code "eta"}. When the config's schedule ends with a zero-length step (diffusers' Karras σ's ending at
 * σ_min), that no-op step is left out of the grid (its order still counts for the order schedule).
 *
 * @param className the config's {@code _class_name}
 * @param process the process of its β's
 * @param grid the noise levels its steps visit
 * @param timesteps diffusers' {@code timesteps} (one per model evaluation of a first-order step)
 * @param modelTimesteps the timesteps of the model calls as diffusers lists them ({@code scheduler.timesteps}):
 *     for PNDM with its repeated entries and the Runge–Kutta half steps; for the other classes {@code timesteps}
 * @param sampler the sampler of its {@code step}
 * @param initialScale the factor of N(0, I) giving the initial state in process coordinates
 * @param predictionType the config's {@code prediction_type}
 * @param clipRange {@code clip_sample_range} when {@code clip_sample} is on (DDPM), else NaN
 * @param thresholdRatio {@code dynamic_thresholding_ratio} when {@code thresholding} is on, else NaN
 * @param sampleMaxValue {@code sample_max_value} of the thresholding
 */
public record DiffusersScheduler(String className, DiscreteDdpm process, Grid grid, double[] timesteps,
    double[] modelTimesteps, Sampler sampler, double initialScale, String predictionType, double clipRange, double thresholdRatio,
    double sampleMaxValue) {

  /**
   * The denoiser the scheduler's {@code step} sees: {@code model}, its x0-prediction clipped to
   * ±clip_sample_range ({@code clip_sample}) or dynamically thresholded ({@code thresholding}: Saharia et al.
   * 2022, s = clamp(quantile_p |x0|, 1, sample_max_value), x0 ← clip(x0, −s, s)/s) — exact for these classes,
   * whose updates use only the thresholded x0 (or the ε recomputed from it).
   */
  public Denoiser denoiser(Denoiser model) {
    if (!Double.isNaN(thresholdRatio)) {
      return org.diffusion4j.guidance.Thresholding.dynamic(model, thresholdRatio, 1, sampleMaxValue);
    }
    if (!Double.isNaN(clipRange)) {
      return org.diffusion4j.guidance.Thresholding.clip(model, clipRange);
    }
    return model;
  }

  /** The scheduler classes read. */
  public static final List<String> CLASSES = List.of("DDPMScheduler", "DDIMScheduler", "DPMSolverMultistepScheduler",
      "DPMSolverSinglestepScheduler", "DEISMultistepScheduler", "UniPCMultistepScheduler", "EulerDiscreteScheduler",
      "EulerAncestralDiscreteScheduler", "HeunDiscreteScheduler", "KDPM2DiscreteScheduler", "LMSDiscreteScheduler",
      "PNDMScheduler");

  /** The classes whose {@code step} thresholds the x0-prediction when {@code thresholding} is on. */
  private static final Set<String> THRESHOLDING = Set.of("DDPMScheduler", "DPMSolverMultistepScheduler",
      "DPMSolverSinglestepScheduler", "DEISMultistepScheduler", "UniPCMultistepScheduler");

  private static final Set<String> META = Set.of("_class_name", "_diffusers_version", "_name_or_path");

  /** Reads a config file's text ({@code source} names it in errors) for {@code steps} inference steps. */
  public static DiffusersScheduler fromJson(String json, String source, int steps) {
    JsonElement e = JsonText.parse(json, source);
    if (!e.isJsonObject()) {
      throw new IllegalArgumentException(source + ": a scheduler config must be a JSON object");
    }
    return of(e.getAsJsonObject(), source, steps);
  }

  /** Builds from a parsed config. */
  public static DiffusersScheduler of(JsonObject config, String source, int steps) {
    Options o = new Options(config, source);
    String cls = o.string("_class_name", null);
    if (cls == null) {
      throw new IllegalArgumentException(source + ": the scheduler config has no _class_name; accepted: " + CLASSES);
    }
    if (!CLASSES.contains(cls)) {
      throw new IllegalArgumentException(source + ": scheduler class '" + cls + "' is not supported; accepted: "
          + String.join(", ", CLASSES));
    }
    if (steps < 1) {
      throw new IllegalArgumentException("steps must be >= 1, got " + steps);
    }
    boolean kdiffusion = cls.startsWith("Euler") || cls.startsWith("Heun") || cls.startsWith("KDPM2")
        || cls.startsWith("LMS");
    boolean heunLike = cls.startsWith("Heun") || cls.startsWith("KDPM2");
    int n = o.integer("num_train_timesteps", 1000);
    DiscreteDdpm process = betas(o, n, heunLike ? 0.00085 : 0.0001, heunLike ? 0.012 : 0.02);
    if (o.bool("rescale_betas_zero_snr", false)) {
      throw new IllegalArgumentException(source + ": rescale_betas_zero_snr=true is not supported (σ = ∞ at the "
          + "last training timestep)");
    }
    String prediction = o.choice("prediction_type", "epsilon", "epsilon", "v_prediction", "sample");
    if (cls.equals("PNDMScheduler") && prediction.equals("sample")) {
      throw new IllegalArgumentException(source + ": prediction_type=\"sample\" is not supported for " + cls
          + " (its step takes epsilon or v_prediction)");
    }
    // Thresholding and clipping act on the x0-prediction; a Thresholding decorator of the denoiser reproduces
    // them where the step uses only that x0 (or the ε recomputed from it). DDIM keeps the unclipped ε.
    boolean thresholds = THRESHOLDING.contains(cls);
    boolean thresholding = o.bool("thresholding", false);
    double ratio = o.number("dynamic_thresholding_ratio", 0.995);
    double sampleMax = o.number("sample_max_value", 1.0);
    if (thresholding && !thresholds) {
      throw new IllegalArgumentException(source + ": thresholding=true is not supported for " + cls
          + (cls.equals("DDIMScheduler") ? " (its step keeps the unthresholded ε)" : "") + "; use --threshold");
    }
    boolean clipDefault = cls.equals("DDIMScheduler") || cls.equals("DDPMScheduler");
    boolean clip = o.bool("clip_sample", clipDefault);
    double clipRange = o.number("clip_sample_range", 1.0);
    if (clip && !cls.equals("DDPMScheduler")) {
      throw new IllegalArgumentException(source + ": clip_sample=true is not supported for " + cls
          + (cls.equals("DDIMScheduler") ? " (its step keeps the unclipped ε; it is DDIMScheduler's default: set "
          + "\"clip_sample\": false)" : ""));
    }
    if (thresholding && !(ratio > 0 && ratio <= 1)) {
      throw new IllegalArgumentException(source + ": dynamic_thresholding_ratio must be in (0, 1], got " + ratio);
    }
    if (thresholding && !(sampleMax >= 1) || clip && !(clipRange > 0)) {
      throw new IllegalArgumentException(source + ": sample_max_value must be >= 1 and clip_sample_range > 0, got "
          + sampleMax + " and " + clipRange);
    }
    String spacing = o.choice("timestep_spacing", cls.equals("DDIMScheduler") || cls.equals("DDPMScheduler")
        || cls.equals("PNDMScheduler") ? "leading" : "linspace", "linspace", "leading", "trailing");
    int offset = o.integer("steps_offset", 0);
    o.refuseUnless("use_lu_lambdas", false);
    o.refuseUnless("use_exponential_sigmas", false);
    o.refuseUnless("use_beta_sigmas", false);
    double[] table = process.sigmas();
    Result r = switch (cls) {
      case "DDIMScheduler", "DDPMScheduler" -> ddim(o, cls, process, table, steps, spacing, offset);
      case "PNDMScheduler" -> pndm(o, process, table, steps, spacing, offset, prediction.equals("v_prediction"));
      case "DPMSolverMultistepScheduler", "DPMSolverSinglestepScheduler", "DEISMultistepScheduler",
          "UniPCMultistepScheduler" ->
          multistep(o, cls, process, table, steps, spacing, offset);
      default -> kdiffusion(o, cls, process, table, steps, spacing, offset);
    };
    o.finish(cls);
    double scale = 1;
    if (kdiffusion) {
      double smax = r.grid.sigma(0);
      double init = spacing.equals("leading") ? Math.sqrt(smax * smax + 1) : smax;
      scale = r.grid.s(0) * init;
    }
    return new DiffusersScheduler(cls, process, r.grid, r.timesteps, r.modelTimesteps, r.sampler, scale, prediction,
        clip && !thresholding ? clipRange : Double.NaN, thresholding ? ratio : Double.NaN, sampleMax);
  }

  /** The initial state in process coordinates from standard normal {@code z}: {@code initialScale·z}. */
  public NDArray initial(NDArray z) {
    return z.mul(initialScale);
  }

  /** Runs the sampler on the grid from standard normal latents {@code z}. */
  public NDArray sample(Denoiser model, NDArray z, NoiseSource noise) {
    try (NDArray x = initial(z)) {
      return sampler.run(denoiser(model), grid, x, noise, StepListener.NONE);
    }
  }

  private record Result(Grid grid, double[] timesteps, double[] modelTimesteps, Sampler sampler) {
    Result(Grid grid, double[] timesteps, Sampler sampler) {
      this(grid, timesteps, timesteps, sampler);
    }
  }

  private static DiscreteDdpm betas(Options o, int n, double start, double end) {
    double bs = o.number("beta_start", start);
    double be = o.number("beta_end", end);
    String schedule = o.string("beta_schedule", "linear");
    JsonElement trained = o.raw("trained_betas");
    if (trained != null && !trained.isJsonNull()) {
      if (!trained.isJsonArray()) {
        throw new IllegalArgumentException(o.source + ": trained_betas must be an array of numbers");
      }
      JsonArray a = trained.getAsJsonArray();
      double[] b = new double[a.size()];
      for (int i = 0; i < b.length; i++) {
        b[i] = a.get(i).getAsDouble();
      }
      return new DiscreteDdpm(b, "trained");
    }
    return DiscreteDdpm.of(n, schedule, bs, be);
  }

  private static double interp(double[] table, double t) {
    if (t <= 0) {
      return table[0];
    }
    if (t >= table.length - 1) {
      return table[table.length - 1];
    }
    int lo = (int) Math.floor(t);
    double w = t - lo;
    return lo + 1 < table.length ? table[lo] + w * (table[lo + 1] - table[lo]) : table[lo];
  }

  /** numpy's {@code linspace(start, stop, num)}. */
  private static double[] linspace(double start, double stop, int num) {
    double[] v = new double[num];
    double step = num > 1 ? (stop - start) / (num - 1) : 0;
    for (int i = 0; i < num; i++) {
      v[i] = start + i * step;
    }
    if (num > 1) {
      v[num - 1] = stop;
    }
    return v;
  }

  /** numpy's {@code arange(start, 0, -step)} for step &gt; 0. */
  private static double[] arangeDown(double start, double step) {
    int count = (int) Math.ceil((0.0 - start) / -step);
    double[] v = new double[count];
    for (int i = 0; i < count; i++) {
      v[i] = start + i * -step;
    }
    return v;
  }

  private static double[] reversed(double[] v) {
    double[] r = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      r[i] = v[v.length - 1 - i];
    }
    return r;
  }

  /** Karras et al. 2022 eq. 5 with ρ = 7 from σ_max to σ_min in {@code n} points. */
  private static double[] karras(double sigmaMin, double sigmaMax, int n) {
    double[] ramp = linspace(0, 1, n);
    double a = Math.pow(sigmaMax, 1 / 7.0);
    double b = Math.pow(sigmaMin, 1 / 7.0);
    double[] s = new double[n];
    for (int i = 0; i < n; i++) {
      s[i] = Math.pow(a + ramp[i] * (b - a), 7);
    }
    return s;
  }

  private static Result ddim(Options o, String cls, DiscreteDdpm process, double[] table, int steps, String spacing,
      int offset) {
    int n = table.length;
    if (steps > n) {
      throw new IllegalArgumentException("steps (" + steps + ") must not exceed num_train_timesteps (" + n + ")");
    }
    int ratio = n / steps;
    double[] ts;
    switch (spacing) {
      case "linspace" -> {
        ts = reversed(linspace(0, n - 1, steps));
        for (int i = 0; i < ts.length; i++) {
          ts[i] = Math.rint(ts[i]);
        }
      }
      case "leading" -> {
        ts = new double[steps];
        for (int i = 0; i < steps; i++) {
          ts[i] = (double) (steps - 1 - i) * ratio + offset;
        }
      }
      default -> {
        ts = arangeDown(n, (double) n / steps);
        for (int i = 0; i < ts.length; i++) {
          ts[i] = Math.rint(ts[i]) - 1;
        }
      }
    }
    boolean ddpm = cls.equals("DDPMScheduler");
    boolean alphaToOne = ddpm || o.bool("set_alpha_to_one", true);
    double eta = ddpm ? 1 : o.number("eta", 0);
    String variance = ddpm ? o.choice("variance_type", "fixed_small", "fixed_small", "fixed_large") : null;
    double[] sg = new double[ts.length + 1];
    for (int i = 0; i < ts.length; i++) {
      sg[i] = table[(int) ts[i]];
      double prev = ts[i] - ratio;
      if (i + 1 < ts.length && prev != ts[i + 1]) {
        throw new IllegalArgumentException(cls + " with timestep_spacing=" + spacing + " and " + steps
            + " steps is not supported: its previous timestep t - " + ratio + " = " + (long) prev
            + " is not the next timestep " + (long) ts[i + 1]);
      }
      if (i + 1 == ts.length) {
        sg[i + 1] = prev >= 0 ? table[(int) prev] : alphaToOne ? 0 : table[0];
        if (ddpm && variance.equals("fixed_large") && ts[i] > 0) {
          throw new IllegalArgumentException(cls + ": variance_type=\"fixed_large\" with a last timestep of "
              + (long) ts[i] + " > 0 is not supported (diffusers adds noise of variance β on that final step)");
        }
      }
    }
    Sampler s = ddpm ? new DdpmAncestral(variance.equals("fixed_small") ? DdpmAncestral.Variance.SMALL
        : DdpmAncestral.Variance.LARGE) : new Ddim(eta);
    return new Result(Grid.ofSigmas(process, sg), ts, s);
  }

  private static Result multistep(Options o, String cls, DiscreteDdpm process, double[] table, int steps,
      String spacing, int offset) {
    int n = table.length;
    int order = o.integer("solver_order", 2);
    boolean lof = o.bool("lower_order_final", true);
    boolean karras = o.bool("use_karras_sigmas", false);
    String finalSigmas = o.choice("final_sigmas_type", "sigma_min", "sigma_min", "zero");
    int last = n;
    Sampler sampler;
    DpmSolverMultistep dpm = null;
    switch (cls) {
      case "DPMSolverMultistepScheduler", "DPMSolverSinglestepScheduler" -> {
        String alg = o.choice("algorithm_type", "dpmsolver++", "dpmsolver++", "dpmsolver");
        String type = o.choice("solver_type", "midpoint", "midpoint", "heun");
        boolean single = cls.equals("DPMSolverSinglestepScheduler");
        boolean eaf = !single && o.bool("euler_at_final", false);
        if (single && (karras || !spacing.equals("linspace"))) {
          throw new IllegalArgumentException(cls + ": " + (karras ? "use_karras_sigmas=true" : "timestep_spacing="
              + spacing) + " is not supported");
        }
        o.refuseUnless("variance_type", null);
        double lambdaMin = o.number("lambda_min_clipped", Double.NEGATIVE_INFINITY);
        int clipped = 0; // entries of λ (ascending in reverse time) below λ_min
        for (int i = 0; i < n; i++) {
          if (-Math.log(table[i]) < lambdaMin) {
            clipped++;
          }
        }
        last = n - clipped;
        if (single) {
          sampler = new DpmSolverSinglestep(order, alg.equals("dpmsolver++"), type.equals("heun"), lof);
        } else {
          dpm = new DpmSolverMultistep(order, alg.equals("dpmsolver++"), type.equals("heun"), lof, eaf);
          sampler = dpm;
        }
      }
      case "DEISMultistepScheduler" -> {
        o.choice("algorithm_type", "deis", "deis");
        o.choice("solver_type", "logrho", "logrho");
        if (karras) {
          throw new IllegalArgumentException(cls + ": use_karras_sigmas=true is not supported");
        }
        if (!lof) {
          throw new IllegalArgumentException(cls + ": lower_order_final=false is not supported");
        }
        sampler = new Deis(order, "logrho");
      }
      default -> {
        String type = o.choice("solver_type", "bh2", "bh1", "bh2");
        o.refuseUnless("predict_x0", true);
        o.refuseUnless("solver_p", null);
        JsonElement dc = o.raw("disable_corrector");
        List<Integer> disabled = new ArrayList<>();
        if (dc != null && !dc.isJsonNull()) {
          for (JsonElement x : dc.getAsJsonArray()) {
            disabled.add(x.getAsInt());
          }
        }
        if (karras) {
          throw new IllegalArgumentException(cls + ": use_karras_sigmas=true is not supported");
        }
        sampler = new UniPc(order, type, lof, true, disabled);
      }
    }
    if (order < 1 || order > 3) {
      throw new IllegalArgumentException(cls + ": solver_order must be 1, 2 or 3, got " + order);
    }
    if (!cls.equals("DPMSolverMultistepScheduler") && finalSigmas.equals("zero")) {
      throw new IllegalArgumentException(cls + ": final_sigmas_type=\"zero\" is not supported (only "
          + "DPMSolverMultistepScheduler's)");
    }
    double[] ts;
    switch (spacing) {
      case "linspace" -> {
        double[] v = linspace(0, last - 1, steps + 1);
        ts = new double[steps];
        for (int i = 0; i < steps; i++) {
          ts[i] = Math.rint(v[steps - i]);
        }
      }
      case "leading" -> {
        int ratio = last / (steps + 1);
        ts = new double[steps];
        for (int i = 0; i < steps; i++) {
          ts[i] = (double) (steps - i) * ratio + offset;
        }
      }
      default -> {
        ts = arangeDown(last, (double) n / steps);
        for (int i = 0; i < ts.length; i++) {
          ts[i] = Math.rint(ts[i]) - 1;
        }
      }
    }
    double[] sg;
    if (karras) {
      double[] k = karras(table[0], table[n - 1], steps);
      sg = Arrays.copyOf(k, steps + 1);
      sg[steps] = finalSigmas.equals("zero") ? 0 : k[steps - 1];
      ts = new double[steps];
      for (int i = 0; i < steps; i++) {
        ts[i] = Math.rint(process.sigmaInv(k[i]));
      }
    } else {
      sg = new double[ts.length + 1];
      for (int i = 0; i < ts.length; i++) {
        sg[i] = interp(table, ts[i]);
      }
      sg[ts.length] = finalSigmas.equals("zero") ? 0 : table[0];
    }
    if (sg[sg.length - 1] == sg[sg.length - 2] && dpm != null) {
      // diffusers' final zero-length step is a no-op: leave it out, keep the order schedule of all steps.
      int[] orders = dpm.orders(sg.length - 1);
      sampler = new Scheduled(dpm, orders);
      sg = Arrays.copyOf(sg, sg.length - 1);
    }
    return new Result(Grid.ofSigmas(process, sg), ts, sampler);
  }

  private static Result kdiffusion(Options o, String cls, DiscreteDdpm process, double[] table, int steps,
      String spacing, int offset) {
    int n = table.length;
    boolean karras = o.bool("use_karras_sigmas", false);
    if (cls.equals("EulerDiscreteScheduler")) {
      o.choice("interpolation_type", "linear", "linear");
      o.choice("timestep_type", "discrete", "discrete");
      o.refuseUnless("sigma_min", null);
      o.refuseUnless("sigma_max", null);
    }
    double[] ts;
    switch (spacing) {
      case "linspace" -> {
        ts = reversed(linspace(0, n - 1, steps));
        for (int i = 0; i < ts.length; i++) {
          ts[i] = (float) ts[i];
        }
      }
      case "leading" -> {
        int ratio = n / steps;
        ts = new double[steps];
        for (int i = 0; i < steps; i++) {
          ts[i] = (double) (steps - 1 - i) * ratio + offset;
        }
      }
      default -> {
        ts = arangeDown(n, (double) n / steps);
        for (int i = 0; i < ts.length; i++) {
          ts[i] = Math.rint(ts[i]) - 1;
        }
      }
    }
    double[] sg = new double[ts.length + 1];
    for (int i = 0; i < ts.length; i++) {
      sg[i] = interp(table, ts[i]);
    }
    if (karras) {
      double[] k = karras(sg[ts.length - 1], sg[0], ts.length);
      System.arraycopy(k, 0, sg, 0, k.length);
      for (int i = 0; i < ts.length; i++) {
        ts[i] = process.sigmaInv(k[i]);
      }
    }
    sg[ts.length] = 0;
    Sampler s = switch (cls) {
      case "EulerDiscreteScheduler" -> new Euler();
      case "EulerAncestralDiscreteScheduler" -> new EulerAncestral(1, 1);
      case "HeunDiscreteScheduler" -> {
        yield new Heun();
      }
      case "KDPM2DiscreteScheduler" -> new Dpm2();
      default -> new Lms(4);
    };
    return new Result(Grid.ofSigmas(process, sg), ts, s);
  }

  /**
   * diffusers' {@code PNDMScheduler} (Liu et al. 2022): its {@code set_timesteps} and the (label, timestep,
   * prev_timestep) of each {@code step_prk}/{@code step_plms} call, as a {@link Pndm} plan. Its "previous
   * timestep" is always t − N/steps (and t − N/steps/2 for the Runge–Kutta half steps); where that is not the
   * next timestep (linspace, trailing at step counts not dividing N) diffusers reads the state as x at the next
   * timestep, and so does the plan. A last step from timestep 0 to ᾱ_0 ({@code set_alpha_to_one} false) leaves
   * x unchanged and is left out of grid and plan. With {@code prediction_type="v_prediction"} diffusers combines
   * the network's v outputs across calls and converts the combination to ε with the transferred state (see
   * {@link Pndm#run(Denoiser, Grid, NDArray, StepListener, List, boolean)}); the plan does the same.
   */
  private static Result pndm(Options o, DiscreteDdpm process, double[] table, int steps, String spacing,
      int offset, boolean velocity) {
    String cls = "PNDMScheduler";
    int n = table.length;
    if (steps > n) {
      throw new IllegalArgumentException(cls + ": steps (" + steps + ") must not exceed num_train_timesteps (" + n
          + ")");
    }
    boolean skipPrk = o.bool("skip_prk_steps", false);
    boolean alphaToOne = o.bool("set_alpha_to_one", false);
    if (!skipPrk && steps < 4) {
      throw new IllegalArgumentException(cls + ": skip_prk_steps=false needs at least 4 steps (its Runge-Kutta "
          + "warm-up takes the last 4 timesteps), got " + steps);
    }
    int ratio = n / steps;
    int half = ratio / 2;
    long[] asc = new long[steps]; // diffusers' _timesteps, ascending
    switch (spacing) {
      case "linspace" -> {
        double[] v = linspace(0, n - 1, steps);
        for (int i = 0; i < steps; i++) {
          asc[i] = (long) Math.rint(v[i]);
        }
      }
      case "leading" -> {
        for (int i = 0; i < steps; i++) {
          asc[i] = (long) i * ratio + offset;
        }
      }
      default -> {
        double[] v = arangeDown(n, (double) n / steps);
        for (int i = 0; i < steps; i++) {
          asc[i] = (long) Math.rint(v[steps - 1 - i]) - 1;
        }
      }
    }
    if (asc[0] < 0 || asc[steps - 1] > n - 1) {
      throw new IllegalArgumentException(cls + ": steps_offset=" + offset + " puts timesteps outside [0, " + (n - 1)
          + "] (" + asc[0] + " .. " + asc[steps - 1] + ")");
    }
    Pndm.Point last = alphaToOne ? new Pndm.Point(0, 1) : point(table, 0);
    java.util.function.LongFunction<Pndm.Point> at = t -> {
      if (t > n - 1) {
        throw new IllegalArgumentException(cls + " with timestep_spacing=" + spacing + " and " + steps + " steps is "
            + "not supported: its step reaches timestep " + t + " > " + (n - 1));
      }
      return t >= 0 ? point(table, (int) t) : last;
    };
    List<Pndm.Call> plan = new ArrayList<>();
    List<Long> model = new ArrayList<>();
    if (skipPrk) {
      // plms_timesteps = [t_{S-1}, t_{S-2}, t_{S-2}, t_{S-3}, …, t_0]
      List<Long> plms = new ArrayList<>();
      for (int i = steps - 1; i >= 0; i--) {
        plms.add(asc[i]);
        if (i == steps - 2) {
          plms.add(asc[i]);
        }
      }
      for (int k = 0; k < plms.size(); k++) {
        long t = plms.get(k);
        model.add(t);
        if (k == 0) {
          plan.add(new Pndm.Call(Pndm.Kind.START, at.apply(t), at.apply(t), at.apply(t - ratio), steps == 1 ? 0 : -1));
        } else if (k == 1) {
          plan.add(new Pndm.Call(Pndm.Kind.HEUN, at.apply(t), at.apply(t + ratio), at.apply(t), 0));
        } else {
          plan.add(new Pndm.Call(Pndm.Kind.PLMS, at.apply(t), at.apply(t), at.apply(t - ratio), k - 1));
        }
      }
    } else {
      // prk_timesteps = [d, c+h, c+h, c, c, b+h, b+h, b, b, a+h, a+h, a] for the last four timesteps a < b < c < d
      long[] prk = new long[12];
      int j = 0;
      for (int i = steps - 1; i >= steps - 3; i--) {
        prk[j++] = asc[i];
        prk[j++] = asc[i - 1] + half;
        prk[j++] = asc[i - 1] + half;
        prk[j++] = asc[i - 1];
      }
      Pndm.Kind[] kinds = {Pndm.Kind.RK1, Pndm.Kind.RK2, Pndm.Kind.RK3, Pndm.Kind.RK4};
      for (int k = 0; k < 12; k++) {
        long t = prk[k];
        model.add(t);
        long prev = t - (k % 2 == 1 ? 0 : half);
        plan.add(new Pndm.Call(kinds[k % 4], at.apply(t), at.apply(prk[k / 4 * 4]), at.apply(prev),
            k % 4 == 3 ? k / 4 : -1));
      }
      for (int i = steps - 4; i >= 0; i--) {
        long t = asc[i];
        model.add(t);
        plan.add(new Pndm.Call(Pndm.Kind.PLMS, at.apply(t), at.apply(t), at.apply(t - ratio), steps - 1 - i));
      }
    }
    double[] sg = new double[steps + 1];
    double[] ts = new double[steps];
    for (int i = 0; i < steps; i++) {
      ts[i] = asc[steps - 1 - i];
      sg[i] = table[(int) ts[i]];
    }
    sg[steps] = last.sigma();
    Pndm.Call end = plan.get(plan.size() - 1);
    if (end.from().sigma() == end.to().sigma()) {
      // from timestep 0 to ᾱ_0: x is unchanged
      if (steps == 1) {
        throw new IllegalArgumentException(cls + ": 1 step from timestep 0 with set_alpha_to_one=false leaves the "
            + "state unchanged (it ends at ᾱ_0 = ᾱ(t = 0)); take more steps, a steps_offset or set_alpha_to_one=true");
      }
      plan.remove(plan.size() - 1);
      sg = Arrays.copyOf(sg, steps);
      ts = Arrays.copyOf(ts, steps - 1);
    }
    double[] calls = new double[model.size()];
    for (int i = 0; i < calls.length; i++) {
      calls[i] = model.get(i);
    }
    Grid grid = Grid.ofSigmas(process, sg);
    return new Result(grid, ts, calls, new Planned(new Pndm(!skipPrk), List.copyOf(plan), velocity, grid.sigmas()));
  }

  private static Pndm.Point point(double[] table, int t) {
    double sg = table[t];
    return new Pndm.Point(sg, 1 / Math.sqrt(1 + sg * sg));
  }

  /** A PNDM run with diffusers' own plan on the scheduler's grid. */
  private record Planned(Pndm solver, List<Pndm.Call> plan, boolean velocity, double[] sigmas) implements Sampler {
    @Override
    public String id() {
      return solver.id();
    }

    @Override
    public NDArray run(Denoiser model, Grid grid, NDArray x, NoiseSource noise, StepListener listener) {
      if (!Arrays.equals(grid.sigmas(), sigmas)) {
        throw new IllegalArgumentException("this PNDMScheduler run follows its config's own timesteps; it was given "
            + "another grid " + grid);
      }
      return Pndm.run(model, grid, x, listener, plan, velocity);
    }
  }

  /** A multistep DPM-Solver run with the order schedule of a longer diffusers schedule. */
  private record Scheduled(DpmSolverMultistep solver, int[] orders) implements Sampler {
    @Override
    public String id() {
      return solver.id();
    }

    @Override
    public NDArray run(Denoiser model, Grid grid, NDArray x, NoiseSource noise, StepListener listener) {
      return solver.run(model, grid, x, listener, orders);
    }
  }

  /** The config's options; each read marks it handled, and {@link #finish} refuses the rest. */
  private static final class Options {
    private final Map<String, JsonElement> left = new LinkedHashMap<>();
    private final Map<String, JsonElement> all = new LinkedHashMap<>();
    private final String source;

    Options(JsonObject config, String source) {
      this.source = source;
      for (Map.Entry<String, JsonElement> e : config.entrySet()) {
        all.put(e.getKey(), e.getValue());
        if (!META.contains(e.getKey())) {
          left.put(e.getKey(), e.getValue());
        }
      }
    }

    JsonElement raw(String key) {
      left.remove(key);
      return all.get(key);
    }

    private JsonElement value(String key) {
      JsonElement v = raw(key);
      return v == null || v.isJsonNull() ? null : v;
    }

    String string(String key, String dflt) {
      JsonElement v = value(key);
      if (v == null) {
        return dflt;
      }
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
        throw new IllegalArgumentException(source + ": " + key + " must be a string, got " + v);
      }
      return v.getAsString();
    }

    String choice(String key, String dflt, String... accepted) {
      String s = string(key, dflt);
      if (!Arrays.asList(accepted).contains(s)) {
        throw new IllegalArgumentException(source + ": " + key + "=\"" + s + "\" is not supported; accepted: "
            + String.join(", ", accepted));
      }
      return s;
    }

    double number(String key, double dflt) {
      JsonElement v = value(key);
      if (v == null) {
        return dflt;
      }
      if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isString()) {
        String s = v.getAsString();
        if (s.equals("-inf") || s.equals("-Infinity")) {
          return Double.NEGATIVE_INFINITY;
        }
      }
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
        throw new IllegalArgumentException(source + ": " + key + " must be a number, got " + v);
      }
      return v.getAsDouble();
    }

    int integer(String key, int dflt) {
      double d = number(key, dflt);
      if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(source + ": " + key + " must be an integer, got " + d);
      }
      return (int) d;
    }

    boolean bool(String key, boolean dflt) {
      JsonElement v = value(key);
      if (v == null) {
        return dflt;
      }
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isBoolean()) {
        throw new IllegalArgumentException(source + ": " + key + " must be true or false, got " + v);
      }
      return v.getAsBoolean();
    }

    /** Accepts the option only at {@code required} (null: absent or null). */
    void refuseUnless(String key, Object required) {
      JsonElement v = value(key);
      boolean ok = required == null ? v == null
          : v == null || (required instanceof Boolean b && v.isJsonPrimitive() && v.getAsJsonPrimitive().isBoolean()
              && v.getAsBoolean() == b);
      if (!ok) {
        throw new IllegalArgumentException(source + ": " + key + "=" + v + " is not supported"
            + (required == null ? "" : " (only " + required + ")"));
      }
    }

    void finish(String cls) {
      if (!left.isEmpty()) {
        throw new IllegalArgumentException(source + ": option" + (left.size() > 1 ? "s " : " ")
            + String.join(", ", left.keySet()) + " of " + cls + " not supported");
      }
    }
  }
}
