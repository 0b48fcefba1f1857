package org.diffusion4j.guidance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The forward operator A of an inverse problem {@code y = A(x0) + noise} (Chung et al. 2023, eq. 1),
 * applied to a batch {@code [n, …]}; it must be built from differentiable NDArray operations, as
 * {@link PosteriorSampling} back-propagates through it.
 *
 * <p>{@link PseudoinverseGuidance} (ΠGDM) also needs, for a linear A, the adjoint {@code Aᵀ} and —
 * where {@code A Aᵀ} is diagonal — that diagonal, to invert {@code r² A Aᵀ + σ_y² I} in closed form;
 * all the built-in operators give both (the blur's Gram matrix is not diagonal: ΠGDM solves it by
 * conjugate gradients).
 */
public interface MeasurementOperator {

  /** {@code A(x)} for a batch {@code [n, …]}, giving {@code [n, …]} measurements. */
  NDArray apply(NDArray x);

  /** The shape of one measurement for samples of {@code sampleShape}. */
  long[] measurementShape(long[] sampleShape);

  /** A name for messages. */
  String describe();

  /**
   * The measurement residual {@code y − A(x)} of a batch (one measurement {@code y} shared by every row), in
   * A(x)'s dtype; an error naming the operator when y does not have A's number of values per sample.
   */
  default NDArray residual(double[] y, NDArray x) {
    NDArray a = apply(x);
    long[] s = a.getShape().getShape().clone();
    long per = a.size() / Math.max(1, s[0]);
    if (per != y.length) {
      throw new IllegalArgumentException(describe() + " gives " + per + " values per sample but the measurement has "
          + y.length);
    }
    s[0] = 1;
    return a.getManager().create(y, new Shape(s)).toType(a.getDataType(), false).sub(a);
  }

  /**
   * {@code Aᵀ v} for a batch of measurements {@code v [n, measurement shape]}, giving {@code [n,
   * sampleShape…]}; linear operators only. The default refuses: operators used with conjugate gradients
   * in {@link PseudoinverseGuidance} must override it.
   */
  default NDArray adjoint(NDArray v, long[] sampleShape) {
    throw new UnsupportedOperationException("the operator " + describe() + " has no adjoint Aᵀ (needed by ΠGDM's "
        + "conjugate gradients); implement MeasurementOperator.adjoint");
  }

  /**
   * The diagonal of {@code A Aᵀ} (one value per measurement value, row-major) when {@code A Aᵀ} is
   * diagonal, for samples of {@code sampleShape}; empty when it is not (or not known to be).
   */
  default Optional<double[]> gramDiagonal(long[] sampleShape) {
    return Optional.empty();
  }

  /** Inpainting: keeps the values where {@code mask} (one sample's values, 0/1) is 1 and zeroes the rest. */
  static MeasurementOperator mask(double[] mask) {
    double[] m = mask.clone();
    return new MeasurementOperator() {
      @Override
      public NDArray apply(NDArray x) {
        int per = Rows.perSample(x);
        if (per != m.length) {
          throw new IllegalArgumentException("the mask has " + m.length + " values but the samples have " + per
              + " (shape " + x.getShape() + ")");
        }
        long[] s = x.getShape().getShape().clone();
        s[0] = 1;
        return x.mul(x.getManager().create(m, new Shape(s)).toType(x.getDataType(), false));
      }

      @Override
      public long[] measurementShape(long[] sampleShape) {
        return sampleShape.clone();
      }

      @Override
      public NDArray adjoint(NDArray v, long[] sampleShape) {
        return apply(v);
      }

      @Override
      public Optional<double[]> gramDiagonal(long[] sampleShape) {
        // A = diag(m) with m ∈ {0, 1}: A Aᵀ = diag(m²).
        double[] g = new double[m.length];
        for (int i = 0; i < m.length; i++) {
          g[i] = m[i] * m[i];
        }
        return Optional.of(g);
      }

      @Override
      public String describe() {
        return "mask";
      }
    };
  }

  /** Box super-resolution: the mean over {@code f × f} blocks of images {@code [n, C, H, W]}, H and W divisible by f. */
  static MeasurementOperator averagePool(int f) {
    if (f < 1) {
      throw new IllegalArgumentException("the pooling factor must be >= 1, got " + f);
    }
    return new MeasurementOperator() {
      @Override
      public NDArray apply(NDArray x) {
        Shape s = x.getShape();
        long[] out = measurementShape(Arrays.copyOfRange(s.getShape(), 1, s.dimension()));
        return x.reshape(s.get(0), s.get(1), out[1], f, out[2], f).mean(new int[] {5}).mean(new int[] {3});
      }

      @Override
      public long[] measurementShape(long[] sampleShape) {
        if (sampleShape.length != 3 || sampleShape[1] % f != 0 || sampleShape[2] % f != 0) {
          throw new IllegalArgumentException("sr" + f + " needs images [C, H, W] with H and W divisible by " + f
              + ", got " + Arrays.toString(sampleShape));
        }
        return new long[] {sampleShape[0], sampleShape[1] / f, sampleShape[2] / f};
      }

      @Override
      public NDArray adjoint(NDArray v, long[] sampleShape) {
        long[] ms = measurementShape(sampleShape);
        long n = v.getShape().get(0);
        // Each measured mean spreads back over its f × f block with weight 1/f².
        try (NDArray ones = v.getManager().ones(new Shape(1, 1, 1, f, 1, f), v.getDataType())) {
          NDArray spread = v.reshape(n, ms[0], ms[1], 1, ms[2], 1).mul(ones);
          return org.diffusion4j.tensor.Scalars.div(spread, f * f).reshape(n, sampleShape[0], sampleShape[1],
              sampleShape[2]);
        }
      }

      @Override
      public Optional<double[]> gramDiagonal(long[] sampleShape) {
        long[] ms = measurementShape(sampleShape);
        double[] g = new double[Math.toIntExact(ms[0] * ms[1] * ms[2])];
        // Disjoint blocks: A Aᵀ = (f² · 1/f⁴) I = I/f².
        Arrays.fill(g, 1.0 / (f * f));
        return Optional.of(g);
      }

      @Override
      public String describe() {
        return "sr" + f;
      }
    };
  }

  /** A matrix {@code A [m, d]} on the flattened sample: {@code y = A x}. */
  static MeasurementOperator linear(double[][] a) {
    int m = a.length;
    if (m == 0) {
      throw new IllegalArgumentException("the matrix A needs at least one row");
    }
    int d = a[0].length;
    double[] flat = new double[m * d];
    for (int i = 0; i < m; i++) {
      if (a[i].length != d) {
        throw new IllegalArgumentException("row " + i + " of A has " + a[i].length + " columns, row 0 has " + d);
      }
      System.arraycopy(a[i], 0, flat, i * d, d);
    }
    return new MeasurementOperator() {
      @Override
      public NDArray apply(NDArray x) {
        long n = x.getShape().get(0);
        if (Rows.perSample(x) != d) {
          throw new IllegalArgumentException("A has " + d + " columns but the samples have " + Rows.perSample(x)
              + " values");
        }
        NDArray at = x.getManager().create(flat, new Shape(m, d)).toType(x.getDataType(), false).transpose();
        return x.reshape(n, d).matMul(at);
      }

      @Override
      public long[] measurementShape(long[] sampleShape) {
        return new long[] {m};
      }

      @Override
      public NDArray adjoint(NDArray v, long[] sampleShape) {
        long n = v.getShape().get(0);
        NDArray am = v.getManager().create(flat, new Shape(m, d)).toType(v.getDataType(), false);
        long[] out = new long[sampleShape.length + 1];
        out[0] = n;
        System.arraycopy(sampleShape, 0, out, 1, sampleShape.length);
        return v.reshape(n, m).matMul(am).reshape(new Shape(out));
      }

      @Override
      public Optional<double[]> gramDiagonal(long[] sampleShape) {
        double[] g = new double[m];
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < m; j++) {
            double dot = 0;
            for (int k = 0; k < d; k++) {
              dot += flat[i * d + k] * flat[j * d + k];
            }
            if (i == j) {
              g[i] = dot;
            } else if (dot != 0) {
              return Optional.empty();
            }
          }
        }
        return Optional.of(g);
      }

      @Override
      public String describe() {
        return "linear " + m + "×" + d;
      }
    };
  }

  /**
   * Gaussian deblurring's forward operator (Chung et al. 2023, §4): a separable Gaussian blur of width
   * {@code std} pixels on images {@code [n, C, H, W]}, kernel radius {@code ⌈3·std⌉}, zero padding,
   * applied as {@code B_H · x · B_Wᵀ} with banded matrices (differentiable and linear; because of the zero padding
   * {@code A(a·x + b) = a·A(x) + b·A(1)} with {@code A(1) < 1} at the border).
   */
  static MeasurementOperator gaussianBlur(double std) {
    if (!(std > 0) || Double.isInfinite(std)) {
      throw new IllegalArgumentException("the blur width must be finite and > 0 pixels, got " + std);
    }
    int r = (int) Math.ceil(3 * std);
    double[] k = new double[2 * r + 1];
    double sum = 0;
    for (int i = -r; i <= r; i++) {
      k[i + r] = Math.exp(-0.5 * i * i / (std * std));
      sum += k[i + r];
    }
    for (int i = 0; i < k.length; i++) {
      k[i] /= sum;
    }
    return new MeasurementOperator() {
      private double[] band(int size) {
        double[] b = new double[size * size];
        for (int i = 0; i < size; i++) {
          for (int j = Math.max(0, i - r); j <= Math.min(size - 1, i + r); j++) {
            b[i * size + j] = k[j - i + r];
          }
        }
        return b;
      }

      @Override
      public NDArray apply(NDArray x) {
        Shape s = x.getShape();
        measurementShape(Arrays.copyOfRange(s.getShape(), 1, s.dimension()));
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        NDArray bh = x.getManager().create(band(h), new Shape(h, h)).toType(x.getDataType(), false);
        NDArray bwT = x.getManager().create(band(w), new Shape(w, w)).toType(x.getDataType(), false).transpose();
        return bh.matMul(x.reshape(s.get(0) * s.get(1), h, w)).matMul(bwT).reshape(s);
      }

      @Override
      public long[] measurementShape(long[] sampleShape) {
        if (sampleShape.length != 3) {
          throw new IllegalArgumentException("blur needs images [C, H, W], got " + Arrays.toString(sampleShape));
        }
        return sampleShape.clone();
      }

      @Override
      public NDArray adjoint(NDArray v, long[] sampleShape) {
        // (B_H · x · B_Wᵀ)ᵀ = B_Hᵀ · v · B_W.
        Shape s = v.getShape();
        measurementShape(sampleShape);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        NDArray bhT = v.getManager().create(band(h), new Shape(h, h)).toType(v.getDataType(), false).transpose();
        NDArray bw = v.getManager().create(band(w), new Shape(w, w)).toType(v.getDataType(), false);
        return bhT.matMul(v.reshape(s.get(0) * s.get(1), h, w)).matMul(bw).reshape(s);
      }

      @Override
      public String describe() {
        return "Gaussian blur σ = " + std + " px";
      }
    };
  }

  /** The identity (denoising). */
  static MeasurementOperator identity() {
    return new MeasurementOperator() {
      @Override
      public NDArray apply(NDArray x) {
        return x;
      }

      @Override
      public long[] measurementShape(long[] sampleShape) {
        return sampleShape.clone();
      }

      @Override
      public NDArray adjoint(NDArray v, long[] sampleShape) {
        return v;
      }

      @Override
      public Optional<double[]> gramDiagonal(long[] sampleShape) {
        long per = 1;
        for (long k : sampleShape) {
          per *= k;
        }
        double[] g = new double[Math.toIntExact(per)];
        Arrays.fill(g, 1);
        return Optional.of(g);
      }

      @Override
      public String describe() {
        return "identity";
      }
    };
  }

  /** By name: {@code identity}, {@code sr2}, {@code sr4} (or {@code srN}), {@code blur} (σ = 1 px) or {@code blur:S}. */
  static MeasurementOperator parse(String name) {
    String s = name.toLowerCase(Locale.ROOT).trim();
    if (s.equals("identity")) {
      return identity();
    }
    if (s.matches("sr[1-9][0-9]?")) {
      return averagePool(Integer.parseInt(s.substring(2)));
    }
    if (s.equals("blur")) {
      return gaussianBlur(1);
    }
    if (s.startsWith("blur:")) {
      double w;
      try {
        w = Double.parseDouble(s.substring(5));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("operator '" + name + "': blur:S takes the blur width in pixels, e.g. blur:1.5");
      }
      return gaussianBlur(w);
    }
    throw new IllegalArgumentException("unknown measurement operator '" + name
        + "'; accepted: identity, sr2, sr4 (srN: average pooling by N), blur or blur:S (Gaussian blur of S pixels); "
        + "masks come with --inpaint");
  }
}
