package org.diffusion4j.train.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.diffusion4j.io.Npy;

/**
 * A host tensor as safetensors stores it: a dtype, a C-order shape and the raw little-endian bytes.
 * Independent of any engine; {@link #of(NDArray)} and {@link #toNDArray(NDManager)} convert.
 *
 * @param dtype element type
 * @param shape C-order shape (empty for a scalar)
 * @param data raw little-endian bytes, {@code product(shape) * dtype.size()} of them
 */
public record Tensor(Dtype dtype, long[] shape, byte[] data) {

  /** The element types we read and write, spelled as in safetensors' header. */
  public enum Dtype {
    F32(4), F64(8), I64(8), I32(4), F16(2), BF16(2), U8(1), I8(1), BOOL(1);

    private final int size;

    Dtype(int size) {
      this.size = size;
    }

    /** Bytes per element. */
    public int size() {
      return size;
    }

    /**
     * Rank in the reference writer's ordering (its dtype enum order: BOOL, U8, I8, I16, U16, F16,
     * BF16, I32, U32, F32, F64, I64); tensors are written by descending rank, then by name.
     */
    int alignmentRank() {
      switch (this) {
        case BOOL: return 0;
        case U8: return 1;
        case I8: return 2;
        case F16: return 7;
        case BF16: return 8;
        case I32: return 9;
        case F32: return 11;
        case F64: return 12;
        case I64: return 13;
        default: throw new AssertionError(this);
      }
    }
  }

  public Tensor {
    long n = elements(shape);
    if (n * dtype.size() != data.length) {
      throw new IllegalArgumentException("tensor of shape " + Arrays.toString(shape) + " and dtype " + dtype
          + " needs " + n * dtype.size() + " bytes, got " + data.length);
    }
  }

  /** Number of elements of a shape (1 for a scalar). */
  static long elements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  private static ByteBuffer buffer(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A float32 tensor. */
  public static Tensor of(float[] v, long... shape) {
    ByteBuffer b = buffer(v.length * 4);
    b.asFloatBuffer().put(v);
    return new Tensor(Dtype.F32, shape.clone(), b.array());
  }

  /** A float64 tensor. */
  public static Tensor of(double[] v, long... shape) {
    ByteBuffer b = buffer(v.length * 8);
    b.asDoubleBuffer().put(v);
    return new Tensor(Dtype.F64, shape.clone(), b.array());
  }

  /** An int64 tensor. */
  public static Tensor of(long[] v, long... shape) {
    ByteBuffer b = buffer(v.length * 8);
    b.asLongBuffer().put(v);
    return new Tensor(Dtype.I64, shape.clone(), b.array());
  }

  /** A copy of an NDArray's values (FLOAT32, FLOAT64, INT64, INT32, UINT8, INT8, BOOLEAN). */
  public static Tensor of(NDArray a) {
    long[] shape = a.getShape().getShape();
    DataType t = a.getDataType();
    switch (t) {
      case FLOAT32: return of(a.toFloatArray(), shape);
      case FLOAT64: return of(a.toDoubleArray(), shape);
      case INT64: return of(a.toLongArray(), shape);
      case INT32: {
        int[] v = a.toIntArray();
        ByteBuffer b = buffer(v.length * 4);
        b.asIntBuffer().put(v);
        return new Tensor(Dtype.I32, shape, b.array());
      }
      case UINT8: return new Tensor(Dtype.U8, shape, a.toByteArray());
      case INT8: return new Tensor(Dtype.I8, shape, a.toByteArray());
      case BOOLEAN: {
        boolean[] v = a.toBooleanArray();
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
          b[i] = (byte) (v[i] ? 1 : 0);
        }
        return new Tensor(Dtype.BOOL, shape, b);
      }
      default:
        throw new IllegalArgumentException("cannot store NDArray of type " + t
            + "; accepted: FLOAT32, FLOAT64, INT64, INT32, UINT8, INT8, BOOLEAN");
    }
  }

  /** Number of elements. */
  public long size() {
    return elements(shape);
  }

  /** The values as floats (exact for F32, F16, BF16, small integers; rounded for F64, I64). */
  public float[] toFloatArray() {
    if (dtype == Dtype.F32) {
      float[] v = new float[(int) size()];
      ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
      return v;
    }
    double[] d = toDoubleArray();
    float[] v = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      v[i] = (float) d[i];
    }
    return v;
  }

  /** The values as doubles. */
  public double[] toDoubleArray() {
    int n = (int) size();
    double[] v = new double[n];
    ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      switch (dtype) {
        case F32: v[i] = b.getFloat(); break;
        case F64: v[i] = b.getDouble(); break;
        case I64: v[i] = b.getLong(); break;
        case I32: v[i] = b.getInt(); break;
        case F16: v[i] = Npy.halfToDouble(b.getShort()); break;
        case BF16: v[i] = Float.intBitsToFloat((b.getShort() & 0xffff) << 16); break;
        case U8: v[i] = b.get() & 0xff; break;
        case I8: v[i] = b.get(); break;
        case BOOL: v[i] = b.get() != 0 ? 1 : 0; break;
        default: throw new AssertionError(dtype);
      }
    }
    return v;
  }

  /** The values as longs; only for I64 tensors. */
  public long[] toLongArray() {
    if (dtype != Dtype.I64) {
      throw new IllegalStateException("tensor is " + dtype + ", not I64");
    }
    long[] v = new long[(int) size()];
    ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(v);
    return v;
  }

  /** A new NDArray in {@code manager} with these values; F16/BF16 become FLOAT32. */
  public NDArray toNDArray(NDManager manager) {
    Shape s = new Shape(shape);
    switch (dtype) {
      case F32:
      case F16:
      case BF16:
        return manager.create(toFloatArray(), s);
      case F64: return manager.create(toDoubleArray(), s);
      case I64: return manager.create(toLongArray(), s);
      case I32: {
        int[] v = new int[(int) size()];
        ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(v);
        return manager.create(v, s);
      }
      case U8: return manager.create(ByteBuffer.wrap(data), s, DataType.UINT8);
      case I8: return manager.create(ByteBuffer.wrap(data), s, DataType.INT8);
      case BOOL: return manager.create(ByteBuffer.wrap(data), s, DataType.BOOLEAN);
      default: throw new AssertionError(dtype);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Tensor t && t.dtype == dtype && Arrays.equals(t.shape, shape) && Arrays.equals(t.data, data);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "Tensor[" + dtype + " " + Arrays.toString(shape) + "]";
  }
}
