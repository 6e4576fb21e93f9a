package chive.core.sim;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.model.Lif;
import chive.core.model.PoissonGroup;
import chive.core.plasticity.Stdp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every part's state through {@link Stateful} alone: copy it out, restore it into a fresh network, continue exactly. */
class StatefulTest {
  static Network net(long seed) {
    Network net = new Network(0.1, seed);
    PoissonGroup in = net.add(new PoissonGroup("in", 60));
    in.setRates(60);
    Lif exc = net.add(new Lif("exc", 40));
    Arrays.fill(exc.var("v"), -55f);
    Connectivity c = Connectivity.fixedProbability(60, 40, 0.3, false, seed + 1);
    double[] d = new double[c.size()];
    for (int s = 0; s < d.length; s++) d[s] = 0.1 * (s % 23);
    Projection p = net.add(new Projection("in-exc", in, exc, "ge", c, NetworkTest.filled(c.size(), 1.5f), d));
    p.setPlasticity(Stdp.pair(false, 20, 20, 0.05, 0.06, 0, 3));
    net.add(new PoissonInput("bg", exc, "ge", 0, 20, 10, 20, 0.3));
    net.add(new SpikeMonitor(exc));
    net.add(new StateMonitor(exc, "v", new int[] {1, 5, 9}, 3));
    net.add(new RateMonitor(exc, 10, 30));
    net.add(new SpikeCountMonitor(exc));
    return net;
  }

  /** Every Stateful part of a network, in a fixed order. */
  static List<Stateful> parts(Network n) {
    List<Stateful> ps = new ArrayList<>(n.groups());
    for (Projection p : n.projections()) {
      ps.add(p);
      ps.add(p.plasticity());
    }
    ps.addAll(n.monitors());
    ps.addAll(n.inputs());
    return ps;
  }

  static Object copy(Object a) {
    if (a instanceof float[]) return ((float[]) a).clone();
    if (a instanceof double[]) return ((double[]) a).clone();
    if (a instanceof int[]) return ((int[]) a).clone();
    return ((long[]) a).clone();
  }

  static Map<String, Object> snapshot(Stateful s) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : s.arrays().entrySet()) m.put(e.getKey(), copy(e.getValue()));
    return m;
  }

  @Test
  void restoredNetworksContinueExactly() {
    Network whole = net(3);
    whole.runSteps(1000, 1, null);
    Network half = net(3);
    half.runSteps(437, 2, null);
    List<Map<String, Object>> saved = new ArrayList<>();
    for (Stateful s : parts(half)) saved.add(snapshot(s));
    Network fresh = net(3);
    List<Stateful> ps = parts(fresh);
    for (int k = 0; k < ps.size(); k++) ps.get(k).restore(saved.get(k));
    fresh.setStep(half.step());
    fresh.runSteps(1000 - 437, 1, null);
    List<Stateful> a = parts(whole), b = parts(fresh);
    for (int k = 0; k < a.size(); k++) {
      Map<String, Object> x = a.get(k).arrays(), y = b.get(k).arrays();
      assertEquals(x.keySet(), y.keySet());
      for (String name : x.keySet()) {
        Object u = x.get(name), v = y.get(name);
        boolean same = u instanceof float[] ? Arrays.equals((float[]) u, (float[]) v)
            : u instanceof double[] ? Arrays.equals((double[]) u, (double[]) v)
            : u instanceof int[] ? Arrays.equals((int[]) u, (int[]) v) : Arrays.equals((long[]) u, (long[]) v);
        assertTrue(same, a.get(k) + ": array '" + name + "' after restore and continue");
      }
      assertEquals(a.get(k).config().toString(), b.get(k).config().toString(), a.get(k) + ": config");
    }
    assertTrue(((SpikeMonitor) whole.monitors().get(0)).count() > 50, "the network spikes");
  }

  @Test
  void badStateIsRefusedByNameAndChangesNothing() {
    Network n = net(4);
    n.runSteps(100, 1, null);
    Lif exc = (Lif) n.group("exc");
    float[] before = exc.var("v").clone();
    Map<String, Object> s = snapshot(exc);
    s.put("v", new float[39]);
    s.put("ge", new float[40]);
    Arrays.fill((float[]) s.get("ge"), 7f);
    ChiveException e = assertThrows(ChiveException.class, () -> exc.restore(s));
    assertTrue(e.getMessage().contains("'v'") && e.getMessage().contains("float32[39]") && e.getMessage().contains("float32[40]"), e.getMessage());
    assertArrayEquals(before, exc.var("v"));
    assertNotEquals(7f, exc.var("ge")[0], "nothing was written: 'ge' came before the refusal was known");
    Map<String, Object> t = snapshot(exc);
    t.remove("refractory");
    t.put("vv", new float[40]);
    e = assertThrows(ChiveException.class, () -> exc.restore(t));
    assertTrue(e.getMessage().contains("lacks [refractory]") && e.getMessage().contains("unknown [vv]"), e.getMessage());
    Projection p = n.projections().get(0);
    Map<String, Object> q = snapshot(p);
    ((int[]) q.get("post"))[0] ^= 1;
    e = assertThrows(ChiveException.class, () -> p.restore(q));
    assertTrue(e.getMessage().contains("'post' differs"), e.getMessage());
    StateMonitor sm = (StateMonitor) n.monitors().get(1);
    Map<String, Object> r = snapshot(sm);
    r.put("values", new float[5]);
    e = assertThrows(ChiveException.class, () -> sm.restore(r));
    assertTrue(e.getMessage().contains("5 values for"), e.getMessage());
  }

  @Test
  void restoreIsRefusedWhileRunning() throws Exception {
    Network n = net(5);
    Lif exc = (Lif) n.group("exc");
    Map<String, Object> s = snapshot(exc);
    Thread t = new Thread(() -> n.runSteps(2_000_000, 1, null));
    t.start();
    while (!n.running()) Thread.onSpinWait();
    assertThrows(ChiveException.class, () -> exc.restore(s));
    t.interrupt();
    t.join();
  }
}
