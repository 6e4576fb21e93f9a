package chive.core.sim;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A sense-reversing barrier for the per-step phases of a run. A simulation
 * step at dt = 0.1 ms can take a few microseconds, far less than parking and
 * waking a thread costs, so waiters spin; after a while they yield, so that
 * more threads than cores still make progress.
 */
final class SpinBarrier {
  private final int parties;
  private final AtomicInteger waiting = new AtomicInteger();
  private volatile boolean sense;

  SpinBarrier(int parties) { this.parties = parties; }

  /** Waits until all parties arrived. {@code localSense} is the caller's own flag, flipped each call. */
  boolean await(boolean localSense) {
    boolean next = !localSense;
    if (waiting.incrementAndGet() == parties) {
      waiting.set(0);
      sense = next;
    } else {
      int spins = 0;
      while (sense != next) {
        if (++spins < 2000) Thread.onSpinWait();
        else Thread.yield();
      }
    }
    return next;
  }
}
