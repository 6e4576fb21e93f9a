package chive.core.sim;

import chive.core.model.Lif;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/** CSR delivery of one step's spikes (1 % of 4000 pre neurons) into 4000 posts, p = 0.02, without and with delays. */
@org.openjdk.jmh.annotations.State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DeliveryBench {
  @Param({"none", "shared", "per-synapse"}) String delays;
  Projection p;
  long step;

  @Setup public void setup() {
    int n = 4000;
    Network net = new Network(0.1, 1);
    Lif pre = net.add(new Lif("pre", n)), post = net.add(new Lif("post", n));
    Connectivity c = Connectivity.fixedProbability(n, n, 0.02, false, 7);
    float[] w = new float[c.size()];
    java.util.Arrays.fill(w, 0.1f);
    double[] d = delays.equals("none") ? null : delays.equals("shared") ? new double[] {1.0} : new double[c.size()];
    if (delays.equals("per-synapse")) for (int s = 0; s < d.length; s++) d[s] = 0.1 * (1 + s % 20);
    p = net.add(new Projection("p", pre, post, "ge", c, w, d));
    NeuronGroup pg = pre, qg = post; // package-private members are reached through NeuronGroup
    pg.partition(1);
    qg.partition(1);
    int k = 0;
    for (int i = 0; i < n; i += 100) pg.partSpikes[0][k++] = i;
    pg.partCount[0] = k;
  }

  @Benchmark public void deliver() { p.deliver(0, 0, 4000, step++, true); }
}
