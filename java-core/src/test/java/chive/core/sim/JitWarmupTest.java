package chive.core.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class JitWarmupTest {

  private static int spikes(Network net) {
    int n = 0;
    for (Monitor m : net.monitors()) n += ((SpikeMonitor) m).count();
    return n;
  }

  /** Each warm-up network must spike and deliver, or it would not exercise the kernels it is there for. */
  @Test
  void everyWarmupNetworkSpikes() {
    for (Network net : new Network[] {JitWarmup.cuba(), JitWarmup.cobahh(), JitWarmup.izhikevich()}) {
      net.runSteps(2000, 1, null);
      int n = spikes(net);
      assertTrue(n > 20, "a warm-up network spiked " + n + " times in 2,000 steps");
      for (NeuronGroup g : net.groups()) {
        for (float v : g.var("v")) assertTrue(Float.isFinite(v), g.name() + ".v is " + v);
      }
    }
  }

  /**
   * A user's network run while the warm-up thread steps its own networks
   * gives the same spikes as run alone, the warm-up ends for a stated reason
   * (never a failure), and a user run counts as one.
   */
  @Test
  void theWarmupChangesNoResultAndStopsForAUserRun() throws Exception {
    Network alone = JitWarmup.cuba();
    long before = Network.userRuns();
    alone.runSteps(3000, 1, null);
    assertEquals(0, Network.userRuns() - before, "warm-up networks do not count as user runs");

    JitWarmup.start();
    Network user = JitWarmup.cuba().markWarmup(false);
    user.runSteps(3000, 2, null);
    assertTrue(Network.userRuns() > before, "a user run is counted");
    assertTrue(JitWarmup.await(60_000), "the warm-up ends");
    String status = JitWarmup.status();
    assertTrue(status.equals("done") || status.equals("a user run started") || status.equals("time budget")
        || status.equals("not started"), "warm-up status: " + status);
    assertEquals(spikes(alone), spikes(user));
    for (int k = 0; k < alone.groups().size(); k++) {
      assertArrayEquals(alone.groups().get(k).var("v"), user.groups().get(k).var("v"));
    }
  }
}
