package org.diffusion4j.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Locale;

/**
 * A trade-off curve: one or more series of points (x, y) joined in order, each point labelled (e.g. by its
 * guidance scale or β), on linear axes fitted to the data.
 */
final class TradeOffPlot {
  private TradeOffPlot() {}

  /** One series: points and their labels. */
  record Series(String name, double[] x, double[] y, String[] labels, Color color) {}

  static BufferedImage plot(String title, String xLabel, String yLabel, List<Series> series) {
    int w = 640;
    int h = 420;
    int left = 70;
    int bottom = 46;
    int top = 46;
    int right = 20;
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    double x0 = Double.POSITIVE_INFINITY;
    double x1 = Double.NEGATIVE_INFINITY;
    double y0 = Double.POSITIVE_INFINITY;
    double y1 = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
          x0 = Math.min(x0, s.x()[i]);
          x1 = Math.max(x1, s.x()[i]);
          y0 = Math.min(y0, s.y()[i]);
          y1 = Math.max(y1, s.y()[i]);
        }
      }
    }
    if (!(x1 > x0)) {
      x1 = x0 + 1;
    }
    if (!(y1 > y0)) {
      y1 = y0 + 1;
    }
    double px = 0.08 * (x1 - x0);
    double py = 0.08 * (y1 - y0);
    x0 -= px;
    x1 += px;
    y0 -= py;
    y1 += py;
    int pw = w - left - right;
    int ph = h - top - bottom;
    g.setColor(Color.DARK_GRAY);
    g.drawString(title, left, 16);
    g.setColor(new Color(200, 200, 210));
    g.drawRect(left, top, pw, ph);
    g.setColor(Color.DARK_GRAY);
    for (int k = 0; k <= 4; k++) {
      double vx = x0 + k * (x1 - x0) / 4;
      double vy = y0 + k * (y1 - y0) / 4;
      g.drawString(String.format(Locale.ROOT, "%.3g", vx), left + k * pw / 4 - 14, top + ph + 16);
      g.drawString(String.format(Locale.ROOT, "%.3g", vy), 8, top + ph - k * ph / 4 + 4);
    }
    g.drawString(xLabel, left + pw / 2 - 40, h - 8);
    g.drawString(yLabel, 8, top - 10);
    int legend = 0;
    for (Series s : series) {
      g.setColor(s.color());
      g.setStroke(new BasicStroke(2f));
      int lx = -1;
      int ly = -1;
      for (int i = 0; i < s.x().length; i++) {
        if (!Double.isFinite(s.x()[i]) || !Double.isFinite(s.y()[i])) {
          continue;
        }
        int cx = left + (int) Math.round((s.x()[i] - x0) / (x1 - x0) * pw);
        int cy = top + ph - (int) Math.round((s.y()[i] - y0) / (y1 - y0) * ph);
        if (lx >= 0) {
          g.drawLine(lx, ly, cx, cy);
        }
        g.fillOval(cx - 4, cy - 4, 8, 8);
        g.drawString(s.labels()[i], cx + 6, cy - 6);
        lx = cx;
        ly = cy;
      }
      g.drawString(s.name(), left + pw - 220, top + ph - 10 - 16 * legend++);
    }
    g.dispose();
    return img;
  }
}
