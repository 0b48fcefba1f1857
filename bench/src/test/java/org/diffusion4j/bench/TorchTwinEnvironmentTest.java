package org.diffusion4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The twin runs as Debian's PyTorch is started by hand, whatever the launcher set up for the JVM. */
class TorchTwinEnvironmentTest {
  @Test
  void launcherSettingsForTheJvmDoNotReachTheTwin() {
    ProcessBuilder pb = new ProcessBuilder("true");
    Map<String, String> env = pb.environment();
    env.put("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=33554432");
    env.put("LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4");
    env.put("GOMP_SPINCOUNT", "300000");
    env.put("OMP_WAIT_POLICY", "ACTIVE");
    env.put("OMP_NUM_THREADS", "7");
    TorchTwin.twinEnvironment(pb, 2, Map.of("OMP_WAIT_POLICY", "PASSIVE"));
    assertFalse(env.containsKey("GLIBC_TUNABLES"));
    assertFalse(env.containsKey("LD_PRELOAD"));
    assertFalse(env.containsKey("GOMP_SPINCOUNT"));
    assertEquals("PASSIVE", env.get("OMP_WAIT_POLICY"));
    assertEquals("2", env.get("OMP_NUM_THREADS"));
  }
}
