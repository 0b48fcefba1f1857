package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.diffusion4j.io.Npy;
import org.diffusion4j.io.NpyArray;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code d4j inpaint | restore | sdedit | invert}, {@code sample --class all} and image classifiers, on a
 * tiny class-conditional U-Net of 8×8 RGB images (class 0: bright top half, class 1: bright bottom half).
 */
class ImageCommandsTest {
  @TempDir static Path dir;
  static Path run;
  static Path digit;

  private static void png(Path file, int[][] grey) throws Exception {
    BufferedImage img = new BufferedImage(grey[0].length, grey.length, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < grey.length; y++) {
      for (int x = 0; x < grey[0].length; x++) {
        int g = grey[y][x];
        img.setRGB(x, y, g << 16 | g << 8 | g);
      }
    }
    Files.createDirectories(file.getParent());
    ImageIO.write(img, "png", file.toFile());
  }

  private static int[][] halves(boolean top, int shade) {
    int[][] g = new int[8][8];
    for (int y = 0; y < 8; y++) {
      for (int x = 0; x < 8; x++) {
        g[y][x] = (y < 4) == top ? 200 + (x * shade) % 50 : 10 + (x + y) % 7;
      }
    }
    return g;
  }

  @BeforeAll
  static void trainRun() throws Exception {
    Path data = dir.resolve("images");
    for (int i = 0; i < 12; i++) {
      png(data.resolve("0").resolve(i + ".png"), halves(true, i));
      png(data.resolve("1").resolve(i + ".png"), halves(false, i));
    }
    digit = dir.resolve("in.png");
    png(digit, halves(true, 3));
    run = dir.resolve("run");
    Cli.Run r = Cli.run("train", "--data", "images:" + data, "--out", run.toString(), "--quiet", "--net", "unet",
        "--base-channels", "8", "--multipliers", "1,2", "--blocks-per-level", "1", "--attention", "4", "--resolution", "8",
        "--dropout", "0", "--steps", "25", "--batch", "16", "--class-conditional");
    assertEquals(0, r.code(), r.err());
  }

  private static void fails(Cli.Run r, String... parts) {
    assertEquals(2, r.code(), r.out() + r.err());
    for (String p : parts) {
      assertTrue(r.err().contains(p), "expected '" + p + "' in: " + r.err());
    }
  }

  @Test
  void inpaintKeepsTheKnownPixelsAndWritesTheComparison() throws Exception {
    Path mask = dir.resolve("mask.png");
    int[][] m = new int[8][8];
    for (int y = 4; y < 8; y++) {
      java.util.Arrays.fill(m[y], 255);
    }
    png(mask, m);
    int[][] in = halves(true, 3);
    for (String method : new String[] {"replace", "repaint", "repaint-jumps"}) {
      Path out = dir.resolve("inpaint-" + method + ".npy");
      String[] extra = method.equals("repaint-jumps") ? new String[] {"--method", "repaint", "--jump", "2", "--resample", "2"}
          : new String[] {"--method", method};
      java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("inpaint", "--model", run.toString(),
          "--image", digit.toString(), "--mask", mask.toString(), "--steps", "6", "--seeds", "0-1", "--class", "0",
          "--out", out.toString()));
      args.addAll(java.util.List.of(extra));
      Cli.Run r = Cli.run(args.toArray(new String[0]));
      assertEquals(0, r.code(), r.err());
      assertTrue(r.out().contains("known     96 of 192 values"), r.out());
      NpyArray a = Npy.read(out);
      assertEquals("[2, 3, 8, 8]", java.util.Arrays.toString(a.shape()));
      for (int k = 0; k < 2; k++) {
        for (int ch = 0; ch < 3; ch++) {
          for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 8; x++) {
              assertEquals(in[y][x], a.data()[k * 192 + ch * 64 + y * 8 + x], 1e-3, method + " known pixel " + y + "," + x);
            }
          }
        }
      }
      BufferedImage cmp = ImageIO.read(dir.resolve("inpaint-" + method + "-compare.png").toFile());
      assertTrue(cmp.getWidth() >= 4 * 32, "four panels: input, measurement, two results");
    }
    Cli.Run r = Cli.run("inpaint", "--model", run.toString(), "--image", digit.toString(), "--mask", mask.toString(),
        "--method", "dps", "--steps", "4", "--seeds", "0", "--out", dir.resolve("dps.png").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.isRegularFile(dir.resolve("dps-compare.png")));
    r = Cli.run("inpaint", "--model", run.toString(), "--image", digit.toString(), "--mask", mask.toString(),
        "--method", "pigdm", "--steps", "4", "--seeds", "0", "--out", dir.resolve("pigdm.png").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("ΠGDM (mask, σ_y = 0, r² with σ_data = ") && r.out().contains("w = 1)"), r.out());
    assertTrue(Files.isRegularFile(dir.resolve("pigdm-compare.png")));
    fails(Cli.run("inpaint", "--model", run.toString(), "--image", digit.toString(), "--mask", mask.toString(),
        "--method", "repaint", "--jump", "6", "--resample", "2", "--steps", "6", "--out", dir.resolve("x.png").toString()),
        "jump length j = 6", "got 6 steps");
    fails(Cli.run("inpaint", "--model", run.toString(), "--image", digit.toString(), "--mask", mask.toString(),
        "--method", "dps", "--jump", "2", "--out", dir.resolve("x.png").toString()), "--jump applies to --method repaint");
    fails(Cli.run("inpaint", "--model", run.toString(), "--image", digit.toString(), "--mask", mask.toString(),
        "--method", "repaint", "--sigma-y", "0.1", "--out", dir.resolve("x.png").toString()),
        "--sigma-y applies to --method pigdm");
    fails(Cli.run("inpaint", "--model", run.toString(), "--image", digit.toString(), "--mask", mask.toString(),
        "--method", "paint", "--out", dir.resolve("x.png").toString()), "unknown --method 'paint'", "replace, repaint, dps");
    fails(Cli.run("inpaint", "--model", run.toString(), "--image", digit.toString(), "--mask", mask.toString(),
        "--method", "replace", "--resample", "3", "--out", dir.resolve("x.png").toString()), "--resample applies");
    Path small = dir.resolve("small.png");
    png(small, new int[4][4]);
    fails(Cli.run("inpaint", "--model", run.toString(), "--image", digit.toString(), "--mask", small.toString(),
        "--out", dir.resolve("x.png").toString()), "--mask", "is 4×4 but the run's samples are 8×8");
    fails(Cli.run("inpaint", "--model", run.toString(), "--image", digit.toString(), "--mask", mask.toString(),
        "--class", "5", "--out", dir.resolve("x.png").toString()), "--class 5", "accepted 0..1");
    assertTrue(!Files.exists(dir.resolve("x.png")));
  }

  @Test
  void restoreSuperResolvesAndDeblurs() throws Exception {
    Cli.Run r = Cli.run("restore", "--model", run.toString(), "--image", digit.toString(), "--operator", "sr2",
        "--noise-std", "0.02", "--steps", "8", "--seeds", "0-1", "--out", dir.resolve("sr.png").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("residual") && r.out().contains("PSNR"), r.out());
    assertTrue(Files.isRegularFile(dir.resolve("sr-compare.png")));
    Path y = dir.resolve("y4.png");
    png(y, new int[][] {{200, 200, 200, 200}, {200, 210, 220, 230}, {10, 10, 10, 10}, {12, 14, 10, 10}});
    r = Cli.run("restore", "--model", run.toString(), "--image", y.toString(), "--measured", "--operator", "sr2",
        "--steps", "4", "--seeds", "0", "--out", dir.resolve("sr-measured.png").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(!r.out().contains("PSNR"), r.out());
    r = Cli.run("restore", "--model", run.toString(), "--image", digit.toString(), "--operator", "blur:0.7",
        "--steps", "4", "--seeds", "0", "--out", dir.resolve("blur.npy").toString());
    assertEquals(0, r.code(), r.err());
    for (String op : new String[] {"sr2", "blur:0.7"}) {
      r = Cli.run("restore", "--model", run.toString(), "--image", digit.toString(), "--operator", op, "--method", "pigdm",
          "--noise-std", "0.05", "--steps", "4", "--seeds", "0", "--out", dir.resolve("pigdm-" + op + ".png").toString());
      assertEquals(0, r.code(), r.err());
      assertTrue(r.out().contains("ΠGDM (") && r.out().contains("σ_y = 0.05") && r.out().contains("PSNR"), r.out());
    }
    fails(Cli.run("restore", "--model", run.toString(), "--image", digit.toString(), "--operator", "sr2", "--method", "red",
        "--out", dir.resolve("x.png").toString()), "unknown --method 'red'", "dps, pigdm");
    fails(Cli.run("restore", "--model", run.toString(), "--image", digit.toString(), "--operator", "sr2", "--method", "pigdm",
        "--sigma-y", "-1", "--out", dir.resolve("x.png").toString()), "--sigma-y must be finite and >= 0");
    fails(Cli.run("restore", "--model", run.toString(), "--image", digit.toString(), "--operator", "jpeg",
        "--out", dir.resolve("x.png").toString()), "unknown measurement operator 'jpeg'", "blur:S");
    fails(Cli.run("restore", "--model", run.toString(), "--image", digit.toString(), "--measured", "--operator", "sr2",
        "--out", dir.resolve("x.png").toString()), "the image is 8×8 but the run's samples are 4×4");
    fails(Cli.run("restore", "--model", run.toString(), "--image", y.toString(), "--measured", "--noise-std", "0.1",
        "--operator", "sr2", "--out", dir.resolve("x.png").toString()), "--noise-std", "already y");
    fails(Cli.run("restore", "--model", run.toString(), "--image", digit.toString(), "--operator", "sr2",
        "--noise-std", "NaN", "--out", dir.resolve("x.png").toString()), "--noise-std must be finite");
    fails(Cli.run("restore", "--model", run.toString(), "--image", digit.toString(), "--operator", "sr3",
        "--out", dir.resolve("x.png").toString()), "divisible by 3");
  }

  @Test
  void sdeditAndInversion() throws Exception {
    Cli.Run r = Cli.run("sdedit", "--model", run.toString(), "--image", digit.toString(), "--strength", "0.3",
        "--steps", "10", "--seeds", "0-2", "--class", "1", "--guidance", "2", "--out", dir.resolve("ed.png").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("SDEdit strength 0.3") && r.out().contains("3 steps"), r.out());
    BufferedImage ed = ImageIO.read(dir.resolve("ed.png").toFile());
    assertEquals(3 * 32 + 8, ed.getWidth(), "three results in a row");
    fails(Cli.run("sdedit", "--model", run.toString(), "--image", digit.toString(), "--strength", "0",
        "--out", dir.resolve("x.png").toString()), "strength must be in (0, 1]");
    fails(Cli.run("sdedit", "--model", run.toString(), "--image", digit.toString(), "--guidance", "2",
        "--out", dir.resolve("x.png").toString()), "--guidance needs --class");
    fails(Cli.run("sdedit", "--model", run.toString(), "--image", digit.toString(), "--out", dir.resolve("x.jpg").toString()),
        "must end in .png or .npy");

    Path z = dir.resolve("z.npy");
    r = Cli.run("invert", "--model", run.toString(), "--image", digit.toString(), "--class", "0", "--steps", "20",
        "--latent", z.toString(), "--out", dir.resolve("regen.npy").toString());
    assertEquals(0, r.code(), r.err());
    java.util.regex.Matcher mm = java.util.regex.Pattern.compile("round trip RMS ([0-9.e+-]+)").matcher(r.out());
    assertTrue(mm.find(), r.out());
    // 20 DDIM steps on a barely trained network: first-order error, well below the data's range of 2.
    assertTrue(Double.parseDouble(mm.group(1)) < 0.5, r.out());
    assertEquals("[1, 3, 8, 8]", java.util.Arrays.toString(Npy.read(z).shape()));
    fails(Cli.run("invert", "--model", run.toString(), "--image", digit.toString(), "--seeds", "0-3",
        "--out", dir.resolve("x.png").toString()), "--seeds and --sampler do not apply");
    fails(Cli.run("invert", "--model", run.toString(), "--image", digit.toString(), "--regenerate-class", "2",
        "--out", dir.resolve("x.png").toString()), "--regenerate-class 2", "accepted 0..1");
    fails(Cli.run("invert", "--model", dir.toString(), "--image", digit.toString(),
        "--out", dir.resolve("x.png").toString()), "not a run directory");
  }

  @Test
  void classAllAndImageClassifierGuidance() throws Exception {
    Path out = dir.resolve("all.png");
    Cli.Run r = Cli.run("sample", "--model", run.toString(), "--class", "all", "--sampler", "heun", "--steps", "4",
        "--seeds", "0-2", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    BufferedImage img = ImageIO.read(out.toFile());
    // Two rows (one per class) of three 8×8 images at zoom 2 with 2-pixel gutters.
    assertEquals(2 + 3 * 18, img.getWidth());
    assertEquals(2 + 2 * 18, img.getHeight());
    Path npy = dir.resolve("all.npy");
    r = Cli.run("sample", "--model", run.toString(), "--class", "all", "--sampler", "heun", "--steps", "4",
        "--seeds", "0-2", "--out", npy.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals("[6, 3, 8, 8]", java.util.Arrays.toString(Npy.read(npy).shape()));
    fails(Cli.run("sample", "--model", run.toString(), "--class", "seven", "--sampler", "heun",
        "--out", dir.resolve("x.png").toString()), "--class 'seven'", "class number or all");

    Path clf = dir.resolve("clf");
    r = Cli.run("train-classifier", "--data", "images:" + dir.resolve("images"), "--steps", "60", "--batch", "16",
        "--hidden", "8", "--sigma-range", "0.01,10", "--resolution", "8", "--out", clf.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.readString(clf.resolve("config.json")).contains("\"shape\""));
    r = Cli.run("sample", "--model", run.toString(), "--class", "1", "--classifier", clf.toString(),
        "--classifier-scale", "2", "--sampler", "heun", "--steps", "4", "--seeds", "0-1",
        "--out", dir.resolve("cg.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("classifier guidance s = 2"), r.out());
  }
}
