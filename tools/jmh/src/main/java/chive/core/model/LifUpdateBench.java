package chive.core.model;

import chive.core.sim.Network;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/** One LIF update + threshold pass over n neurons (the CUBA kernel), float and double state. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LifUpdateBench {
  @Param({"4000", "100000"}) int n;
  @Param({"false", "true"}) boolean dbl;
  Lif g;
  int[] spikes;
  long step;

  @Setup public void setup() {
    Network net = new Network(0.1, 1);
    g = net.add(new Lif("lif", n, dbl));
    g.setParam("v_rest", -49);
    java.util.SplittableRandom r = new java.util.SplittableRandom(1);
    for (int i = 0; i < n; i++) {
      if (dbl) g.varD("v")[i] = -60 + 10 * r.nextDouble(); else g.var("v")[i] = (float) (-60 + 10 * r.nextDouble());
    }
    spikes = new int[n];
  }

  @Benchmark public int update() {
    int c = g.update(0, n, step++, spikes);
    g.reset(spikes, c);
    return c;
  }
}
