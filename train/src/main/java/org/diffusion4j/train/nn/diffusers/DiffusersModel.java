package org.diffusion4j.train.nn.diffusers;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.train.loop.Safetensors;

/**
 * A diffusers pixel-space model directory, already downloaded: {@code model_index.json}, {@code unet/} with
 * {@code config.json} and {@code diffusion_pytorch_model.safetensors} (or its {@code .fp16} variant), and
 * {@code scheduler/scheduler_config.json} — what {@code DDPMPipeline.save_pretrained} writes and the hub's
 * google/ddpm-* models hold. The {@code unet/} directory itself is accepted too, with the scheduler config
 * beside it, inside it, or given.
 */
public final class DiffusersModel implements AutoCloseable {
  /** The weights file names tried, in order. */
  public static final List<String> WEIGHTS = List.of("diffusion_pytorch_model.safetensors",
      "diffusion_pytorch_model.fp16.safetensors");

  private final Path unetDir;
  private final Path schedulerFile;
  private final SchedulerConfig scheduler;
  private final NDManager manager;
  private final UNet2DModel unet;
  private final Path weightsFile;

  private DiffusersModel(Path unetDir, Path schedulerFile, SchedulerConfig scheduler, NDManager manager,
      UNet2DModel unet, Path weightsFile) {
    this.unetDir = unetDir;
    this.schedulerFile = schedulerFile;
    this.scheduler = scheduler;
    this.manager = manager;
    this.unet = unet;
    this.weightsFile = weightsFile;
  }

  /** Whether {@code dir} looks like a diffusers model directory or its {@code unet/}. */
  public static boolean isModelDir(Path dir) {
    if (Files.isRegularFile(dir.resolve("model_index.json")) || Files.isRegularFile(dir.resolve("unet/config.json"))) {
      return true;
    }
    Path c = dir.resolve("config.json");
    try {
      if (!Files.isRegularFile(c)) {
        return false;
      }
      // A UNet2DModel config.json names its class at the top (a run of --net diffusers-unet2d nests one).
      com.google.gson.JsonElement e = com.google.gson.JsonParser.parseString(Files.readString(c, StandardCharsets.UTF_8));
      return e.isJsonObject() && e.getAsJsonObject().has("_class_name")
          && "UNet2DModel".equals(e.getAsJsonObject().get("_class_name").getAsString());
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Loads a model directory (or its {@code unet/}) with its own scheduler config. */
  public static DiffusersModel load(Path dir) throws IOException {
    return load(dir, null);
  }

  /**
   * Loads a model directory.
   *
   * @param schedulerConfig a {@code scheduler_config.json} to use instead of the directory's, or null
   */
  public static DiffusersModel load(Path dir, Path schedulerConfig) throws IOException {
    Path unetDir = Files.isRegularFile(dir.resolve("unet/config.json")) ? dir.resolve("unet") : dir;
    Path configFile = unetDir.resolve("config.json");
    if (!Files.isRegularFile(configFile)) {
      throw new IllegalArgumentException(dir + ": not a diffusers model directory (no unet/config.json or config.json)");
    }
    UNet2DConfig config = UNet2DConfig.parse(Files.readString(configFile, StandardCharsets.UTF_8), configFile.toString());
    Path sched = schedulerConfig;
    if (sched == null) {
      for (Path p : List.of(unetDir.resolveSibling("scheduler").resolve("scheduler_config.json"),
          dir.resolve("scheduler/scheduler_config.json"), unetDir.resolve("scheduler_config.json"))) {
        if (Files.isRegularFile(p)) {
          sched = p;
          break;
        }
      }
      if (sched == null) {
        throw new IllegalArgumentException(dir + ": no scheduler/scheduler_config.json found; give one with "
            + "--scheduler-config FILE");
      }
    } else if (!Files.isRegularFile(sched)) {
      throw new IllegalArgumentException("scheduler config " + sched + ": no such file");
    }
    SchedulerConfig sc = SchedulerConfig.parse(Files.readString(sched, StandardCharsets.UTF_8), sched.toString());
    Path weights = null;
    for (String w : WEIGHTS) {
      if (Files.isRegularFile(unetDir.resolve(w))) {
        weights = unetDir.resolve(w);
        break;
      }
    }
    if (weights == null) {
      String hint = Files.exists(unetDir.resolve("diffusion_pytorch_model.bin"))
          ? " (only diffusion_pytorch_model.bin, a pickle: save the model with safe_serialization=True)" : "";
      throw new IllegalArgumentException(unetDir + ": no " + WEIGHTS.get(0) + hint);
    }
    NDManager m = org.diffusion4j.device.Devices.newManager();
    try {
      UNet2DModel unet = UNet2DModel.create(config, m);
      Checkpoints.load(unet, Safetensors.read(weights).tensors(), weights.toString());
      return new DiffusersModel(unetDir, sched, sc, m, unet, weights);
    } catch (RuntimeException | IOException e) {
      m.close();
      throw e;
    }
  }

  /** The network. */
  public UNet2DModel unet() {
    return unet;
  }

  /** The network's configuration. */
  public UNet2DConfig config() {
    return unet.config();
  }

  /** The scheduler configuration. */
  public SchedulerConfig scheduler() {
    return scheduler;
  }

  /** The discrete process of the scheduler's betas. */
  public DiscreteDdpm process() {
    return scheduler.process();
  }

  /** {@code [C, H, W]} of one sample at the config's {@code sample_size}. */
  public long[] sampleShape() {
    int r = config().sampleSize();
    if (r < 1) {
      throw new IllegalArgumentException(unetDir + "/config.json has no sample_size");
    }
    return new long[] {config().inChannels(), r, r};
  }

  /** The denoiser with continuous timesteps and the scheduler's clipping. */
  public DiffusersDenoiser denoiser() {
    return denoiser(TimestepMapping.CONTINUOUS);
  }

  /** The denoiser with the given timestep mapping and the scheduler's clipping. */
  public DiffusersDenoiser denoiser(TimestepMapping mapping) {
    return new DiffusersDenoiser(unet, process(), scheduler.prediction(), mapping,
        scheduler.clipSample() ? scheduler.clipSampleRange() : Double.NaN);
  }

  /** What {@code d4j info} prints. */
  public List<String> describe() {
    List<String> l = new ArrayList<>();
    l.add("diffusers model " + unetDir);
    l.add("network   " + config().describe());
    l.add(String.format(Locale.ROOT, "          %,d parameters in %d tensors (%s)", unet.parameterCount(),
        unet.namedParameters().size(), weightsFile.getFileName()));
    if (config().sampleSize() > 0) {
      l.add("samples   " + java.util.Arrays.toString(sampleShape()));
    }
    if (!config().ignoredKeys().isEmpty()) {
      l.add("ignored   config keys " + config().ignoredKeys());
    }
    l.add("scheduler " + scheduler.describe() + " (" + schedulerFile + ")");
    DiscreteDdpm p = process();
    l.add(String.format(Locale.ROOT, "process   ddpm, σ from %.6g (t = 0) to %.6g (t = %d)", p.sigma(0),
        p.sigma(p.tMax()), (int) p.tMax()));
    return l;
  }

  @Override
  public void close() {
    manager.close();
  }
}
