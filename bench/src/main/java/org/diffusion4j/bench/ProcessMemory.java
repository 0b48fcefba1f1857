package org.diffusion4j.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * This process's memory as Linux sees it: the resident set, the part of it that is the Java heap, and the minor page
 * faults so far. The Java heap's address range comes from the JVM's own {@code GC.heap_info} diagnostic command (the
 * one {@code jcmd PID GC.heap_info} runs); its resident part is the sum of the {@code Rss} of the mappings of
 * {@code /proc/self/smaps} inside that range. The rest of the resident set is native memory: libtorch's tensors and
 * workspaces, the JVM's own structures, code and thread stacks.
 */
final class ProcessMemory {
  private static final Pattern RANGE = Pattern.compile("\\[0x([0-9a-f]+), 0x([0-9a-f]+)(?:, 0x[0-9a-f]+)?\\)");
  private static final Pattern MALLOC_LIBRARY =
      Pattern.compile("(/\\S*lib(tcmalloc|jemalloc|mimalloc)[^/\\s]*\\.so[^/\\s]*)$");
  private static final Pattern NMT_TOTAL = Pattern.compile("Total: reserved=\\d+\\w*, committed=(\\d+)(KB|MB|GB)?");
  private static final Pattern NMT_HEAP =
      Pattern.compile("Java Heap \\(reserved=\\d+\\w*, committed=(\\d+)(KB|MB|GB)?");
  private static final Pattern MAPPING = Pattern.compile("^([0-9a-f]+)-([0-9a-f]+) .*");

  private ProcessMemory() {}

  /** VmRSS of this process in MB. */
  static double rssMb() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
      }
    }
    return Double.NaN;
  }

  /**
   * The resident part of the Java heap in MB, or NaN when the JVM does not print its heap's range (a collector
   * whose {@code GC.heap_info} has another format).
   */
  static double javaHeapRssMb() throws IOException {
    long[] range = javaHeapRange();
    if (range == null) {
      return Double.NaN;
    }
    return residentKbIn(Files.readAllLines(Path.of("/proc/self/smaps")), range[0], range[1]) / 1024.0;
  }

  /** Minor page faults of this process so far (field 10 of {@code /proc/self/stat}), or -1 when unreadable. */
  static long minorFaults() throws IOException {
    String stat = Files.readString(Path.of("/proc/self/stat"));
    // the command name (field 2) is in parentheses and may hold spaces: count fields after its closing one
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
    return f.length > 7 ? Long.parseLong(f[7]) : -1;
  }

  /**
   * The malloc this process runs on, read from its own mappings: e.g. "tcmalloc (/usr/lib/…/libtcmalloc_minimal.so.4)"
   * when one is preloaded, otherwise "glibc malloc, GLIBC_TUNABLES …" with the tunables it was started with.
   */
  static String allocator() {
    List<String> maps;
    try {
      maps = Files.readAllLines(Path.of("/proc/self/maps"));
    } catch (IOException | RuntimeException e) {
      maps = List.of();
    }
    return allocator(maps, System.getenv("GLIBC_TUNABLES"));
  }

  /** {@link #allocator()} of the given {@code /proc/PID/maps} lines and {@code GLIBC_TUNABLES} value (null: unset). */
  static String allocator(List<String> maps, String glibcTunables) {
    for (String line : maps) {
      Matcher m = MALLOC_LIBRARY.matcher(line);
      if (m.find()) {
        return m.group(2) + " (" + m.group(1) + ")";
      }
    }
    return "glibc malloc, GLIBC_TUNABLES " + (glibcTunables == null || glibcTunables.isEmpty() ? "unset"
        : glibcTunables);
  }

  /**
   * What the JVM itself has committed outside the Java heap, in MB (code cache, metaspace, GC structures, thread
   * stacks, its own mallocs), from Native Memory Tracking; NaN when the JVM was started without
   * {@code -XX:NativeMemoryTracking=summary} (as {@code bin/bench soak} starts it). Committed is not resident, and
   * the JVM's mallocs come from the same allocator as libtorch's, so the native resident set less this is not
   * libtorch's share (measured: the two moved by the same amounts in opposite directions).
   */
  static double jvmNonHeapCommittedMb() {
    try {
      String summary = (String) ManagementFactory.getPlatformMBeanServer().invoke(
          new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
          new Object[] {new String[] {"summary", "scale=KB"}}, new String[] {String[].class.getName()});
      long kb = nonHeapCommittedKb(summary);
      return kb < 0 ? Double.NaN : kb / 1024.0;
    } catch (JMException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /**
   * Total committed less the Java heap's committed, in kB, of a {@code VM.native_memory summary} text (numbers
   * with a KB/MB/GB unit or plain bytes); -1 when the text has no total (tracking off).
   */
  static long nonHeapCommittedKb(String summary) {
    Matcher total = NMT_TOTAL.matcher(summary == null ? "" : summary);
    if (!total.find()) {
      return -1;
    }
    Matcher heap = NMT_HEAP.matcher(summary);
    long heapKb = heap.find() ? kb(heap.group(1), heap.group(2)) : 0;
    return kb(total.group(1), total.group(2)) - heapKb;
  }

  private static long kb(String number, String unit) {
    long n = Long.parseLong(number);
    return switch (unit == null ? "" : unit) {
      case "KB" -> n;
      case "MB" -> n << 10;
      case "GB" -> n << 20;
      default -> n >> 10;
    };
  }

  /** [start, end) of the Java heap's reserved range, from {@code GC.heap_info}; null when it has no range. */
  static long[] javaHeapRange() {
    String info;
    try {
      info = (String) ManagementFactory.getPlatformMBeanServer().invoke(
          new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcHeapInfo",
          new Object[] {null}, new String[] {String[].class.getName()});
    } catch (JMException | RuntimeException e) {
      return null;
    }
    return heapRange(info);
  }

  /** The first address range of a {@code GC.heap_info} text, e.g. G1's "[0x…687400000, 0x…800000000)". */
  static long[] heapRange(String heapInfo) {
    Matcher m = RANGE.matcher(heapInfo == null ? "" : heapInfo);
    if (!m.find()) {
      return null;
    }
    return new long[] {Long.parseUnsignedLong(m.group(1), 16), Long.parseUnsignedLong(m.group(2), 16)};
  }

  /** Sum of the {@code Rss:} lines (kB) of the smaps mappings that lie inside [start, end). */
  static long residentKbIn(List<String> smaps, long start, long end) {
    long total = 0;
    boolean inside = false;
    for (String line : smaps) {
      Matcher m = MAPPING.matcher(line);
      if (m.matches()) {
        long a = Long.parseUnsignedLong(m.group(1), 16);
        long b = Long.parseUnsignedLong(m.group(2), 16);
        inside = Long.compareUnsigned(a, start) >= 0 && Long.compareUnsigned(b, end) <= 0;
      } else if (inside && line.startsWith("Rss:")) {
        total += Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    return total;
  }
}
