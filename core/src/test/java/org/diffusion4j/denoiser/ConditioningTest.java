package org.diffusion4j.denoiser;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ConditioningTest {
  @Test
  void slicesEveryPartTogether() {
    Conditioning c = Conditioning.ofLabels(1, 2, 3, 4).withGuidance(new double[] {0, 1, 2, 3})
        .withSigmaTarget(new double[] {0.1, 0.2, 0.3, 0.4})
        .withMask(new Conditioning.Mask(new double[] {1, 0, 1, 1, 0, 0, 1, 0}, new double[] {5, 6, 7, 8, 9, 10, 11, 12}, 2));
    Conditioning s = c.slice(1, 3);
    assertEquals(2, s.size());
    assertArrayEquals(new long[] {2, 3}, s.labels());
    assertArrayEquals(new double[] {1, 2}, s.guidance());
    assertArrayEquals(new double[] {0.2, 0.3}, s.sigmaTarget());
    assertArrayEquals(new double[] {1, 1, 0, 0}, s.mask().mask());
    assertArrayEquals(new double[] {7, 8, 9, 10}, s.mask().known());
    assertEquals(c, Conditioning.concat(c.slice(0, 1), c.slice(1, 4)));
    assertSame(Conditioning.NONE, Conditioning.NONE.slice(3, 9));
    assertEquals(-1, Conditioning.NONE.size());
    Conditioning.NONE.requireSize(17);
  }

  @Test
  void isAValueWithDefensiveCopies() {
    long[] l = {1, 2};
    Conditioning c = Conditioning.ofLabels(l);
    l[0] = 99;
    assertEquals(1, c.labels()[0]);
    c.labels()[1] = 77;
    assertEquals(2, c.labels()[1]);
    assertNull(c.guidance());
  }

  @Test
  void refusesInconsistentOrBadParts() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Conditioning.ofLabels(1, 2).withGuidance(new double[] {1, 2, 3}));
    assertTrue(e.getMessage().contains("guidance has 3"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Conditioning.ofLabels(1, -2));
    assertTrue(e.getMessage().contains("-2"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Conditioning.ofLabels(1).requireSize(4));
    assertTrue(e.getMessage().contains("batch has 4"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Conditioning.Mask(new double[] {2}, new double[] {0}, 1));
    assertThrows(IllegalArgumentException.class, () -> Conditioning.NONE.withSigmaTarget(new double[] {Double.NaN}));
    assertThrows(IllegalArgumentException.class,
        () -> Conditioning.concat(Conditioning.ofLabels(1), Conditioning.NONE.withGuidance(new double[] {1})));
  }
}
