package org.diffusion4j.cli.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Locale;

/**
 * Several curves y(x) on log–log axes: decade ticks with labels, minor ticks at 2…9, light grid lines,
 * one colour and marker per series and a legend — how error-vs-NFE comparisons are drawn.
 */
public final class LogLogPlot {
  /** Okabe &amp; Ito's (2008) colour-blind-safe palette, then darker distinct tones. */
  private static final Color[] COLORS = {
    new Color(0, 114, 178), new Color(213, 94, 0), new Color(0, 158, 115), new Color(204, 121, 167),
    new Color(230, 159, 0), new Color(86, 180, 233), new Color(50, 50, 50), new Color(150, 30, 45),
    new Color(128, 128, 0), new Color(117, 60, 170), new Color(0, 128, 128), new Color(140, 86, 75)
  };
  private static final int MARKERS = 6;
  private static final int W = 860;
  private static final int H = 540;
  private static final int LEFT = 78;
  private static final int TOP = 44;
  private static final int BOTTOM = 56;

  private LogLogPlot() {}

  /** One curve: label and points (non-positive or non-finite values are skipped). */
  public record Series(String label, double[] x, double[] y) {
    public Series {
      if (x.length != y.length) {
        throw new IllegalArgumentException("series " + label + " has " + x.length + " x but " + y.length + " y values");
      }
    }
  }

  /** The plot as an image. */
  public static BufferedImage render(String title, String xLabel, String yLabel, List<Series> series) {
    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, W, H);
    Font plain = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    Font small = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    g.setFont(plain.deriveFont(Font.BOLD, 15f));
    g.setColor(new Color(30, 30, 30));
    g.drawString(title, LEFT, 26);

    // Legend width decides the plot's right edge.
    g.setFont(small);
    FontMetrics fm = g.getFontMetrics();
    int legendText = 0;
    for (Series s : series) {
      legendText = Math.max(legendText, fm.stringWidth(s.label()));
    }
    int legendW = series.isEmpty() ? 0 : legendText + 48;
    int pw = W - LEFT - 24 - legendW;
    int ph = H - TOP - BOTTOM;

    double[] xr = range(series, true);
    double[] yr = range(series, false);
    Axis ax = new Axis(xr[0], xr[1]);
    Axis ay = new Axis(yr[0], yr[1]);

    g.setColor(new Color(250, 250, 252));
    g.fillRect(LEFT, TOP, pw, ph);
    // Grid and ticks.
    g.setFont(small);
    for (int k = (int) Math.floor(ax.lo); k <= (int) Math.ceil(ax.hi); k++) {
      for (int m = 1; m <= 9; m++) {
        double v = k + Math.log10(m);
        if (v < ax.lo - 1e-9 || v > ax.hi + 1e-9) {
          continue;
        }
        int px = LEFT + (int) Math.round(ax.frac(v) * pw);
        g.setColor(m == 1 ? new Color(215, 215, 222) : new Color(236, 236, 240));
        g.drawLine(px, TOP, px, TOP + ph);
        g.setColor(new Color(80, 80, 80));
        g.drawLine(px, TOP + ph, px, TOP + ph + (m == 1 ? 6 : 3));
        boolean label = m == 1 || (ax.hi - ax.lo < 2.2 && (m == 2 || m == 5)) || (ax.hi - ax.lo < 1.2 && m == 3);
        if (label) {
          String t = tickX(k, m);
          g.drawString(t, px - fm.stringWidth(t) / 2, TOP + ph + 20);
        }
      }
    }
    for (int k = (int) Math.floor(ay.lo); k <= (int) Math.ceil(ay.hi); k++) {
      for (int m = 1; m <= 9; m++) {
        double v = k + Math.log10(m);
        if (v < ay.lo - 1e-9 || v > ay.hi + 1e-9) {
          continue;
        }
        int py = TOP + ph - (int) Math.round(ay.frac(v) * ph);
        g.setColor(m == 1 ? new Color(215, 215, 222) : new Color(236, 236, 240));
        g.drawLine(LEFT, py, LEFT + pw, py);
        g.setColor(new Color(80, 80, 80));
        g.drawLine(LEFT - (m == 1 ? 6 : 3), py, LEFT, py);
        boolean label = m == 1 || (ay.hi - ay.lo < 1.5 && (m == 2 || m == 5));
        if (label) {
          String t = m == 1 ? "1e" + k : m + "e" + k;
          g.drawString(t, LEFT - 10 - fm.stringWidth(t), py + 4);
        }
      }
    }
    g.setColor(new Color(90, 90, 96));
    g.drawRect(LEFT, TOP, pw, ph);
    // Axis labels.
    g.setFont(plain);
    FontMetrics pm = g.getFontMetrics();
    g.setColor(new Color(30, 30, 30));
    g.drawString(xLabel, LEFT + pw / 2 - pm.stringWidth(xLabel) / 2, H - 14);
    AffineTransform saved = g.getTransform();
    g.rotate(-Math.PI / 2);
    g.drawString(yLabel, -(TOP + ph / 2) - pm.stringWidth(yLabel) / 2, 20);
    g.setTransform(saved);

    // Curves.
    g.setClip(LEFT - 6, TOP - 6, pw + 12, ph + 12);
    for (int i = 0; i < series.size(); i++) {
      Series s = series.get(i);
      Color c = COLORS[i % COLORS.length];
      g.setColor(c);
      g.setStroke(new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
      double px = Double.NaN;
      double py = Double.NaN;
      for (int j = 0; j < s.x().length; j++) {
        if (!ok(s.x()[j]) || !ok(s.y()[j])) {
          px = Double.NaN;
          continue;
        }
        double qx = LEFT + ax.frac(Math.log10(s.x()[j])) * pw;
        double qy = TOP + ph - ay.frac(Math.log10(s.y()[j])) * ph;
        if (!Double.isNaN(px)) {
          g.draw(new Line2D.Double(px, py, qx, qy));
        }
        px = qx;
        py = qy;
      }
      for (int j = 0; j < s.x().length; j++) {
        if (ok(s.x()[j]) && ok(s.y()[j])) {
          marker(g, i, LEFT + ax.frac(Math.log10(s.x()[j])) * pw, TOP + ph - ay.frac(Math.log10(s.y()[j])) * ph, c);
        }
      }
    }
    g.setClip(null);

    // Legend.
    if (!series.isEmpty()) {
      g.setFont(small);
      int lx = LEFT + pw + 16;
      int rowH = 20;
      int lh = rowH * series.size() + 10;
      g.setColor(Color.WHITE);
      g.fillRect(lx, TOP, legendW - 8, lh);
      g.setColor(new Color(200, 200, 206));
      g.drawRect(lx, TOP, legendW - 8, lh);
      for (int i = 0; i < series.size(); i++) {
        Color c = COLORS[i % COLORS.length];
        int y = TOP + 15 + i * rowH;
        g.setColor(c);
        g.setStroke(new BasicStroke(2f));
        g.drawLine(lx + 6, y, lx + 30, y);
        marker(g, i, lx + 18, y, c);
        g.setColor(new Color(30, 30, 30));
        g.drawString(series.get(i).label(), lx + 36, y + 4);
      }
    }
    g.dispose();
    return img;
  }

  private static boolean ok(double v) {
    return v > 0 && Double.isFinite(v);
  }

  private static String tickX(int k, int m) {
    double v = m * Math.pow(10, k);
    return k >= 0 && v < 1e6 ? String.format(Locale.ROOT, "%d", Math.round(v)) : (m == 1 ? "1e" + k : m + "e" + k);
  }

  /** log10 range of the finite positive coordinates, padded; a unit decade when empty or flat. */
  private static double[] range(List<Series> series, boolean x) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      double[] v = x ? s.x() : s.y();
      double[] o = x ? s.y() : s.x();
      for (int i = 0; i < v.length; i++) {
        if (ok(v[i]) && ok(o[i])) {
          lo = Math.min(lo, Math.log10(v[i]));
          hi = Math.max(hi, Math.log10(v[i]));
        }
      }
    }
    if (!(hi >= lo)) {
      return new double[] {0, 1};
    }
    if (hi - lo < 0.3) {
      double mid = (hi + lo) / 2;
      lo = mid - 0.5;
      hi = mid + 0.5;
    }
    double pad = 0.04 * (hi - lo);
    return new double[] {lo - pad, hi + pad};
  }

  private record Axis(double lo, double hi) {
    double frac(double v) {
      return (v - lo) / (hi - lo);
    }
  }

  private static void marker(Graphics2D g, int i, double x, double y, Color c) {
    double r = 4.5;
    Shape s = switch (i % MARKERS) {
      case 0 -> new Ellipse2D.Double(x - r, y - r, 2 * r, 2 * r);
      case 1 -> new Rectangle2D.Double(x - r + 0.5, y - r + 0.5, 2 * r - 1, 2 * r - 1);
      case 2 -> polygon(x, y, r * 1.25, 3, -Math.PI / 2);
      case 3 -> polygon(x, y, r * 1.25, 4, 0);
      case 4 -> polygon(x, y, r * 1.25, 3, Math.PI / 2);
      default -> polygon(x, y, r * 1.3, 5, -Math.PI / 2);
    };
    // Filled markers for the first pass through the palette, hollow for the second: 12 × 2 distinct styles.
    boolean hollow = (i / COLORS.length) % 2 == 1;
    if (hollow) {
      g.setColor(Color.WHITE);
      g.fill(s);
      g.setColor(c);
      g.setStroke(new BasicStroke(1.6f));
      g.draw(s);
    } else {
      g.setColor(c);
      g.fill(s);
      g.setColor(Color.WHITE);
      g.setStroke(new BasicStroke(0.8f));
      g.draw(s);
    }
  }

  private static Shape polygon(double x, double y, double r, int n, double phase) {
    Path2D.Double p = new Path2D.Double();
    for (int k = 0; k < n; k++) {
      double a = phase + 2 * Math.PI * k / n;
      double px = x + r * Math.cos(a);
      double py = y + r * Math.sin(a);
      if (k == 0) {
        p.moveTo(px, py);
      } else {
        p.lineTo(px, py);
      }
    }
    p.closePath();
    return p;
  }
}
