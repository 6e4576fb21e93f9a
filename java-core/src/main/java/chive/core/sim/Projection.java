package chive.core.sim;

import java.util.Arrays;

/**
 * Synapses from one group to another, stored in CSR by presynaptic neuron
 * (rows sorted by post) for event-driven delivery. A spike of pre neuron i adds
 * each synapse's weight to the target state variable ({@code ge}, {@code gi},
 * {@code v}, ...) of its post neuron, {@code delay} steps later.
 *
 * <p>Delivery is partitioned by post neuron: each thread adds the inputs to its
 * own range of post neurons, in ascending presynaptic order, so any thread
 * count gives the same floating-point sums. Delays use a ring buffer of
 * (maxDelay + 1) slots per post neuron; a spike at step s with delay d steps is
 * added to its target during step s + d (d = 0: the same step, before resets).
 *
 * <p>Memory: 8 bytes per synapse (post index, weight), plus 2 with
 * heterogeneous delays, plus 4 per post neuron per delay slot.
 */
public final class Projection implements Stateful {
  private final String name;
  final NeuronGroup pre;
  final NeuronGroup post;
  private final String target;
  final Connectivity conn;
  /** Weights for a single-precision target; null when the target is double precision. */
  final float[] w;
  /** Weights for a double-precision target ({@link #weightsD}); null otherwise. */
  final double[] wD;
  /** Per-synapse delay in steps, or null when all share {@link #uniformDelay}. */
  private short[] delaySteps;
  private final double[] delayMs;
  private int uniformDelay;
  private int slots;
  private float[] ring;
  private float[] targetArr;
  private double[] targetD;
  private double[] ringD;
  /** True when the target variable is held while the post neuron is refractory. */
  private boolean gatedTarget;
  int id = -1;
  private double dt = Double.NaN;
  private Plasticity plasticity;
  /** The network's run guard, set when added. */
  RunGuard guard;

  /**
   * @param weights one value per synapse in CSR order (length conn.size()); the array is adopted
   * @param delayMs null (no delay), one value (shared), or one per synapse in CSR order
   */
  public Projection(String name, NeuronGroup pre, NeuronGroup post, String target,
                    Connectivity conn, float[] weights, double[] delayMs) {
    this(name, pre, post, target, conn, weights, null, delayMs);
  }

  /**
   * Weights in double precision: for a target variable of a double-precision
   * group (float weights given for such a target are widened, exactly).
   * Exactly one of {@code weights} and {@code weightsD} is non-null.
   */
  public Projection(String name, NeuronGroup pre, NeuronGroup post, String target,
                    Connectivity conn, float[] weights, double[] weightsD, double[] delayMs) {
    if (conn.nPre != pre.size() || conn.nPost != post.size()) {
      throw new ChiveException("projection '" + name + "': connectivity is " + conn.nPre + "x" + conn.nPost
          + " but the groups are " + pre.size() + " (" + pre.name() + ") and " + post.size() + " (" + post.name() + ")");
    }
    if (!post.hasVar(target)) post.var(target); // throws, naming the valid variables
    if ((weights == null) == (weightsD == null)) throw new ChiveException("projection '" + name + "': give float or double weights");
    boolean doubleTarget = post.isDouble(target);
    if (weightsD != null && !doubleTarget) {
      throw new ChiveException("projection '" + name + "': double-precision weights need a double-precision target, but "
          + post.name() + "." + target + " is single precision (build the group with :precision :double)");
    }
    if (doubleTarget && weights != null) {
      weightsD = new double[weights.length];
      for (int s = 0; s < weights.length; s++) weightsD[s] = weights[s];
      weights = null;
    }
    int nw = weights != null ? weights.length : weightsD.length;
    if (nw != conn.size()) {
      throw new ChiveException("projection '" + name + "': " + nw + " weights for " + conn.size() + " synapses");
    }
    for (int s = 0; s < nw; s++) {
      double x = weights != null ? weights[s] : weightsD[s];
      if (!Double.isFinite(x)) {
        throw new ChiveException("projection '" + name + "': weight of synapse " + s + " is " + x);
      }
    }
    if (delayMs != null && delayMs.length != 1 && delayMs.length != conn.size()) {
      throw new ChiveException("projection '" + name + "': " + delayMs.length + " delays for " + conn.size()
          + " synapses (give one value or one per synapse)");
    }
    if (delayMs != null) {
      for (double d : delayMs) {
        if (!(d >= 0) || Double.isInfinite(d)) throw new ChiveException("projection '" + name + "': delays must be finite and >= 0 ms, got " + d);
      }
    }
    this.name = name;
    this.pre = pre;
    this.post = post;
    this.target = target;
    this.conn = conn;
    this.w = weights;
    this.wD = weightsD;
    this.delayMs = delayMs;
  }

  public String name() { return name; }
  public NeuronGroup pre() { return pre; }
  public NeuronGroup post() { return post; }
  public String target() { return target; }
  public Connectivity connectivity() { return conn; }
  public int size() { return conn.size(); }
  /** The live weight array, CSR order; writes take effect at the next step. */
  public float[] weights() {
    if (w == null) throw new ChiveException("projection '" + name + "': its weights are double precision; read them with weightsD");
    return w;
  }

  /** The live double-precision weights (projections into double-precision groups). */
  public double[] weightsD() {
    if (wD == null) throw new ChiveException("projection '" + name + "': its weights are single precision; read them with weights");
    return wD;
  }

  /** True when the weights (and the target) are double precision. */
  public boolean doublePrecision() { return wD != null; }
  public Plasticity plasticity() { return plasticity; }

  /** Attaches a plasticity rule (or null to freeze the weights). */
  public void setPlasticity(Plasticity rule) {
    checkIdle("change the plasticity of projection '" + name + "'");
    if (rule != null && wD != null) {
      throw new ChiveException("projection '" + name + "': plasticity rules work on single-precision weights; "
          + post.name() + " is double precision");
    }
    if (rule != null) {
      rule.attach(this);
      if (!Double.isNaN(dt)) rule.bind(dt);
    }
    this.plasticity = rule;
  }

  /** CSR row pointers (by pre neuron), for plasticity rules. */
  public int[] rowPtr() { return conn.rowPtr; }
  /** Post index per synapse (CSR order), for plasticity rules. */
  public int[] postIndex() { return conn.post; }

  /**
   * Scales each post neuron's incoming weights so that they sum to {@code total}
   * (Diehl &amp; Cook's normalisation); posts whose weights sum to 0 are left alone.
   */
  public void normalizeIncoming(double total) {
    checkIdle("normalise projection '" + name + "'");
    if (!(total > 0) || Double.isInfinite(total)) {
      throw new ChiveException("projection '" + name + "': normalisation total must be > 0, got " + total);
    }
    double[] sums = new double[post.size()];
    final int[] col = conn.post;
    for (int s = 0; s < col.length; s++) sums[col[s]] += w != null ? w[s] : wD[s];
    for (int j = 0; j < sums.length; j++) sums[j] = sums[j] == 0 ? 1 : total / sums[j];
    if (w != null) {
      for (int s = 0; s < col.length; s++) w[s] = (float) (w[s] * sums[col[s]]);
    } else {
      for (int s = 0; s < col.length; s++) wD[s] = wD[s] * sums[col[s]];
    }
  }

  /** Throws when this projection's network is running (for methods that change it). */
  public void checkIdle(String what) {
    if (guard != null) guard.checkIdle(what);
  }

  /** Largest delay in steps. */
  public int maxDelaySteps() { return slots == 0 ? 0 : slots - 1; }

  void bind(double dt, int id) {
    this.id = id;
    this.dt = dt;
    if (wD != null) targetD = post.varD(target); else targetArr = post.var(target);
    gatedTarget = post.holds(target);
    if (delayMs == null) {
      uniformDelay = 0;
      delaySteps = null;
    } else if (delayMs.length == 1) {
      long d = Math.round(delayMs[0] / dt);
      if (d > Short.MAX_VALUE) {
        throw new ChiveException("projection '" + name + "': delay " + delayMs[0] + " ms is " + d
            + " steps of dt " + dt + " ms; at most " + Short.MAX_VALUE + " steps are supported");
      }
      uniformDelay = (int) d;
      delaySteps = null;
    } else {
      delaySteps = new short[delayMs.length];
      int max = 0;
      for (int s = 0; s < delayMs.length; s++) {
        long d = Math.round(delayMs[s] / dt);
        if (d > Short.MAX_VALUE) {
          throw new ChiveException("projection '" + name + "': delay " + delayMs[s] + " ms is " + d
              + " steps of dt; at most " + Short.MAX_VALUE + " are supported");
        }
        delaySteps[s] = (short) d;
        max = (int) Math.max(max, d);
      }
      uniformDelay = -1;
      slots = max + 1;
    }
    if (delaySteps == null) slots = uniformDelay == 0 ? 0 : uniformDelay + 1;
    if (slots > 0) {
      long need = (long) slots * post.size();
      if (need > Integer.MAX_VALUE - 8) throw new ChiveException("projection '" + name + "': delay ring of " + need + " floats is too large");
      if (wD != null) {
        double[] old = ringD;
        ringD = new double[(int) need];
        if (old != null && old.length == ringD.length) System.arraycopy(old, 0, ringD, 0, old.length);
        ring = null;
      } else {
        float[] old = ring;
        ring = new float[(int) need];
        if (old != null && old.length == ring.length) System.arraycopy(old, 0, ring, 0, old.length);
      }
    } else {
      ring = null;
      ringD = null;
    }
    if (plasticity != null) plasticity.bind(dt);
  }

  /** No spike in flight (every delay slot empty): nothing arrives at the post group before the pre group spikes again. */
  boolean nothingInFlight() {
    if (ring != null) for (float x : ring) if (x != 0) return false;
    if (ringD != null) for (double x : ringD) if (x != 0) return false;
    return true;
  }

  /** Delivers this step's spikes of the pre group into post neurons [from, to), the post group's partition {@code part}. */
  void deliver(int part, int from, int to, long step, boolean wholeRange) {
    if (wD != null) {
      deliverDouble(part, from, to, step, wholeRange);
      return;
    }
    final int[] rowPtr = conn.rowPtr;
    final int[] col = conn.post;
    final float[] w = this.w;
    final NeuronGroup g = pre;
    final int parts = g.partCount.length;
    // Input to a variable the target holds while refractory is discarded for
    // refractory neurons (Brian2's "unless refractory": read-only meanwhile).
    final boolean gated = gatedTarget;
    final float[] ref = post.refractory;
    final float hold = post.holdAbove();
    if (ring == null && conn.contiguousRows) {
      // Row [a, b) holds posts col[a] .. col[a] + (b - a) - 1: the same adds
      // in the same order as the loop below, without reading col.
      final float[] tgt = targetArr;
      for (int p = 0; p < parts; p++) {
        final int[] sp = g.partSpikes[p];
        for (int k = 0, c = g.partCount[p]; k < c; k++) {
          int i = sp[k];
          int a = rowPtr[i], b = rowPtr[i + 1];
          if (a == b) continue;
          int off = a - col[a];
          int lo = Math.max(col[a], from), hi = Math.min(col[a] + (b - a), to);
          if (gated) {
            for (int j = lo; j < hi; j++) if (ref[j] <= hold) tgt[j] += w[j + off];
          } else {
            chive.core.kernel.RowOps.add(tgt, w, off, lo, hi);
          }
        }
      }
      return;
    }
    if (ring == null) {
      final float[] tgt = targetArr;
      for (int p = 0; p < parts; p++) {
        final int[] sp = g.partSpikes[p];
        for (int k = 0, c = g.partCount[p]; k < c; k++) {
          int i = sp[k];
          int a = rowPtr[i], b = rowPtr[i + 1];
          if (!wholeRange) a = start(part, i, a, b, from);
          if (gated) {
            for (int s = a; s < b; s++) {
              int j = col[s];
              if (j >= to) break;
              if (ref[j] <= hold) tgt[j] += w[s];
            }
          } else {
            for (int s = a; s < b; s++) {
              int j = col[s];
              if (j >= to) break;
              tgt[j] += w[s];
            }
          }
        }
      }
      return;
    }
    final float[] ring = this.ring;
    final int slots = this.slots;
    final int nPost = post.size();
    final short[] ds = delaySteps;
    for (int p = 0; p < parts; p++) {
      final int[] sp = g.partSpikes[p];
      for (int k = 0, c = g.partCount[p]; k < c; k++) {
        int i = sp[k];
        int a = rowPtr[i], b = rowPtr[i + 1];
        if (!wholeRange) a = start(part, i, a, b, from);
        if (ds == null) {
          int base = (int) ((step + uniformDelay) % slots) * nPost;
          for (int s = a; s < b; s++) {
            int j = col[s];
            if (j >= to) break;
            ring[base + j] += w[s];
          }
        } else {
          for (int s = a; s < b; s++) {
            int j = col[s];
            if (j >= to) break;
            ring[(int) ((step + ds[s]) % slots) * nPost + j] += w[s];
          }
        }
      }
    }
    final float[] tgt = targetArr;
    int base = (int) (step % slots) * nPost;
    if (gated) {
      for (int j = from; j < to; j++) {
        if (ref[j] <= hold) tgt[j] += ring[base + j];
        ring[base + j] = 0f;
      }
    } else {
      for (int j = from; j < to; j++) {
        tgt[j] += ring[base + j];
        ring[base + j] = 0f;
      }
    }
  }

  /** {@link #deliver} for a double-precision target: the same steps on double arrays. */
  private void deliverDouble(int part, int from, int to, long step, boolean wholeRange) {
    final int[] rowPtr = conn.rowPtr;
    final int[] col = conn.post;
    final double[] w = this.wD;
    final NeuronGroup g = pre;
    final int parts = g.partCount.length;
    final boolean gated = gatedTarget;
    final float[] ref = post.refractory;
    final float hold = post.holdAbove();
    final double[] tgt = targetD;
    final double[] ring = this.ringD;
    final int slots = this.slots;
    final int nPost = post.size();
    final short[] ds = delaySteps;
    for (int p = 0; p < parts; p++) {
      final int[] sp = g.partSpikes[p];
      for (int k = 0, c = g.partCount[p]; k < c; k++) {
        int i = sp[k];
        int a = rowPtr[i], b = rowPtr[i + 1];
        if (!wholeRange) a = start(part, i, a, b, from);
        for (int s = a; s < b; s++) {
          int j = col[s];
          if (j >= to) break;
          if (ring == null) {
            if (!gated || ref[j] <= hold) tgt[j] += w[s];
          } else {
            int d = ds == null ? uniformDelay : ds[s];
            ring[(int) ((step + d) % slots) * nPost + j] += w[s];
          }
        }
      }
    }
    if (ring != null) {
      int base = (int) (step % slots) * nPost;
      for (int j = from; j < to; j++) {
        if (!gated || ref[j] <= hold) tgt[j] += ring[base + j];
        ring[base + j] = 0;
      }
    }
  }

  /**
   * For runs on more than one thread: rowStart[p][i] is the first synapse of
   * row i onto post partition p (rows are sorted by post index), made for the
   * post group's partition arrays {@code rowStartFor}. A thread then reads
   * only its part of each spiking row: a binary search per row and thread
   * touched most of the row's cache lines, so delivery, bound by loading
   * synapse rows, did not get faster on two threads (measured at CUBA
   * N = 40,000: 0.2 s per thread against 0.2 s on one). Null on one thread;
   * where missing or stale, delivery searches (same result).
   */
  private int[][] rowStart;
  private int[] rowStartFor;

  /** Makes {@link #rowStart} for the post group's current partitions (on the run's coordinating thread, before its first step). */
  void partitionRows() {
    int[] from = post.partFrom;
    if (from.length <= 1) {
      rowStart = null;
      rowStartFor = null;
      return;
    }
    if (rowStartFor == from) return;
    final int[] rowPtr = conn.rowPtr, col = conn.post;
    int nPre = pre.size();
    int[][] rs = new int[from.length][];
    rs[0] = rowPtr;
    for (int p = 1; p < from.length; p++) {
      int[] r = new int[nPre];
      for (int i = 0; i < nPre; i++) r[i] = lowerBound(col, rowPtr[i], rowPtr[i + 1], from[p]);
      rs[p] = r;
    }
    rowStartFor = null;
    rowStart = rs;
    rowStartFor = from;
  }

  /** The first synapse of row i (in [a, b)) onto posts from {@code from}, partition {@code part}. */
  private int start(int part, int i, int a, int b, int from) {
    int[][] rs = rowStart;
    if (rs != null && rowStartFor == post.partFrom && part < rs.length) return rs[part][i];
    return lowerBound(conn.post, a, b, from);
  }

  /** First index in [a, b) whose value is >= key (col sorted ascending there). */
  static int lowerBound(int[] col, int a, int b, int key) {
    int lo = a, hi = b;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (col[mid] < key) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** Input still in flight: per post neuron and delay slot (a copy), for saving. */
  public float[] pendingRing() {
    if (ringD != null) throw new ChiveException("projection '" + name + "': its delay ring is double precision; read it with pendingRingD");
    return ring == null ? new float[0] : Arrays.copyOf(ring, ring.length);
  }

  /** Input in flight of a double-precision projection (a copy), for saving. */
  public double[] pendingRingD() { return ringD == null ? new double[0] : Arrays.copyOf(ringD, ringD.length); }

  /** Restores input in flight saved by {@link #pendingRingD}. */
  public void restoreRingD(double[] saved) {
    checkIdle("restore projection '" + name + "'");
    int have = ringD == null ? 0 : ringD.length;
    if (saved.length != have) {
      throw new ChiveException("projection '" + name + "': saved delay ring has " + saved.length + " values, this projection holds " + have);
    }
    if (have > 0) System.arraycopy(saved, 0, ringD, 0, have);
  }

  /** Restores input in flight saved by {@link #pendingRing} (after the projection joined its network). */
  public void restoreRing(float[] saved) {
    checkIdle("restore projection '" + name + "'");
    if (ringD != null) throw new ChiveException("projection '" + name + "': its delay ring is double precision; use restoreRingD");
    int have = ring == null ? 0 : ring.length;
    if (saved.length != have) {
      throw new ChiveException("projection '" + name + "': saved delay ring has " + saved.length + " values, this projection holds " + have);
    }
    if (have > 0) System.arraycopy(saved, 0, ring, 0, have);
  }

  /** {"target", "precision", "synapses"}; the structure itself is in {@link #arrays}. */
  @Override
  public java.util.Map<String, Object> config() {
    return State.map("target", target, "precision", wD != null ? "double" : "single", "synapses", conn.size());
  }

  /**
   * "row_ptr" and "post" (CSR connectivity), "weight" (live), "delay_ms" (when
   * delayed: one shared value or one per synapse) and "ring" (input in flight,
   * a copy; empty without delays). A projection is rebuilt from the first
   * four; {@link #restore} then checks them and puts back weights and ring.
   */
  @Override
  public java.util.Map<String, Object> arrays() {
    java.util.Map<String, Object> m = State.map("row_ptr", conn.rowPtr, "post", conn.post, "weight", w != null ? w : wD);
    if (delayMs != null) m.put("delay_ms", delayMs);
    m.put("ring", wD != null ? pendingRingD() : pendingRing());
    return m;
  }

  @Override
  public void restore(java.util.Map<String, Object> saved) {
    checkIdle("restore projection '" + name + "'");
    java.util.Map<String, Object> mine = arrays();
    State.sameNames(toString(), mine, saved);
    for (String k : new String[] {"row_ptr", "post", "delay_ms"}) {
      if (!mine.containsKey(k)) continue;
      Object a = mine.get(k), b = saved.get(k);
      boolean same = a.getClass() == b.getClass()
          && (a instanceof int[] ? Arrays.equals((int[]) a, (int[]) b) : Arrays.equals((double[]) a, (double[]) b));
      if (!same) {
        throw new ChiveException(this + ": saved array '" + k + "' differs from this projection's; a projection is restored"
            + " onto one built from the same connectivity and delays");
      }
    }
    Object ws = saved.get("weight"), rs = saved.get("ring");
    Object wl = w != null ? w : wD;
    if (ws == null || ws.getClass() != wl.getClass() || State.length(ws) != State.length(wl)) {
      throw new ChiveException(this + ": saved array 'weight' is " + State.describe(ws) + ", expected " + State.describe(wl));
    }
    for (int s = 0, n = State.length(ws); s < n; s++) {
      double x = ws instanceof float[] ? ((float[]) ws)[s] : ((double[]) ws)[s];
      if (!Double.isFinite(x)) throw new ChiveException(this + ": saved weight of synapse " + s + " is " + x);
    }
    if (wD != null) {
      if (!(rs instanceof double[])) throw new ChiveException(this + ": saved array 'ring' is " + State.describe(rs) + ", expected float64");
      restoreRingD((double[]) rs);
    } else {
      if (!(rs instanceof float[])) throw new ChiveException(this + ": saved array 'ring' is " + State.describe(rs) + ", expected float32");
      restoreRing((float[]) rs);
    }
    State.copy(toString(), "weight", ws, wl);
  }

  /** Delays as given (ms): null, one shared value, or one per synapse. */
  public double[] delaysMs() { return delayMs == null ? null : delayMs.clone(); }

  /** Bytes held by this projection. */
  public long bytes() {
    long b = (wD != null ? 12L : 8L) * conn.size() + 4L * (conn.nPre + 1);
    if (delaySteps != null) b += 2L * conn.size();
    if (ring != null) b += 4L * ring.length;
    if (ringD != null) b += 8L * ringD.length;
    if (plasticity != null) b += plasticity.bytes();
    int[][] rs = rowStart;
    if (rs != null) b += 4L * conn.nPre * (rs.length - 1); // row splits for a run on several threads
    return b;
  }

  @Override
  public String toString() {
    return "projection '" + name + "' " + pre.name() + " -> " + post.name() + "." + target + " (" + conn.size() + " synapses)";
  }
}
