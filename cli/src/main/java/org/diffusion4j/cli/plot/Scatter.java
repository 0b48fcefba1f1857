package org.diffusion4j.cli.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Square scatter panels of 2-D points (reference points in grey, samples in colour, optional
 * trajectories), sized and composable like {@link DensityPlot} panels.
 */
public final class Scatter {
  private static final int TITLE = 22;
  private final double[] view;

  /** @param view {xMin, xMax, yMin, yMax} */
  public Scatter(double[] view) {
    this.view = view.clone();
  }

  /** A square view around the points (padded 10%). */
  public static double[] viewOf(double[] points) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (double v : points) {
      if (Double.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    if (!(hi > lo)) {
      lo = -1;
      hi = 1;
    }
    double pad = 0.1 * (hi - lo);
    return new double[] {lo - pad, hi + pad, lo - pad, hi + pad};
  }

  /**
   * One panel.
   *
   * @param title caption
   * @param reference grey points (row-major x,y) or null
   * @param points coloured points or null
   * @param lines polylines (each row-major x,y) or null
   */
  public BufferedImage panel(String title, double[] reference, double[] points, List<double[]> lines) {
    int s = DensityPlot.SIZE;
    BufferedImage img = new BufferedImage(s, s + TITLE, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, s, s + TITLE);
    g.setColor(new Color(245, 245, 248));
    g.fillRect(0, TITLE, s, s);
    g.setColor(Color.DARK_GRAY);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    g.drawString(title, 6, 16);
    if (reference != null) {
      g.setColor(new Color(150, 150, 160, 110));
      dots(g, reference, 2);
    }
    if (lines != null) {
      g.setColor(new Color(230, 120, 40, 170));
      g.setStroke(new BasicStroke(1.1f));
      for (double[] l : lines) {
        for (int i = 0; i + 3 < l.length; i += 2) {
          g.drawLine(px(l[i]), py(l[i + 1]), px(l[i + 2]), py(l[i + 3]));
        }
      }
    }
    if (points != null) {
      g.setColor(new Color(30, 90, 200, 150));
      dots(g, points, 3);
    }
    g.dispose();
    return img;
  }

  private void dots(Graphics2D g, double[] p, int r) {
    for (int i = 0; i + 1 < p.length; i += 2) {
      if (Double.isFinite(p[i]) && Double.isFinite(p[i + 1])) {
        g.fillOval(px(p[i]) - r / 2, py(p[i + 1]) - r / 2, r, r);
      }
    }
  }

  private int px(double x) {
    return (int) Math.round((x - view[0]) / (view[1] - view[0]) * DensityPlot.SIZE);
  }

  private int py(double y) {
    return TITLE + (int) Math.round((view[3] - y) / (view[3] - view[2]) * DensityPlot.SIZE);
  }
}
