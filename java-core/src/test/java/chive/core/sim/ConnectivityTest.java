package chive.core.sim;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConnectivityTest {

  static void assertRowsSorted(Connectivity c) {
    for (int i = 0; i < c.nPre; i++) {
      for (int s = c.rowPtr[i] + 1; s < c.rowPtr[i + 1]; s++) assertTrue(c.post[s - 1] <= c.post[s]);
    }
  }

  @Test
  void fixedProbabilityHasTheExpectedCount() {
    int n = 2000;
    double p = 0.02;
    Connectivity c = Connectivity.fixedProbability(n, n, p, false, 11);
    double mean = (double) n * n * p, sd = Math.sqrt(mean * (1 - p));
    assertEquals(mean, c.size(), 4 * sd);
    assertRowsSorted(c);
    Connectivity again = Connectivity.fixedProbability(n, n, p, false, 11);
    assertArrayEquals(c.post, again.post, "deterministic for a seed");
    Connectivity noSelf = Connectivity.fixedProbability(300, 300, 0.5, true, 3);
    int[] pre = noSelf.pre();
    for (int s = 0; s < pre.length; s++) assertNotEquals(pre[s], noSelf.post[s]);
    // No duplicate pairs.
    Set<Long> seen = new HashSet<>();
    int[] pre2 = c.pre();
    for (int s = 0; s < pre2.length; s++) assertTrue(seen.add(((long) pre2[s] << 32) | c.post[s]));
  }

  @Test
  void fixedInDegreeGivesEachPostExactlyK() {
    Connectivity c = Connectivity.fixedInDegree(100, 50, 7, false, 5);
    int[] in = new int[50];
    for (int j : c.post) in[j]++;
    for (int j = 0; j < 50; j++) assertEquals(7, in[j]);
    Connectivity d = Connectivity.fixedInDegree(10, 10, 9, true, 5);
    int[] pre = d.pre();
    for (int s = 0; s < pre.length; s++) assertNotEquals(pre[s], d.post[s]);
    assertThrows(ChiveException.class, () -> Connectivity.fixedInDegree(10, 10, 10, true, 1));
  }

  @Test
  void namedConnectors() {
    Connectivity a = Connectivity.allToAll(3, 4);
    assertEquals(12, a.size());
    Connectivity e = Connectivity.allToAllExceptDiagonal(4, 4);
    assertEquals(12, e.size());
    int[] pre = e.pre();
    for (int s = 0; s < pre.length; s++) assertNotEquals(pre[s], e.post[s]);
    Connectivity o = Connectivity.oneToOne(5, 5);
    assertArrayEquals(new int[] {0, 1, 2, 3, 4}, o.post);
    assertArrayEquals(new int[] {0, 1, 2, 3, 4}, o.pre());
    assertThrows(ChiveException.class, () -> Connectivity.oneToOne(5, 4));
  }

  @Test
  void explicitPairsKeepTheirInputOrderMapping() {
    int[] pre = {2, 0, 2, 1, 0};
    int[] post = {1, 3, 0, 2, 0};
    Connectivity c = Connectivity.fromPairs(3, 4, pre, post);
    int[] cp = c.pre();
    for (int k = 0; k < c.size(); k++) {
      int s = c.order()[k];
      assertEquals(pre[s], cp[k]);
      assertEquals(post[s], c.post[k]);
    }
    assertRowsSorted(c);
    ChiveException ex = assertThrows(ChiveException.class, () -> Connectivity.fromPairs(3, 4, new int[] {5}, new int[] {0}));
    assertTrue(ex.getMessage().contains("pre index 5"), ex.getMessage());
  }

  @Test
  void postIndexListsEachColumn() {
    Connectivity c = Connectivity.fixedProbability(50, 40, 0.3, false, 9);
    int[][] pi = c.postIndex();
    int[] colPtr = pi[0], syn = pi[1];
    for (int j = 0; j < 40; j++) {
      for (int k = colPtr[j]; k < colPtr[j + 1]; k++) assertEquals(j, c.post[syn[k]]);
    }
  }
}
