package org.diffusion4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The profile's reading of a chrome trace: top-level ops, their classes, the framework time and the op count. */
class OpProfileTest {
  @Test
  void topLevelOpsLeaveOutNestedOnesAndTorchScriptFramesAndTheRestIsFramework(@TempDir Path dir) throws Exception {
    Path trace = dir.resolve("t.json");
    // conv2d [0, 100) holds a nested mkldnn op; a TorchScript "forward" [150, 400) holds group_norm and silu;
    // add [450, 460). Top level: conv2d, group_norm, silu, add = 100 + 100 + 50 + 10 µs of ops.
    Files.writeString(trace, "{\"traceEvents\": ["
        + "{\"ph\": \"X\", \"name\": \"aten::conv2d\", \"ts\": 0, \"dur\": 100, \"tid\": 1},"
        + "{\"ph\": \"X\", \"name\": \"aten::mkldnn_convolution\", \"ts\": 10, \"dur\": 80, \"tid\": 1},"
        + "{\"ph\": \"X\", \"name\": \"forward\", \"ts\": 150, \"dur\": 250, \"tid\": 1},"
        + "{\"ph\": \"X\", \"name\": \"aten::group_norm\", \"ts\": 160, \"dur\": 100, \"tid\": 1},"
        + "{\"ph\": \"X\", \"name\": \"aten::silu\", \"ts\": 300, \"dur\": 50, \"tid\": 1},"
        + "{\"ph\": \"X\", \"name\": \"aten::add\", \"ts\": 450, \"dur\": 10, \"tid\": 1},"
        + "{\"ph\": \"i\", \"name\": \"marker\", \"ts\": 5, \"tid\": 1}]}");
    List<OpProfile.Event> top = OpProfile.topLevel(OpProfile.read(trace));
    assertEquals(List.of("aten::conv2d", "aten::group_norm", "aten::silu", "aten::add"),
        top.stream().map(OpProfile.Event::name).toList());
    Map<String, Double> ms = new LinkedHashMap<>();
    OpProfile.addPhase(ms, trace, 0.5, null);
    assertEquals(4.0, ms.get(OpProfile.OPS));
    assertEquals(0.1, ms.get("convolutions"), 1e-12);
    assertEquals(0.5 - 0.26, ms.get(OpProfile.OVERHEAD), 1e-12);
  }
}
