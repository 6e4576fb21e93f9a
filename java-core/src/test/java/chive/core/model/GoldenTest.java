package chive.core.model;

import static org.junit.jupiter.api.Assertions.*;

import chive.core.sim.Network;
import chive.core.sim.NeuronGroup;
import chive.core.sim.SpikeMonitor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * chive's Izhikevich and Hodgkin-Huxley cells against spike times produced by
 * Brian2 2.5.1 with the same equations, integration method and dt
 * (src/test/resources/golden/make_golden.py). chive stores state in float32
 * where Brian2 uses float64, so times are compared with a tolerance.
 */
class GoldenTest {

  record Cell(String name, Map<String, Double> params, double[] spikes) {}

  static List<Cell> read(String resource) throws IOException {
    List<Cell> out = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(
        GoldenTest.class.getResourceAsStream("/golden/" + resource), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("#") || line.isBlank()) continue;
        String[] halves = line.split(":", 2);
        String[] head = halves[0].trim().split("\\s+");
        Map<String, Double> p = new LinkedHashMap<>();
        for (int k = 1; k < head.length; k++) {
          String[] kv = head[k].split("=");
          p.put(kv[0], Double.parseDouble(kv[1]));
        }
        double[] t = halves[1].isBlank() ? new double[0]
            : Arrays.stream(halves[1].trim().split("\\s+")).mapToDouble(Double::parseDouble).toArray();
        out.add(new Cell(head[0], p, t));
      }
    }
    return out;
  }

  static double[] spikesOf(SpikeMonitor m, int neuron) {
    int[] idx = m.indices();
    double[] t = m.times();
    return java.util.stream.IntStream.range(0, idx.length).filter(k -> idx[k] == neuron).mapToDouble(k -> t[k]).toArray();
  }

  static void assertTrains(String what, double[] expected, double[] actual, double tolMs) {
    assertEquals(expected.length, actual.length,
        what + ": spike count; expected " + Arrays.toString(expected) + " got " + Arrays.toString(actual));
    for (int k = 0; k < expected.length; k++) {
      assertEquals(expected[k], actual[k], tolMs, what + ": spike " + k);
    }
  }

  @Test
  void izhikevichPatternsMatchBrian2() throws IOException {
    List<Cell> cells = read("izhikevich.txt");
    assertEquals(List.of("rs", "fs", "ch", "ib"), cells.stream().map(Cell::name).toList());
    for (Cell c : cells) {
      Network net = new Network(0.1, 1);
      Izhikevich g = net.add(new Izhikevich(c.name(), 1));
      for (String p : List.of("a", "b", "c", "d")) g.setParam(p, c.params().get(p));
      g.var("v")[0] = -65f;
      g.var("u")[0] = (float) (c.params().get("b") * -65);
      g.var("i_ext")[0] = 10f;
      SpikeMonitor m = net.add(new SpikeMonitor(g));
      net.run(500, 1, null);
      // Forward Euler at the same dt. In float64 this scheme reproduces Brian2's
      // times exactly; chive stores state in float32, whose rounding shifts the
      // fast-spiking cell's phase by up to 0.9 ms (of 7.7 ms ISIs) in 500 ms. So:
      // the same number of spikes, the first ten within one step, all within 1 ms.
      double[] got = spikesOf(m, 0);
      assertTrains(c.name(), c.spikes(), got, 1.0);
      for (int k = 0; k < Math.min(10, got.length); k++) {
        assertEquals(c.spikes()[k], got[k], 0.1 + 1e-9, c.name() + ": early spike " + k);
      }
    }
  }

  @Test
  void hodgkinHuxleyFICurveMatchesBrian2() throws IOException {
    List<Cell> cells = read("hh_fi.txt");
    int n = cells.size();
    Network net = new Network(0.01, 1);
    HodgkinHuxley g = net.add(new HodgkinHuxley("hh", n));
    java.util.Arrays.fill(g.var("v"), -60f);
    for (int i = 0; i < n; i++) g.var("i_ext")[i] = cells.get(i).params().get("i_ext").floatValue();
    SpikeMonitor m = net.add(new SpikeMonitor(g));
    net.run(1000, 2, null);
    for (int i = 0; i < n; i++) {
      Cell c = cells.get(i);
      double[] got = spikesOf(m, i);
      // Rates (the f-I curve) agree exactly in count; times drift by float32 rounding, within 0.05 ms over 1 s.
      assertTrains("I = " + c.params().get("i_ext") + " nA", c.spikes(), got, 0.05);
    }
  }
}
