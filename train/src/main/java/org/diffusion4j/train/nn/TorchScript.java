package org.diffusion4j.train.nn;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Small TorchScript modules built in memory, for the PyTorch ops DJL 0.36 has no binding for (the fused
 * group norm, the {@code _foreach} list ops, {@code autograd.grad}). A module is an archive in PyTorch's
 * own serialization format — pickled module object, TorchScript source of one class, empty constants,
 * format version — loaded once through DJL's stream loader and called through {@link IValueUtils}.
 */
public final class TorchScript {
  private static final String ENGINE = "PyTorch";

  private TorchScript() {}

  /** Whether the default engine is PyTorch (the only one that runs TorchScript). */
  public static boolean available() {
    return ENGINE.equals(Engine.getInstance().getEngineName());
  }

  /** Whether {@code a} lives on the PyTorch engine. */
  public static boolean isTorch(NDArray a) {
    return isTorch(a.getManager());
  }

  /** Whether {@code m}'s arrays live on the PyTorch engine. */
  public static boolean isTorch(NDManager m) {
    return ENGINE.equals(m.getEngine().getEngineName());
  }

  /**
   * Loads the module whose class {@code __torch__.NAME} has the given TorchScript source (a class
   * {@code NAME(Module)} with {@code __parameters__ = []}, {@code __buffers__ = []}, {@code training : bool}
   * and its methods). The module lives as long as the process.
   */
  public static PtSymbolBlock load(String name, String source) {
    if (!available()) {
      throw new UnsupportedOperationException("TorchScript needs the PyTorch engine; the default DJL engine is "
          + Engine.getInstance().getEngineName());
    }
    try {
      long handle = JniUtils.loadModuleHandle(new ByteArrayInputStream(archive(name, source)), Device.cpu(), true,
          false);
      // A manager of its own, never closed: the module lives as long as the process.
      return new PtSymbolBlock((PtNDManager) Engine.getInstance().newBaseManager(), handle);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Runs {@code forward} with autograd as the current grad mode has it (recorded inside a gradient
   * collector, not otherwise). Outputs belong to the first input's manager. Inputs named {@code x[]}
   * form one list argument (DJL reads structure from array names), unnamed ones are single tensors.
   */
  public static NDList call(PtSymbolBlock module, NDList inputs) {
    return IValueUtils.forward(module, inputs, true);
  }

  /** The module archive: pickled object, source, empty constants, format version. */
  public static byte[] archive(String name, String source) {
    if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      throw new IllegalArgumentException("TorchScript class name must be an identifier, got '" + name + "'");
    }
    ByteArrayOutputStream zip = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(zip)) {
      ByteArrayOutputStream pickle = new ByteArrayOutputStream();
      // Protocol 2: GLOBAL __torch__.NAME, NEWOBJ(), BUILD({"training": True}), STOP.
      pickle.write(new byte[] {(byte) 0x80, 2});
      pickle.write(("c__torch__\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
      pickle.write(new byte[] {')', (byte) 0x81, '}', 'X', 8, 0, 0, 0});
      pickle.write("training".getBytes(StandardCharsets.US_ASCII));
      pickle.write(new byte[] {(byte) 0x88, 's', 'b', '.'});
      stored(z, "archive/data.pkl", pickle.toByteArray());
      stored(z, "archive/code/__torch__.py", source.getBytes(StandardCharsets.UTF_8));
      stored(z, "archive/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
      stored(z, "archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return zip.toByteArray();
  }

  private static void stored(ZipOutputStream z, String name, byte[] bytes) throws IOException {
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setSize(bytes.length);
    e.setCompressedSize(bytes.length);
    CRC32 crc = new CRC32();
    crc.update(bytes);
    e.setCrc(crc.getValue());
    z.putNextEntry(e);
    z.write(bytes);
    z.closeEntry();
  }
}
