package org.diffusion4j.cli.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.Locale;

/** A loss curve: y on a log scale against x, raw values faint and a running mean bold. */
public final class LinePlot {
  private LinePlot() {}

  /** Plots {@code y(x)} (positive y) with a log-scale y axis. */
  public static BufferedImage logY(String title, double[] x, double[] y) {
    int w = 720;
    int h = 360;
    int left = 64;
    int bottom = 34;
    int top = 28;
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    g.setColor(Color.DARK_GRAY);
    g.drawString(title, left, 18);
    if (x.length == 0) {
      g.dispose();
      return img;
    }
    double x0 = x[0];
    double x1 = Math.max(x[x.length - 1], x0 + 1);
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (double v : y) {
      if (v > 0 && Double.isFinite(v)) {
        lo = Math.min(lo, Math.log10(v));
        hi = Math.max(hi, Math.log10(v));
      }
    }
    if (!(hi > lo)) {
      hi = lo + 1;
    }
    int pw = w - left - 16;
    int ph = h - top - bottom;
    g.setColor(new Color(220, 220, 225));
    g.drawRect(left, top, pw, ph);
    g.setColor(Color.DARK_GRAY);
    for (int k = (int) Math.floor(lo); k <= Math.ceil(hi); k++) {
      double fy = (k - lo) / (hi - lo);
      if (fy < -0.01 || fy > 1.01) {
        continue;
      }
      int py = top + ph - (int) Math.round(fy * ph);
      g.drawString(String.format(Locale.ROOT, "1e%d", k), 8, py + 4);
      g.setColor(new Color(235, 235, 240));
      g.drawLine(left, py, left + pw, py);
      g.setColor(Color.DARK_GRAY);
    }
    g.drawString(String.format(Locale.ROOT, "%.0f", x0), left, h - 12);
    g.drawString(String.format(Locale.ROOT, "step %.0f", x1), left + pw - 60, h - 12);
    double[] smooth = new double[y.length];
    double ema = Double.NaN;
    for (int i = 0; i < y.length; i++) {
      ema = Double.isNaN(ema) ? y[i] : 0.95 * ema + 0.05 * y[i];
      smooth[i] = ema;
    }
    draw(g, x, y, x0, x1, lo, hi, left, top, pw, ph, new Color(120, 150, 220, 90), 1f);
    draw(g, x, smooth, x0, x1, lo, hi, left, top, pw, ph, new Color(20, 60, 170), 2f);
    g.dispose();
    return img;
  }

  private static void draw(Graphics2D g, double[] x, double[] y, double x0, double x1, double lo, double hi, int left,
      int top, int pw, int ph, Color c, float width) {
    g.setColor(c);
    g.setStroke(new BasicStroke(width));
    int px = -1;
    int py = -1;
    for (int i = 0; i < x.length; i++) {
      if (!(y[i] > 0)) {
        continue;
      }
      int qx = left + (int) Math.round((x[i] - x0) / (x1 - x0) * pw);
      int qy = top + ph - (int) Math.round((Math.log10(y[i]) - lo) / (hi - lo) * ph);
      if (px >= 0) {
        g.drawLine(px, py, qx, qy);
      }
      px = qx;
      py = qy;
    }
  }
}
