package chive.core.sim;

import java.util.concurrent.atomic.AtomicReference;

/**
 * Who is running a network, if anyone: one run at a time, and no changes to
 * the network's parts while it runs. Shared by a network with its groups and
 * projections.
 */
public final class RunGuard {
  final AtomicReference<Thread> runner = new AtomicReference<>();
  private final String network;

  RunGuard(String network) { this.network = network; }

  /** Throws a ChiveException naming {@code what} when a run is in progress. */
  public void checkIdle(String what) {
    if (runner.get() != null) throw busy(what);
  }

  ChiveException busy(String what) {
    Thread t = runner.get();
    return new ChiveException("cannot " + what + ": " + network + " is running (run started on thread '"
        + (t == null ? "?" : t.getName()) + "'); one run at a time: wait for it to return, or interrupt it");
  }
}
