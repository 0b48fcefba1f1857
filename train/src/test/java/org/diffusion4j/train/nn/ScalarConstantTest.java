package org.diffusion4j.train.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.diffusion4j.tensor.Scalars;
import org.junit.jupiter.api.Test;

/**
 * {@link Scalars.Constant}: the same numbers as {@link Scalars#mul}, one array kept in the owner's manager across
 * step scopes (none left in the step's), remade when the owner's manager has closed, and a gradient that survives
 * a garbage collection between forward and backward.
 */
class ScalarConstantTest {
  private static final double C = Math.sqrt(0.5);

  @Test
  void equalsScalarsMulInFloat32AndFloat64() {
    try (NDManager owner = NDManager.newBaseManager(); NDManager step = owner.newSubManager()) {
      NDArray w = owner.ones(new Shape(3));
      Scalars.Constant c = new Scalars.Constant(C);
      for (DataType t : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
        NDArray x = step.randomNormal(new Shape(5, 7)).toType(t, false);
        assertArrayEquals(Scalars.mul(x, C).toType(DataType.FLOAT64, false).toDoubleArray(),
            c.mul(x, w).toType(DataType.FLOAT64, false).toDoubleArray(), 0, "dtype " + t);
        assertEquals(t, c.mul(x, w).getDataType());
      }
    }
  }

  @Test
  void oneArrayInTheOwnersManagerAcrossStepScopesAndRemadeAfterTheOwnerCloses() {
    Scalars.Constant c = new Scalars.Constant(0.25);
    try (NDManager root = NDManager.newBaseManager()) {
      NDManager owner = root.newSubManager();
      NDArray w = owner.ones(new Shape(3));
      int ownerBefore = owner.getManagedArrays().size();
      float[] first = null;
      for (int i = 0; i < 5; i++) {
        try (NDManager step = root.newSubManager(); NDScope scope = new NDScope()) {
          NDArray x = step.arange(4f);
          float[] y = c.mul(x, w).toFloatArray();
          if (first == null) {
            first = y;
          }
          assertArrayEquals(first, y);
          assertEquals(2, step.getManagedArrays().size(), "x and c·x only: the constant is not the step's");
        }
        assertEquals(ownerBefore + 1, owner.getManagedArrays().size(), "one constant, made once (call " + i + ")");
      }
      owner.close();
      NDManager owner2 = root.newSubManager();
      NDArray w2 = owner2.ones(new Shape(3));
      try (NDManager step = root.newSubManager()) {
        assertArrayEquals(new float[] {0, 0.25f, 0.5f, 0.75f}, c.mul(step.arange(4f), w2).toFloatArray());
      }
      assertEquals(2, owner2.getManagedArrays().size(), "remade in the new owner's manager");
      owner2.close();
    }
  }

  @Test
  void gradientSurvivesACollectionBetweenForwardAndBackward() throws Exception {
    Scalars.Constant c = new Scalars.Constant(0.75);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray w = m.ones(new Shape(1));
      for (int trial = 0; trial < 3; trial++) {
        NDArray x = m.ones(new Shape(4));
        x.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray l = c.mul(x, w).sum();
          BackwardAfterCollectionTest.collectAndFreeDirectBuffers();
          gc.backward(l);
        }
        assertArrayEquals(new float[] {0.75f, 0.75f, 0.75f, 0.75f}, x.getGradient().toFloatArray());
      }
    }
  }

  @Test
  void aStructurallyNamedArgumentIsAliasedAnUnnamedOneIsNot() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray plain = m.ones(new Shape(2));
      assertTrue(NativeOps.single(plain) == plain);
      plain.setName("gamma");
      assertTrue(NativeOps.single(plain) == plain);
      for (String name : new String[] {"t[]", "a.b", "x()", "module_method:f"}) {
        NDArray a = m.ones(new Shape(2));
        a.setName(name);
        NDArray alias = NativeOps.single(a);
        assertFalse(alias == a, name);
        assertEquals(null, alias.getName(), name);
      }
      // And the group norm takes named parameters as they are: the same numbers as through aliases.
      NDArray x = m.randomNormal(new Shape(2, 8, 3, 3));
      NDArray g = m.randomNormal(new Shape(8));
      NDArray b = m.randomNormal(new Shape(8));
      float[] unnamed = NativeOps.groupNorm(x, 2, g, b, 1e-5).toFloatArray();
      g.setName("gamma");
      b.setName("beta");
      assertArrayEquals(unnamed, NativeOps.groupNorm(x, 2, g, b, 1e-5).toFloatArray(), 0);
    }
  }
}
