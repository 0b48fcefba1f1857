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
