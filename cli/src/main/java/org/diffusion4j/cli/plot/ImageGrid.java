package org.diffusion4j.cli.plot;

import java.awt.image.BufferedImage;

/**
 * Images {@code [n, c, h, w]} (c = 1 or 3, values in [−1, 1]) as one PNG grid or single images.
 */
public final class ImageGrid {
  private ImageGrid() {}

  /** Image k of the batch as an RGB picture, upscaled by {@code zoom}. */
  public static BufferedImage image(double[] x, int k, int c, int h, int w, int zoom) {
    BufferedImage img = new BufferedImage(w * zoom, h * zoom, BufferedImage.TYPE_INT_RGB);
    int per = c * h * w;
    for (int yy = 0; yy < h; yy++) {
      for (int xx = 0; xx < w; xx++) {
        int[] rgb = new int[3];
        for (int ch = 0; ch < 3; ch++) {
          double v = x[k * per + (c == 1 ? 0 : ch) * h * w + yy * w + xx];
          rgb[ch] = (int) Math.round(Math.max(0, Math.min(1, (v + 1) / 2)) * 255);
        }
        int p = (rgb[0] << 16) | (rgb[1] << 8) | rgb[2];
        for (int dy = 0; dy < zoom; dy++) {
          for (int dx = 0; dx < zoom; dx++) {
            img.setRGB(xx * zoom + dx, yy * zoom + dy, p);
          }
        }
      }
    }
    return img;
  }

  /** All n images in a near-square grid with a 2-pixel gutter. */
  public static BufferedImage grid(double[] x, int n, int c, int h, int w, int zoom) {
    return grid(x, n, c, h, w, zoom, (int) Math.ceil(Math.sqrt(n)));
  }

  /** All n images, {@code cols} per row (row-major), with a 2-pixel gutter. */
  public static BufferedImage grid(double[] x, int n, int c, int h, int w, int zoom, int cols) {
    if (cols < 1) {
      throw new IllegalArgumentException("an image grid needs at least one column, got " + cols);
    }
    int rows = (n + cols - 1) / cols;
    int gap = 2;
    BufferedImage img = new BufferedImage(cols * (w * zoom + gap) + gap, rows * (h * zoom + gap) + gap,
        BufferedImage.TYPE_INT_RGB);
    java.awt.Graphics2D g = img.createGraphics();
    g.setColor(java.awt.Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    for (int k = 0; k < n; k++) {
      g.drawImage(image(x, k, c, h, w, zoom), gap + (k % cols) * (w * zoom + gap), gap + (k / cols) * (h * zoom + gap),
          null);
    }
    g.dispose();
    return img;
  }
}
