package org.diffusion4j.cli.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import javax.imageio.ImageIO;
import org.diffusion4j.analytic.GaussianMixture;

/**
 * Square panels of a 2-D Gaussian mixture's log-density {@code log p_σ} as a heat map, with points and
 * polylines drawn over it, and their side-by-side composition into one PNG (javax.imageio only).
 */
public final class DensityPlot {
  /** Panel size in pixels. */
  public static final int SIZE = 360;
  private static final int TITLE = 22;
  /** The heat map spans this many nats below the density's maximum. */
  private static final double RANGE = 10;
  private static final Color[] PALETTE = {
    new Color(10, 8, 30), new Color(60, 15, 110), new Color(150, 40, 120), new Color(230, 100, 70),
    new Color(252, 210, 120), new Color(252, 250, 210)
  };

  private final GaussianMixture gm;
  private final double sigma;
  private final double[] view;

  /**
   * @param gm a 2-D mixture
   * @param sigma the noise level of the density drawn (0 for data)
   * @param view {xMin, xMax, yMin, yMax}
   */
  public DensityPlot(GaussianMixture gm, double sigma, double[] view) {
    if (gm.dim() != 2) {
      throw new IllegalArgumentException(
          "a PNG plot needs a 2-D model, this one is " + gm.dim() + "-D; write .npy instead");
    }
    this.gm = gm;
    this.sigma = sigma;
    this.view = view.clone();
  }

  /** A square view holding every component within 3.5 std at noise level σ. */
  public static double[] defaultView(GaussianMixture gm, double sigma) {
    double[][] mu = gm.means();
    double[] sd = gm.stds();
    double lo0 = Double.POSITIVE_INFINITY;
    double hi0 = Double.NEGATIVE_INFINITY;
    double lo1 = Double.POSITIVE_INFINITY;
    double hi1 = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < mu.length; k++) {
      double r = 3.5 * Math.sqrt(sd[k] * sd[k] + sigma * sigma) + 1e-3;
      lo0 = Math.min(lo0, mu[k][0] - r);
      hi0 = Math.max(hi0, mu[k][0] + r);
      lo1 = Math.min(lo1, mu[k][1] - r);
      hi1 = Math.max(hi1, mu[k][1] + r);
    }
    double half = Math.max(hi0 - lo0, hi1 - lo1) / 2;
    double c0 = (lo0 + hi0) / 2;
    double c1 = (lo1 + hi1) / 2;
    return new double[] {c0 - half, c0 + half, c1 - half, c1 + half};
  }

  /** A panel: the heat map, then polylines (each n·2 row-major), then points (n·2), then the title. */
  public BufferedImage panel(String title, double[] points, Color pointColor, List<double[]> lines,
      Color lineColor) {
    BufferedImage img = new BufferedImage(SIZE, SIZE + TITLE, BufferedImage.TYPE_INT_RGB);
    double[] grid = new double[SIZE * SIZE * 2];
    for (int py = 0; py < SIZE; py++) {
      for (int px = 0; px < SIZE; px++) {
        int i = (py * SIZE + px) * 2;
        grid[i] = view[0] + (px + 0.5) / SIZE * (view[1] - view[0]);
        grid[i + 1] = view[3] - (py + 0.5) / SIZE * (view[3] - view[2]);
      }
    }
    fill(img, gm.logDensity(grid, sigma), SIZE, RANGE);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.translate(0, TITLE);
    g.setClip(0, 0, SIZE, SIZE);
    if (lines != null) {
      g.setStroke(new BasicStroke(1.2f));
      g.setColor(lineColor);
      for (double[] line : lines) {
        Path2D.Double path = new Path2D.Double();
        for (int k = 0; k < line.length / 2; k++) {
          double px = px(line[2 * k]);
          double py = py(line[2 * k + 1]);
          if (k == 0) {
            path.moveTo(px, py);
          } else {
            path.lineTo(px, py);
          }
        }
        g.draw(path);
      }
    }
    if (points != null) {
      double r = points.length / 2 > 400 ? 1.6 : 2.4;
      for (int k = 0; k < points.length / 2; k++) {
        Ellipse2D.Double dot = new Ellipse2D.Double(px(points[2 * k]) - r, py(points[2 * k + 1]) - r, 2 * r, 2 * r);
        g.setColor(pointColor);
        g.fill(dot);
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(0.5f));
        g.draw(dot);
      }
    }
    g.setClip(null);
    g.translate(0, -TITLE);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, SIZE, TITLE);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    g.drawString(title, 6, TITLE - 6);
    g.dispose();
    return img;
  }

  /**
   * A heat panel of values on a {@code res × res} grid (row 0 at the top, column 0 at the left), drawn over
   * {@code range} below its maximum (bilinear between grid points), with a title.
   */
  public static BufferedImage heat(String title, double[] values, int res, double range) {
    if (values.length != res * res) {
      throw new IllegalArgumentException("a " + res + "×" + res + " heat map needs " + res * res + " values, got "
          + values.length);
    }
    BufferedImage img = new BufferedImage(SIZE, SIZE + TITLE, BufferedImage.TYPE_INT_RGB);
    double[] up = new double[SIZE * SIZE];
    for (int py = 0; py < SIZE; py++) {
      double fy = Math.max(0, Math.min(res - 1, (py + 0.5) / SIZE * res - 0.5));
      int y0 = Math.min(res - 2, (int) fy);
      double wy = res == 1 ? 0 : fy - y0;
      for (int px = 0; px < SIZE; px++) {
        double fx = Math.max(0, Math.min(res - 1, (px + 0.5) / SIZE * res - 0.5));
        int x0 = Math.min(res - 2, (int) fx);
        double wx = res == 1 ? 0 : fx - x0;
        if (res == 1) {
          up[py * SIZE + px] = values[0];
          continue;
        }
        double a = values[y0 * res + x0];
        double b = values[y0 * res + x0 + 1];
        double c = values[(y0 + 1) * res + x0];
        double d = values[(y0 + 1) * res + x0 + 1];
        up[py * SIZE + px] = (1 - wy) * ((1 - wx) * a + wx * b) + wy * ((1 - wx) * c + wx * d);
      }
    }
    fill(img, up, SIZE, range);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, SIZE, TITLE);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    g.drawString(title, 6, TITLE - 6);
    g.dispose();
    return img;
  }

  /** Colours the SIZE×SIZE area below the title by {@code v}: its maximum brightest, {@code range} below darkest. */
  private static void fill(BufferedImage img, double[] v, int size, double range) {
    double max = Double.NEGATIVE_INFINITY;
    for (double x : v) {
      if (Double.isFinite(x)) {
        max = Math.max(max, x);
      }
    }
    for (int py = 0; py < size; py++) {
      for (int px = 0; px < size; px++) {
        double x = v[py * size + px];
        double u = Double.isFinite(x) ? 1 + (x - max) / range : 0;
        img.setRGB(px, py + TITLE, color(Math.max(0, Math.min(1, u))).getRGB());
      }
    }
  }

  private double px(double x) {
    return (x - view[0]) / (view[1] - view[0]) * SIZE;
  }

  private double py(double y) {
    return (view[3] - y) / (view[3] - view[2]) * SIZE;
  }

  private static Color color(double u) {
    double f = u * (PALETTE.length - 1);
    int i = Math.min(PALETTE.length - 2, (int) Math.floor(f));
    double w = f - i;
    Color a = PALETTE[i];
    Color b = PALETTE[i + 1];
    return new Color((int) Math.round(a.getRed() + w * (b.getRed() - a.getRed())),
        (int) Math.round(a.getGreen() + w * (b.getGreen() - a.getGreen())),
        (int) Math.round(a.getBlue() + w * (b.getBlue() - a.getBlue())));
  }

  /** Panels side by side, 4 px apart, on white. */
  public static BufferedImage row(List<BufferedImage> panels) {
    int gap = 4;
    int w = gap;
    int h = 0;
    for (BufferedImage p : panels) {
      w += p.getWidth() + gap;
      h = Math.max(h, p.getHeight());
    }
    BufferedImage img = new BufferedImage(w, h + 2 * gap, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    int x = gap;
    for (BufferedImage p : panels) {
      g.drawImage(p, x, gap, null);
      x += p.getWidth() + gap;
    }
    g.dispose();
    return img;
  }

  /** Panels on a grid of {@code columns} columns. */
  public static BufferedImage grid(List<BufferedImage> panels, int columns) {
    List<BufferedImage> rows = new java.util.ArrayList<>();
    for (int i = 0; i < panels.size(); i += columns) {
      rows.add(row(panels.subList(i, Math.min(panels.size(), i + columns))));
    }
    int w = 0;
    int h = 0;
    for (BufferedImage r : rows) {
      w = Math.max(w, r.getWidth());
      h += r.getHeight();
    }
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    int y = 0;
    for (BufferedImage r : rows) {
      g.drawImage(r, 0, y, null);
      y += r.getHeight();
    }
    g.dispose();
    return img;
  }

  /** PNG bytes of an image. */
  public static byte[] png(BufferedImage img) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(img, "png", bytes)) {
        throw new IllegalStateException("no PNG writer in this Java runtime");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }
}
