package org.diffusion4j.cli;

import ai.djl.ndarray.types.DataType;
import java.awt.image.BufferedImage;
import java.util.List;
import org.diffusion4j.cli.plot.DensityPlot;
import org.diffusion4j.cli.plot.ImageGrid;
import org.diffusion4j.cli.plot.Scatter;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;

/**
 * Samples a trained model and draws what a person wants to look at: a scatter over the data for 2-D
 * models, an image grid for image models.
 */
final class ModelPreview {
  private ModelPreview() {}

  /** Samples (x̂ at the last grid point, i.e. stored data scale) for seeds, in batches, in float32. */
  static Sampling.Result sample(Denoiser d, long[] sampleShape, Grid grid, Sampler sampler, long[] seeds, int batch,
      boolean trajectory) {
    return Sampling.of(d, sampleShape).sampler(sampler).grid(grid).seeds(seeds).batch(batch)
        .dtype(DataType.FLOAT32).trajectory(trajectory).run();
  }

  /** The default preview grid: Karras ρ = 7 over the process's σ range, 18 steps. */
  static Grid defaultGrid(NoiseProcess p) {
    return GridSpec.karras().build(p, 18);
  }

  /** A picture of samples: scatter over {@code reference} for 2-D, a grid for images. */
  static BufferedImage picture(String title, long[] sampleShape, double[] samples, double[] reference) {
    if (sampleShape.length == 1 && sampleShape[0] == 2) {
      double[] view = Scatter.viewOf(reference != null ? reference : samples);
      return new Scatter(view).panel(title, reference, samples, null);
    }
    if (sampleShape.length == 3) {
      int c = (int) sampleShape[0];
      int h = (int) sampleShape[1];
      int w = (int) sampleShape[2];
      int n = samples.length / (c * h * w);
      return ImageGrid.grid(samples, n, c, h, w, h <= 32 ? 2 : 1);
    }
    return null;
  }

  /** PNG bytes of a picture with a title row for 2-D panels. */
  static byte[] png(BufferedImage img) {
    return DensityPlot.png(img);
  }

  /** Side by side. */
  static BufferedImage row(List<BufferedImage> panels) {
    return DensityPlot.row(panels);
  }
}
