package chive.core.sim;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Which synapses exist: the (pre, post) pairs of a projection, built by a named
 * connector and stored in CSR order (by presynaptic neuron, then post).
 * Builders are deterministic for a seed and allocate exactly once.
 */
public final class Connectivity {
  /** Row pointers, length nPre + 1. */
  final int[] rowPtr;
  /** Postsynaptic index per synapse, ascending within each row. */
  final int[] post;
  final int nPre;
  final int nPost;
  int[] order;
  /**
   * Every row's post indices are consecutive (post[s] = post[a] + (s - a) in
   * row [a, b)), as in all-to-all and one-to-one connectivity: delivery and
   * STDP then address the post neurons without reading {@link #post}, in
   * loops the JIT compiles to SIMD instructions; same operations, same order.
   */
  boolean contiguousRows;

  Connectivity(int nPre, int nPost, int[] rowPtr, int[] post) {
    this.nPre = nPre;
    this.nPost = nPost;
    this.rowPtr = rowPtr;
    this.post = post;
    boolean c = true;
    for (int i = 0; i < nPre && c; i++) {
      for (int s = rowPtr[i] + 1, b = rowPtr[i + 1]; s < b; s++) {
        if (post[s] != post[s - 1] + 1) { c = false; break; }
      }
    }
    this.contiguousRows = c;
  }

  /** True when every row's post indices are consecutive (see {@link #contiguousRows}) and that fast path is on. */
  public boolean contiguousRows() { return contiguousRows; }

  /** Turns the contiguous-row fast path off (tests compare it with the general loops); before the projection is built. */
  void disableContiguousPath() { contiguousRows = false; }

  public int size() { return post.length; }

  /** Rebuilds connectivity from CSR arrays (as saved); checks them. */
  public static Connectivity fromCsr(int nPre, int nPost, int[] rowPtr, int[] post) {
    checkSizes("csr", nPre, nPost);
    if (rowPtr.length != nPre + 1) throw new ChiveException("csr: " + rowPtr.length + " row pointers for " + nPre + " pre neurons (need " + (nPre + 1) + ")");
    if (rowPtr[0] != 0 || rowPtr[nPre] != post.length) throw new ChiveException("csr: row pointers must run from 0 to " + post.length);
    for (int i = 0; i < nPre; i++) {
      if (rowPtr[i + 1] < rowPtr[i]) throw new ChiveException("csr: row pointers decrease at row " + i);
      for (int s = rowPtr[i]; s < rowPtr[i + 1]; s++) {
        if (post[s] < 0 || post[s] >= nPost) throw new ChiveException("csr: post index " + post[s] + " outside [0, " + nPost + ")");
        if (s > rowPtr[i] && post[s] < post[s - 1]) throw new ChiveException("csr: row " + i + " is not sorted by post index");
      }
    }
    return new Connectivity(nPre, nPost, rowPtr, post);
  }
  public int[] rowPtr() { return rowPtr; }
  public int[] post() { return post; }

  /** Presynaptic index per synapse (expanded from the row pointers). */
  public int[] pre() {
    int[] pre = new int[post.length];
    for (int i = 0; i < nPre; i++) Arrays.fill(pre, rowPtr[i], rowPtr[i + 1], i);
    return pre;
  }

  private static void checkSizes(String what, int nPre, int nPost) {
    if (nPre <= 0 || nPost <= 0) {
      throw new ChiveException(what + ": group sizes must be positive, got pre " + nPre + ", post " + nPost);
    }
  }

  /** Throws a clear error if {@code synapses} will not fit in the heap (about {@code bytesPer} each). */
  public static void checkFits(String what, long synapses, long bytesPer) {
    if (synapses > Integer.MAX_VALUE - 8) {
      throw new ChiveException(what + ": " + synapses + " synapses exceed the limit of one projection ("
          + (Integer.MAX_VALUE - 8) + "); split it into several projections");
    }
    Runtime rt = Runtime.getRuntime();
    long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    long need = synapses * bytesPer;
    if (need > free * 0.9) {
      throw new ChiveException(String.format(
          "%s: about %d synapses need about %.1f MiB but only %.1f MiB of heap are free "
              + "(max heap %.1f MiB); raise -Xmx (CHIVE_JVM_OPTS=-Xmx..G) or make the network smaller",
          what, synapses, need / 1048576.0, free / 1048576.0, rt.maxMemory() / 1048576.0));
    }
  }

  /** Every pre to every post. */
  public static Connectivity allToAll(int nPre, int nPost) {
    checkSizes("all_to_all", nPre, nPost);
    checkFits("all_to_all", (long) nPre * nPost, 12);
    int[] rowPtr = new int[nPre + 1];
    int[] post = new int[nPre * nPost];
    for (int i = 0; i < nPre; i++) {
      rowPtr[i + 1] = (i + 1) * nPost;
      for (int j = 0; j < nPost; j++) post[i * nPost + j] = j;
    }
    return new Connectivity(nPre, nPost, rowPtr, post);
  }

  /** Every pre to every post except i to i (groups of equal size). */
  public static Connectivity allToAllExceptDiagonal(int nPre, int nPost) {
    checkSizes("all_to_all_except_diagonal", nPre, nPost);
    if (nPre != nPost) {
      throw new ChiveException("all_to_all_except_diagonal needs groups of equal size, got pre " + nPre + ", post " + nPost);
    }
    checkFits("all_to_all_except_diagonal", (long) nPre * (nPost - 1), 12);
    int[] rowPtr = new int[nPre + 1];
    int[] post = new int[nPre * (nPost - 1)];
    int k = 0;
    for (int i = 0; i < nPre; i++) {
      for (int j = 0; j < nPost; j++) if (j != i) post[k++] = j;
      rowPtr[i + 1] = k;
    }
    return new Connectivity(nPre, nPost, rowPtr, post);
  }

  /** i to i (WheatNNLeek's "linear"); groups of equal size. */
  public static Connectivity oneToOne(int nPre, int nPost) {
    checkSizes("one_to_one", nPre, nPost);
    if (nPre != nPost) {
      throw new ChiveException("one_to_one needs groups of equal size, got pre " + nPre + ", post " + nPost);
    }
    int[] rowPtr = new int[nPre + 1];
    int[] post = new int[nPre];
    for (int i = 0; i < nPre; i++) {
      post[i] = i;
      rowPtr[i + 1] = i + 1;
    }
    return new Connectivity(nPre, nPost, rowPtr, post);
  }

  /**
   * Each (pre, post) pair independently with probability p (self-connections
   * allowed unless {@code noSelf}). Drawn by geometric skipping, so the cost is
   * proportional to the number of synapses, not to nPre·nPost.
   */
  public static Connectivity fixedProbability(int nPre, int nPost, double p, boolean noSelf, long seed) {
    checkSizes("fixed_probability", nPre, nPost);
    if (!(p >= 0 && p <= 1)) throw new ChiveException("fixed_probability: p must be in [0, 1], got " + p);
    long expected = (long) Math.ceil((double) nPre * nPost * p);
    checkFits("fixed_probability", expected, 12);
    SplittableRandom rng = new SplittableRandom(seed);
    int[] rowPtr = new int[nPre + 1];
    int cap = (int) Math.min(Integer.MAX_VALUE - 8, expected + 6 * Math.sqrt(expected + 1) + 16);
    int[] post = new int[cap];
    int k = 0;
    double logq = p < 1 ? Math.log1p(-p) : 0;
    for (int i = 0; i < nPre; i++) {
      if (p >= 1) {
        for (int j = 0; j < nPost; j++) {
          if (noSelf && j == i) continue;
          if (k == post.length) post = Arrays.copyOf(post, (int) Math.min(Integer.MAX_VALUE - 8, post.length * 3L / 2 + 16));
          post[k++] = j;
        }
      } else if (p > 0) {
        long j = -1;
        while (true) {
          // Gap to the next success of a Bernoulli(p) sequence.
          double u = 1.0 - rng.nextDouble();
          j += 1 + (long) Math.floor(Math.log(u) / logq);
          if (j >= nPost) break;
          if (noSelf && j == i) continue;
          if (k == post.length) post = Arrays.copyOf(post, (int) Math.min(Integer.MAX_VALUE - 8, post.length * 3L / 2 + 16));
          post[k++] = (int) j;
        }
      }
      rowPtr[i + 1] = k;
    }
    return new Connectivity(nPre, nPost, rowPtr, k == post.length ? post : Arrays.copyOf(post, k));
  }

  /** Each post receives exactly {@code k} distinct pres, chosen uniformly (no self unless allowed). */
  public static Connectivity fixedInDegree(int nPre, int nPost, int k, boolean noSelf, long seed) {
    checkSizes("fixed_in_degree", nPre, nPost);
    int avail = noSelf && nPre == nPost ? nPre - 1 : nPre;
    if (k < 0 || k > avail) {
      throw new ChiveException("fixed_in_degree: k must be in [0, " + avail + "], got " + k);
    }
    checkFits("fixed_in_degree", (long) k * nPost, 16);
    SplittableRandom rng = new SplittableRandom(seed);
    int[] pre = new int[k * nPost];
    int[] postOf = new int[k * nPost];
    int[] pool = new int[nPre];
    for (int j = 0; j < nPost; j++) {
      for (int i = 0; i < nPre; i++) pool[i] = i;
      int m = nPre;
      if (noSelf && nPre == nPost) { pool[j] = pool[--m]; }
      for (int c = 0; c < k; c++) { // partial Fisher-Yates
        int r = c + rng.nextInt(m - c);
        int t = pool[c]; pool[c] = pool[r]; pool[r] = t;
        pre[j * k + c] = pool[c];
        postOf[j * k + c] = j;
      }
    }
    return fromPairs(nPre, nPost, pre, postOf);
  }

  /**
   * Explicit (pre[s], post[s]) pairs; duplicates are allowed (multiple synapses).
   * {@link #order()} then maps each CSR slot to its position s in the input, so
   * per-synapse values given in input order can be permuted to match.
   */
  public static Connectivity fromPairs(int nPre, int nPost, int[] pre, int[] post) {
    checkSizes("explicit", nPre, nPost);
    if (pre.length != post.length) {
      throw new ChiveException("explicit connector: " + pre.length + " pre indices but " + post.length + " post indices");
    }
    int[] rowPtr = new int[nPre + 1];
    for (int s = 0; s < pre.length; s++) {
      if (pre[s] < 0 || pre[s] >= nPre) throw new ChiveException("explicit connector: pre index " + pre[s] + " at position " + s + " is outside [0, " + nPre + ")");
      if (post[s] < 0 || post[s] >= nPost) throw new ChiveException("explicit connector: post index " + post[s] + " at position " + s + " is outside [0, " + nPost + ")");
      rowPtr[pre[s] + 1]++;
    }
    for (int i = 0; i < nPre; i++) rowPtr[i + 1] += rowPtr[i];
    int[] fill = Arrays.copyOf(rowPtr, nPre);
    long[] keys = new long[pre.length];
    for (int s = 0; s < pre.length; s++) keys[fill[pre[s]]++] = ((long) post[s] << 32) | s;
    int[] out = new int[pre.length];
    int[] order = new int[pre.length];
    for (int i = 0; i < nPre; i++) {
      Arrays.sort(keys, rowPtr[i], rowPtr[i + 1]);
      for (int k = rowPtr[i]; k < rowPtr[i + 1]; k++) {
        out[k] = (int) (keys[k] >>> 32);
        order[k] = (int) keys[k];
      }
    }
    Connectivity c = new Connectivity(nPre, nPost, rowPtr, out);
    c.order = order;
    return c;
  }

  /**
   * This connectivity, built between subgroups, placed into whole groups:
   * pre neuron i becomes {@code preFrom + i} of a group of {@code nPre}, post j
   * becomes {@code postFrom + j} of {@code nPost}. Synapse order (and
   * {@link #order()}) is unchanged; rows outside the slice are empty.
   */
  public Connectivity placed(int nPre, int preFrom, int nPost, int postFrom) {
    if (preFrom < 0 || preFrom + this.nPre > nPre || postFrom < 0 || postFrom + this.nPost > nPost) {
      throw new ChiveException("connectivity of " + this.nPre + " x " + this.nPost + " does not fit at (" + preFrom + ", "
          + postFrom + ") into groups of " + nPre + " and " + nPost);
    }
    int[] rp = new int[nPre + 1];
    for (int i = 0; i <= nPre; i++) {
      int k = Math.min(Math.max(i - preFrom, 0), this.nPre);
      rp[i] = rowPtr[k];
    }
    int[] out = new int[post.length];
    for (int s = 0; s < out.length; s++) out[s] = post[s] + postFrom;
    Connectivity c = new Connectivity(nPre, nPost, rp, out);
    c.order = order;
    return c;
  }

  /** For explicit pairs: the input position of each CSR slot; null for generated connectivity. */
  public int[] order() { return order; }

  /** The permutation that orders synapses by (post, pre): for plasticity on post spikes. */
  public int[][] postIndex() {
    int[] colPtr = new int[nPost + 1];
    for (int p : post) colPtr[p + 1]++;
    for (int j = 0; j < nPost; j++) colPtr[j + 1] += colPtr[j];
    int[] fill = Arrays.copyOf(colPtr, nPost);
    int[] syn = new int[post.length];
    for (int s = 0; s < post.length; s++) syn[fill[post[s]]++] = s;
    return new int[][] {colPtr, syn};
  }
}
