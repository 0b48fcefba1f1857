package org.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.train.Training;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.eval.FeatureStatistics;
import org.diffusion4j.train.eval.FrechetDistance;
import org.diffusion4j.train.eval.KernelStatistics;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.nn.MlpConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sampling and evaluation sharded over Spark in local[2] (two executor threads, one JVM) against the same job in
 * this process: samples bit for bit, FD and KID to rounding.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SparkSamplingTest {
  @TempDir
  static Path dir;
  static Path run;
  static SparkSession spark;

  @BeforeAll
  static void setUp() throws Exception {
    run = dir.resolve("moons");
    try (TrainedModel m = Training.on("two-moons").objective("edm").network(new MlpConfig(2, 32, 1, 16, 0)).steps(30)
        .train(run)) {
      assertEquals(30, m.step());
    }
    spark = SparkSession.builder().master("local[2]").appName("d4j-test")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate();
  }

  @AfterAll
  static void tearDown() {
    if (spark != null) {
      spark.stop();
    }
    ExecutorModels.closeAll();
  }

  /** The job's samples in this process, one Sampling run with the job's batch, in data units. */
  private static double[] singleProcess(SampleJob job, boolean dataUnits) throws Exception {
    try (TrainedModel tm = TrainedModel.load(run, true)) {
      Sampling.Result r = Sampling.of(tm.denoiser(), 2).sampler(SamplerRegistry.create(job.sampler(), Map.of()))
          .grid(GridSpec.karras().build(tm.config().process(), job.steps())).seeds(job.firstSeed(), job.lastSeed())
          .batch(job.batch()).run();
      double[] s = r.samples();
      if (dataUnits) {
        for (int i = 0; i < s.length; i++) {
          s[i] = tm.config().scaling().invert(s[i]);
        }
      }
      return s;
    }
  }

  @Test
  @Order(1)
  void parquetShardsEqualASingleProcessRunBitForBit() throws Exception {
    int loadsBefore = ExecutorModels.loads();
    // A stochastic sampler: every step's fresh noise comes from each seed's own stream too.
    for (String sampler : List.of("euler-ancestral")) {
      SampleJob job = SampleJob.of(run.toString(), sampler, 6, 100, 50, 8);
      assertEquals(List.of(new SeedRange(100, 115), new SeedRange(116, 131), new SeedRange(132, 149)), job.ranges(3));
      String out = dir.resolve("samples-" + sampler + ".parquet").toString();
      assertEquals(50, SparkSampling.writeParquet(spark, job, 3, out));
      assertEquals(3, Files.list(Path.of(out)).filter(p -> p.getFileName().toString().endsWith(".parquet")).count(),
          "one Parquet file per partition");
      List<Row> rows = spark.read().parquet(out).collectAsList().stream()
          .sorted(Comparator.comparingLong(r -> r.getLong(0))).toList();
      assertEquals(50, rows.size());
      double[] got = new double[100];
      for (int k = 0; k < 50; k++) {
        assertEquals(100 + k, rows.get(k).getLong(0));
        List<Double> v = rows.get(k).getList(1);
        got[2 * k] = v.get(0);
        got[2 * k + 1] = v.get(1);
      }
      assertArrayEquals(singleProcess(job, true), got, sampler + ": Spark's samples differ from one process's");
    }
    assertEquals(1, ExecutorModels.loads() - loadsBefore, "the run is loaded once per executor JVM");
  }

  @Test
  @Order(2)
  void treeReducedStatisticsGiveTheSingleProcessFdAndKid() throws Exception {
    SampleJob job = SampleJob.of(run.toString(), "heun", 5, 0, 120, 16);
    SparkSampling.Evaluation e = SparkSampling.evaluate(spark, job, 4, "two-moons", 150);
    double[] x = singleProcess(job, false);
    double[] ref = toDouble(DataSources.parse("two-moons").first(150, 1_000_003L).x());
    double fd = FrechetDistance.of(new FeatureStatistics(2).add(x), new FeatureStatistics(2).add(ref));
    double kid = new KernelStatistics(2).add(x).kid(new KernelStatistics(2).add(ref)) * 1e3;
    assertEquals(120, e.samples());
    assertEquals(150, e.reference());
    assertEquals("raw", e.featureSpace());
    assertTrue(Double.isFinite(fd) && fd > 0, "fd " + fd);
    assertEquals(fd, e.fd(), 1e-9 * fd);
    assertEquals(kid, e.kid(), 1e-9 * Math.max(1, Math.abs(kid)));
  }

  @Test
  @Order(3)
  void jobsRejectWhatTheyCannotRunBeforeAnyWork() {
    assertThrows(IllegalArgumentException.class, () -> SampleJob.of(run.toString(), "no-such-sampler", 6, 0, 10, 4));
    assertThrows(IllegalArgumentException.class, () -> SampleJob.of(run.toString(), "heun", 0, 0, 10, 4));
    assertThrows(IllegalArgumentException.class, () -> SampleJob.of(run.toString(), "heun", 6, 0, 0, 4));
    assertThrows(IllegalArgumentException.class, () -> SampleJob.of(run.toString(), "heun", 6, 0, 10, 0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SampleJob(run.toString(), true,
        "heun", Map.of(), "karras", 6, 0, 10, 4, "float64", null, "tpu"));
    assertTrue(e.getMessage().contains("unknown device 'tpu'"), e.getMessage());
    // A GPU job is described on the driver; an executor without a GPU refuses it when it loads the run.
    SampleJob gpu = new SampleJob(run.toString(), true, "heun", Map.of(), "karras", 6, 0, 10, 4, "float64", null, "gpu");
    if (org.diffusion4j.device.Devices.gpuCount() == 0) {
      Exception x = assertThrows(Exception.class, () -> SparkSampling.sample(spark, gpu, 1).count());
      assertTrue(String.valueOf(x.getMessage()).contains("device gpu: no GPU visible to PyTorch"), x.getMessage());
    }
    e = assertThrows(IllegalArgumentException.class, () -> SparkSampling.sample(spark,
        new SampleJob(run.toString(), true, "heun", Map.of(), "karras", 6, 0, 10, 4, "float64", 3L, "cpu"), 2));
    assertTrue(e.getMessage().contains("unconditional"), e.getMessage());
    assertEquals(Conditioning.NULL_LABEL, -1);
  }

  @Test
  @Order(4)
  void theEntryPointsRunAndReportUserErrorsInOneLine() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new SparkSample(), new PrintWriter(out, true), new PrintWriter(err, true), "--model",
        run.toString(), "--n", "10", "--weights", "best", "--out", dir.resolve("x.parquet").toString());
    assertEquals(2, code);
    assertEquals("d4j: error: unknown --weights 'best'; accepted: ema, raw", err.toString().trim());
    out = new StringWriter();
    Path json = dir.resolve("eval.json");
    code = Main.run(new SparkEval(), new PrintWriter(out, true), new PrintWriter(err, true), "--model", run.toString(),
        "--n", "40", "--steps", "4", "--batch", "10", "--partitions", "2", "--out", json.toString());
    assertEquals(0, code, err.toString());
    assertTrue(out.toString().contains("in 2 partitions vs 40 reference points"), out.toString());
    assertTrue(Files.readString(json).contains("\"fd\": "), Files.readString(json));
  }

  private static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }
}
