package org.diffusion4j.train.nn.diffusers;

import ai.djl.nn.Parameter;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.Safetensors;
import org.diffusion4j.train.loop.Tensor;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.nn.DiffusersUNetConfig;

/**
 * Writes a run trained with the diffusers architecture ({@code --net diffusers-unet2d}) as a diffusers model
 * directory that {@code DDPMPipeline.from_pretrained} (and {@link DiffusersModel#load}) loads:
 * <pre>
 *   model_index.json                           DDPMPipeline: unet UNet2DModel, scheduler DDPMScheduler
 *   unet/config.json                           the UNet2DModel config (sample_size, channels, classes from the run)
 *   unet/diffusion_pytorch_model.safetensors   float32, diffusers' tensor names
 *   scheduler/scheduler_config.json            the run's DDPM betas, prediction_type epsilon
 * </pre>
 *
 * <p>What diffusers can express: a UNet2DModel told the integer (or fractional) DDPM timestep, predicting ε, on
 * a discrete DDPM schedule — the runs whose objective has the VP preconditioning ({@code eps}, {@code vp}) on
 * the {@code ddpm} process (Ho et al. 2020's training). Other runs are refused by name: continuous-time
 * processes ({@code vp}, {@code edm}, {@code ve}, {@code flow}, …) have no DDPM timestep table, and the other
 * preconditionings ({@code edm}, {@code v}, {@code x0}, …) tell the network ¼ ln σ and scale its input and output
 * in ways no diffusers scheduler applies. Diffusion4J's own U-Net ({@code --net unet}) has no UNet2DModel
 * counterpart (other blocks, time embedding and tensor layout) and is refused too.
 */
public final class DiffusersExport {
  private DiffusersExport() {}

  /** The weights file written. */
  public static final String WEIGHTS = DiffusersModel.WEIGHTS.get(0);

  /** Why {@code config} cannot be exported, or null when it can. */
  public static String refusal(RunConfig config) {
    if (!(config.network() instanceof DiffusersUNetConfig)) {
      return "the run's network is " + config.network().type() + " (Diffusion4J's own "
          + (config.network().type().equals("mlp") ? "MLP" : "U-Net") + "), which has no diffusers UNet2DModel "
          + "counterpart; only runs trained with --net " + DiffusersUNetConfig.TYPE + " can be exported";
    }
    if (!(config.process() instanceof DiscreteDdpm)) {
      return "the run's process is " + config.process().id() + " (continuous time), which no diffusers scheduler "
          + "expresses; train on --process ddpm";
    }
    if (!(config.objectiveValue().preconditioning() instanceof Preconditioning.Vp)) {
      return "the run's objective " + config.objective() + " (" + config.objectiveValue().preconditioning().id()
          + " preconditioning) gives the network inputs and outputs no diffusers scheduler applies; accepted: "
          + "objectives eps and vp (ε-prediction at the DDPM timestep)";
    }
    return null;
  }

  /**
   * Writes the directory.
   *
   * @param run the run directory
   * @param ema the EMA weights (the default for sampling) or the raw ones
   * @param out the model directory, which must not exist or be empty
   * @return the files written, relative to {@code out}
   */
  public static List<String> write(Path run, boolean ema, Path out) throws IOException {
    RunConfig config = TrainedModel.readConfig(run);
    String why = refusal(config);
    if (why != null) {
      throw new IllegalArgumentException("cannot export " + run + " to diffusers: " + why);
    }
    UNet2DConfig unetConfig = ((DiffusersUNetConfig) config.network()).unet();
    SchedulerConfig scheduler = SchedulerConfig.forProcess((DiscreteDdpm) config.process(),
        SchedulerConfig.Prediction.EPSILON);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    try (TrainedModel m = TrainedModel.load(run, ema)) {
      UNet2DModel unet = (UNet2DModel) m.network();
      for (Map.Entry<String, Parameter> e : unet.namedParameters().entrySet()) {
        tensors.put(e.getKey(), Tensor.of(e.getValue().getArray()));
      }
    }
    Files.createDirectories(out.resolve("unet"));
    Files.createDirectories(out.resolve("scheduler"));
    Safetensors.write(out.resolve("unet").resolve(WEIGHTS), tensors, Map.of("format", "pt"));
    json(out.resolve("unet/config.json"), unetConfig.toDiffusersJson());
    json(out.resolve("scheduler/scheduler_config.json"), scheduler.toDiffusersJson());
    JsonObject index = new JsonObject();
    index.addProperty("_class_name", "DDPMPipeline");
    index.addProperty("_diffusers_version", "0.25.0");
    index.add("scheduler", pair("diffusers", "DDPMScheduler"));
    index.add("unet", pair("diffusers", "UNet2DModel"));
    json(out.resolve("model_index.json"), index);
    return List.of("model_index.json", "unet/config.json", "unet/" + WEIGHTS, "scheduler/scheduler_config.json");
  }

  private static JsonArray pair(String a, String b) {
    JsonArray p = new JsonArray();
    p.add(a);
    p.add(b);
    return p;
  }

  private static void json(Path file, JsonObject o) throws IOException {
    AtomicFiles.write(file, (new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(o) + "\n")
        .getBytes(StandardCharsets.UTF_8));
  }
}
