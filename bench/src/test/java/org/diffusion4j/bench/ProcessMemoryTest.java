package org.diffusion4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The parsers behind the soak benchmark's "Java heap MB" and "native MB" columns, and the live readings. */
class ProcessMemoryTest {
  @Test
  void heapRangeReadsG1sReservedRange() {
    String g1 = " garbage-first heap   total 524288K, used 20480K [0x00000000e0000000, 0x0000000100000000)\n"
        + "  region size 1024K, 21 young (21504K), 0 survivors (0K)\n"
        + " Metaspace       used 1234K, committed 1408K, reserved 1114112K\n"
        + "  class space    used 100K, committed 192K, reserved 1048576K\n";
    assertArrayEquals(new long[] {0xe0000000L, 0x100000000L}, ProcessMemory.heapRange(g1));
  }

  @Test
  void heapRangeIsNullWithoutARange() {
    assertNull(ProcessMemory.heapRange(null));
    assertNull(ProcessMemory.heapRange("ZHeap used 20M, capacity 512M, max capacity 512M\n"));
  }

  @Test
  void residentSumsOnlyTheMappingsInsideTheRange() {
    List<String> smaps = List.of(
        "55d0c0000000-55d0c0021000 r-xp 00000000 08:01 123 /usr/bin/java",
        "Size:                132 kB",
        "Rss:                  64 kB",
        "e0000000-e8000000 rw-p 00000000 00:00 0",
        "Size:             131072 kB",
        "Rss:              100000 kB",
        "Pss:              100000 kB",
        "e8000000-100000000 rw-p 00000000 00:00 0",
        "Size:             393216 kB",
        "Rss:                2048 kB",
        "100000000-140000000 ---p 00000000 00:00 0",
        "Size:            1048576 kB",
        "Rss:                 512 kB",
        "7f0000000000-7f0000100000 rw-p 00000000 00:00 0 ",
        "Rss:                 4096 kB");
    assertEquals(102048, ProcessMemory.residentKbIn(smaps, 0xe0000000L, 0x100000000L));
    assertEquals(0, ProcessMemory.residentKbIn(smaps, 0x200000000L, 0x300000000L));
  }

  @Test
  void readingsOfThisProcessAreConsistent() throws Exception {
    double rss = ProcessMemory.rssMb();
    assertTrue(rss > 1 && rss < 1e6, "VmRSS " + rss + " MB");
    long faults = ProcessMemory.minorFaults();
    byte[] touched = new byte[64 << 20];
    for (int i = 0; i < touched.length; i += 4096) {
      touched[i] = 1;
    }
    assertTrue(faults > 0 && ProcessMemory.minorFaults() >= faults, "minor faults " + faults);
    double heap = ProcessMemory.javaHeapRssMb();
    // the default collector (G1) prints its range; the resident heap is part of the resident set
    assertTrue(heap > 0 && heap <= ProcessMemory.rssMb(), "Java heap resident " + heap + " MB of " + rss);
    assertEquals(1, touched[4096]);
  }

  @Test
  void allocatorIsReadFromTheMappings() {
    List<String> tc = List.of(
        "7f1c2a000000-7f1c2a021000 r-xp 00000000 08:01 42 /usr/lib/x86_64-linux-gnu/libc.so.6",
        "7f1c2b000000-7f1c2b040000 r-xp 00000000 08:01 43 /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4.5.10");
    assertEquals("tcmalloc (/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4.5.10)",
        ProcessMemory.allocator(tc, "glibc.malloc.arena_max=1"));
    assertEquals("jemalloc (/opt/lib/libjemalloc.so.2)", ProcessMemory.allocator(
        List.of("7f00-7f10 r-xp 00000000 08:01 44 /opt/lib/libjemalloc.so.2"), null));
    assertEquals("glibc malloc, GLIBC_TUNABLES unset", ProcessMemory.allocator(tc.subList(0, 1), null));
    assertEquals("glibc malloc, GLIBC_TUNABLES glibc.malloc.arena_max=1",
        ProcessMemory.allocator(tc.subList(0, 1), "glibc.malloc.arena_max=1"));
    // this test JVM is started by Maven, not by the launchers: no preloaded malloc unless the user gave one
    assertTrue(ProcessMemory.allocator().contains("malloc"), ProcessMemory.allocator());
  }

  @Test
  void jvmNonHeapIsTheNativeMemoryTrackingTotalLessTheHeap() {
    String kb = "Native Memory Tracking:\n\nTotal: reserved=2417543KB, committed=666051KB\n"
        + "       malloc: 30000KB #12345\n\n-                 Java Heap (reserved=524288KB, committed=524288KB)\n"
        + "                            (mmap: reserved=524288KB, committed=524288KB)\n"
        + "-                     Class (reserved=1048700KB, committed=1200KB)\n";
    assertEquals(666051 - 524288, ProcessMemory.nonHeapCommittedKb(kb));
    String bytes = "Total: reserved=2022135539, committed=619034355\n"
        + "-                 Java Heap (reserved=536870912, committed=536870912)\n";
    assertEquals((619034355L >> 10) - (536870912L >> 10), ProcessMemory.nonHeapCommittedKb(bytes));
    assertEquals(-1, ProcessMemory.nonHeapCommittedKb("Native memory tracking is not enabled\n"));
    assertEquals(-1, ProcessMemory.nonHeapCommittedKb(null));
  }
}
