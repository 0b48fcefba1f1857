package org.diffusion4j.guidance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Locale;

/**
 * The forward operator A of an inverse problem {@code y = A(x0) + noise} (Chung et al. 2023, eq. 1),
 * applied to a batch {@code [n, …]}; it must be built from differentiable NDArray operations, as
 * {@link PosteriorSampling} back-propagates through it.
 */
public interface MeasurementOperator {

  /** {@code A(x)} for a batch {@code [n, …]}, giving {@code [n, …]} measurements. */
  NDArray apply(NDArray x);

  /** The shape of one measurement for samples of {@code sampleShape}. */
  long[] measurementShape(long[] sampleShape);

  /** A name for messages. */
  String describe();

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
        long[] s = x.getShape().getShape();
        s[0] = 1;
        return x.mul(x.getManager().create(m, new Shape(s)).toType(x.getDataType(), false));
      }

      @Override
      public long[] measurementShape(long[] sampleShape) {
        return sampleShape.clone();
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
      public String describe() {
        return "linear " + m + "×" + d;
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
      public String describe() {
        return "identity";
      }
    };
  }

  /** By name: {@code identity}, {@code sr2}, {@code sr4} (or {@code srN}). */
  static MeasurementOperator parse(String name) {
    String s = name.toLowerCase(Locale.ROOT).trim();
    if (s.equals("identity")) {
      return identity();
    }
    if (s.matches("sr[1-9][0-9]?")) {
      return averagePool(Integer.parseInt(s.substring(2)));
    }
    throw new IllegalArgumentException("unknown measurement operator '" + name
        + "'; accepted: identity, sr2, sr4 (srN: average pooling by N); masks come with --inpaint");
  }
}
