package org.diffusion4j.train.data;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * A folder of PNG/JPEG images (searched recursively, in path order), each resized so its shorter side
 * equals the resolution and centre-cropped to a square, stored as bytes and mapped to [−1, 1] by
 * x/127.5 − 1. Samples are [3, H, W] (RGB) or [1, H, W] (grey; chosen when every image is grey, or
 * forced by the options).
 */
final class ImageFolder {
  private ImageFolder() {}

  static DataSource load(Path dir, DataOptions options) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("images: no such directory: " + dir);
    }
    List<Path> files;
    try (Stream<Path> s = Files.walk(dir)) {
      files = s.filter(Files::isRegularFile).filter(ImageFolder::isImage).sorted().toList();
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException(dir + ": no .png, .jpg or .jpeg images in this folder");
    }
    List<BufferedImage> images = new ArrayList<>();
    boolean allGrey = true;
    for (Path f : files) {
      BufferedImage img;
      try {
        img = ImageIO.read(f.toFile());
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException(f + ": unreadable image (" + e.getMessage() + ")");
      }
      if (img == null) {
        throw new IllegalArgumentException(f + ": unreadable image (not a PNG or JPEG ImageIO can decode)");
      }
      allGrey &= img.getColorModel().getNumColorComponents() == 1;
      images.add(resizeAndCrop(img, options.resolution()));
    }
    int c = options.channels() != 0 ? options.channels() : (allGrey ? 1 : 3);
    int r = options.resolution();
    int dim = c * r * r;
    byte[] data = new byte[images.size() * dim];
    for (int i = 0; i < images.size(); i++) {
      BufferedImage img = images.get(i);
      for (int y = 0; y < r; y++) {
        for (int x = 0; x < r; x++) {
          int rgb = img.getRGB(x, y);
          int red = (rgb >> 16) & 0xff;
          int green = (rgb >> 8) & 0xff;
          int blue = rgb & 0xff;
          int p = y * r + x;
          if (c == 1) {
            // ITU-R BT.601 luma, as PIL's convert("L").
            data[i * dim + p] = (byte) Math.round((299 * red + 587 * green + 114 * blue) / 1000.0);
          } else {
            data[i * dim + p] = (byte) red;
            data[i * dim + r * r + p] = (byte) green;
            data[i * dim + 2 * r * r + p] = (byte) blue;
          }
        }
      }
    }
    int[] labels = labels(dir, files);
    String d = "images:" + dir + " (" + images.size() + " images " + c + "×" + r + "×" + r
        + ", shorter side resized and centre-cropped, scaled to [-1, 1]"
        + (labels != null ? ", labelled by sub-folder: " + classNames(dir, files) : "") + ")";
    return ArraySource.ofBytes(d, new long[] {c, r, r}, images.size(), data, new DataSource.Affine(1 / 127.5, -1),
        labels, options.flip());
  }

  /**
   * Class labels from one sub-folder per class (ImageNet's and torchvision's {@code ImageFolder}
   * layout): when every image lies in a sub-folder of {@code dir}, its class is the index of its
   * top-level sub-folder in name order; otherwise the images are unlabelled.
   */
  static int[] labels(Path dir, List<Path> files) {
    List<String> names = classList(dir, files);
    if (names == null) {
      return null;
    }
    int[] labels = new int[files.size()];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = java.util.Collections.binarySearch(names, dir.relativize(files.get(i)).getName(0).toString());
    }
    return labels;
  }

  private static List<String> classList(Path dir, List<Path> files) {
    java.util.TreeSet<String> names = new java.util.TreeSet<>();
    for (Path f : files) {
      Path rel = dir.relativize(f);
      if (rel.getNameCount() < 2) {
        return null;
      }
      names.add(rel.getName(0).toString());
    }
    return new ArrayList<>(names);
  }

  private static String classNames(Path dir, List<Path> files) {
    List<String> names = classList(dir, files);
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < names.size() && i < 12; i++) {
      b.append(i == 0 ? "" : ", ").append(i).append('=').append(names.get(i));
    }
    return b.append(names.size() > 12 ? ", … (" + names.size() + " classes)" : "").toString();
  }

  private static boolean isImage(Path p) {
    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
    return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
  }

  /** Shorter side to {@code r} (halving first while more than twice too big, then bilinear), centre crop. */
  static BufferedImage resizeAndCrop(BufferedImage src, int r) {
    BufferedImage img = toRgb(src);
    double scale = (double) r / Math.min(img.getWidth(), img.getHeight());
    int w = Math.max(r, (int) Math.round(img.getWidth() * scale));
    int h = Math.max(r, (int) Math.round(img.getHeight() * scale));
    // Progressive halving keeps bilinear downscaling from aliasing.
    while (img.getWidth() >= 2 * w && img.getHeight() >= 2 * h) {
      img = draw(img, img.getWidth() / 2, img.getHeight() / 2);
    }
    if (img.getWidth() != w || img.getHeight() != h) {
      img = draw(img, w, h);
    }
    return img.getSubimage((w - r) / 2, (h - r) / 2, r, r);
  }

  private static BufferedImage toRgb(BufferedImage src) {
    if (src.getType() == BufferedImage.TYPE_INT_RGB) {
      return src;
    }
    BufferedImage out = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_INT_RGB);
    if (src.getColorModel().getNumColorComponents() == 1 && !src.getColorModel().hasAlpha()) {
      // Grey: copy the stored levels (Java2D would otherwise convert from its linear grey space).
      int bits = src.getColorModel().getComponentSize(0);
      java.awt.image.Raster in = src.getRaster();
      for (int y = 0; y < src.getHeight(); y++) {
        for (int x = 0; x < src.getWidth(); x++) {
          int v = in.getSample(x, y, 0);
          v = bits > 8 ? v >> (bits - 8) : bits < 8 ? v * 255 / ((1 << bits) - 1) : v;
          out.setRGB(x, y, v << 16 | v << 8 | v);
        }
      }
      return out;
    }
    Graphics2D g = out.createGraphics();
    g.drawImage(src, 0, 0, java.awt.Color.WHITE, null);
    g.dispose();
    return out;
  }

  private static BufferedImage draw(BufferedImage src, int w, int h) {
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
    g.drawImage(src, 0, 0, w, h, null);
    g.dispose();
    return out;
  }
}
