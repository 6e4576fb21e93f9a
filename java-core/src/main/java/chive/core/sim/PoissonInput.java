package chive.core.sim;

/**
 * Poisson input to every neuron of a group, without source neurons or
 * synapses (Brian2's {@code PoissonInput}): each neuron receives the spikes
 * of {@code n} independent Poisson sources of rate {@code r}, each adding
 * {@code weight} to the target variable. Per neuron and step the number of
 * source spikes k is drawn from Binomial(n, p = r·dt), and weight·k is added
 * in the synaptic phase of the step, after the projections' deliveries.
 *
 * <p>The draw follows Brian2's {@code BinomialFunction(n, p, approximate=True)}:
 * exact binomial by inversion (numpy's algorithm) unless n·p &gt; 5 and
 * n·(1 - p) &gt; 5, where k is the continuous normal approximation
 * n·p + sqrt(n·p·(1 - p))·z (not rounded, as in Brian2); {@code approximate}
 * false keeps the exact draw for every mean. Uniforms are counter-based
 * ({@link Rng}: seed, input, neuron, step), so any thread count gives the
 * same input and a saved network continues it exactly.
 *
 * <p>A target variable that the group holds while refractory receives nothing
 * for refractory neurons (see {@link NeuronGroup#holdWhileRefractory}).
 * A rate with r·dt &gt; 1 is refused (each source could spike at most once per
 * step).
 */
public final class PoissonInput extends Input {
  private int n;
  private double rateHz;
  private double weight;
  private boolean approximate = true;
  private double dt = Double.NaN;
  private long seed;
  private float[] tgt;
  private double[] tgtD;
  private boolean gated;
  private long[] keys;
  // Derived from n and p: see configure().
  private boolean useNormal, reverse;
  private double pp, q, qn, bound, loc, scale;

  /** Input to neurons [from, to) of {@code target}. */
  public PoissonInput(String name, NeuronGroup target, String var, int from, int to, int sources, double rateHz, double weight) {
    super("Poisson", name, target, var, from, to);
    check(sources, rateHz, weight);
    this.n = sources;
    this.rateHz = rateHz;
    this.weight = weight;
  }

  public PoissonInput(String name, NeuronGroup target, String var, int sources, double rateHz, double weight) {
    this(name, target, var, 0, target.size(), sources, rateHz, weight);
  }

  private void check(int sources, double hz, double w) {
    if (sources < 0) throw new ChiveException("Poisson input '" + name() + "': the number of sources must be >= 0, got " + sources);
    if (!(hz >= 0) || Double.isInfinite(hz)) throw new ChiveException("Poisson input '" + name() + "': rate must be finite and >= 0 Hz, got " + hz);
    if (!Double.isFinite(w)) throw new ChiveException("Poisson input '" + name() + "': weight must be finite, got " + w);
    if (!Double.isNaN(dt) && hz * dt / 1000.0 > 1.0) {
      throw new ChiveException("Poisson input '" + name() + "': rate " + hz + " Hz is above 1/dt = " + (1000.0 / dt)
          + " Hz: a source could spike more than once per step of " + dt + " ms");
    }
  }

  public int sources() { return n; }
  public double rateHz() { return rateHz; }
  public double weight() { return weight; }
  public boolean approximate() { return approximate; }

  /** Sets the rate (Hz) of every source; takes effect at the next step. */
  public void setRate(double hz) {
    checkIdle("set the rate of Poisson input '" + name() + "'");
    check(n, hz, weight);
    rateHz = hz;
    if (!Double.isNaN(dt)) configure();
  }

  /** Sets the number of sources per neuron. */
  public void setSources(int sources) {
    checkIdle("set the sources of Poisson input '" + name() + "'");
    check(sources, rateHz, weight);
    n = sources;
    if (!Double.isNaN(dt)) configure();
  }

  /** Sets the weight (in the target variable's unit). */
  public void setWeight(double w) {
    checkIdle("set the weight of Poisson input '" + name() + "'");
    check(n, rateHz, w);
    weight = w;
  }

  /** Exact binomial draws for every mean (true), or Brian2's normal approximation for large means (false, the default). */
  public void setExact(boolean exact) {
    checkIdle("change Poisson input '" + name() + "'");
    approximate = !exact;
    if (!Double.isNaN(dt)) configure();
  }

  @Override
  protected void bind(double dt, int id, long seed) {
    this.dt = dt;
    this.id = id;
    this.seed = seed;
    if (target.isDouble(var)) tgtD = target.varD(var); else tgt = target.var(var);
    gated = target.holds(var);
    keys = new long[to - from];
    for (int j = from; j < to; j++) keys[j - from] = Rng.key(seed, STREAM + id, j);
    check(n, rateHz, weight);
    configure();
  }

  /** Random streams of inputs are apart from those of groups (which use the group's index). */
  static final long STREAM = 0x5049_0000L;

  private void configure() {
    double p = rateHz * dt / 1000.0;
    useNormal = approximate && n * p > 5 && n * (1 - p) > 5;
    loc = n * p;
    scale = Math.sqrt(n * p * (1 - p));
    reverse = p > 0.5;
    pp = reverse ? 1 - p : p;
    q = 1 - pp;
    qn = Math.exp(n * Math.log(q));
    bound = Math.min(n, n * pp + 10.0 * Math.sqrt(n * pp * q + 1));
  }

  /** The number of source spikes neuron {@code j} receives in step {@code step} (continuous when approximated). */
  public double draw(int j, long step) {
    if (Double.isNaN(dt)) throw new ChiveException("Poisson input '" + name() + "': add it to a network first");
    if (n == 0 || rateHz == 0) return 0;
    return sample(Rng.atStep(keys[j - from], step));
  }

  private static double unit(long bits) { return (bits >>> 11) * 0x1.0p-53; }

  private double sample(long bits) {
    if (useNormal) {
      // Box-Muller from two uniforms, u1 in (0, 1].
      double u1 = 1.0 - unit(bits), u2 = unit(Rng.mix(bits ^ 0x2545F4914F6CDD1DL));
      return loc + scale * Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
    // numpy's binomial inversion (rk_binomial_inversion), as Brian2's exact draw.
    long x = 0;
    double px = qn;
    double u = unit(bits);
    long k = 0;
    while (u > px) {
      x++;
      if (x > bound) {
        x = 0;
        px = qn;
        u = unit(Rng.mix(bits + (++k) * 0x9E3779B97F4A7C15L));
      } else {
        u -= px;
        px = ((n - x + 1) * pp * px) / (x * q);
      }
    }
    return reverse ? n - x : x;
  }

  /** Adds this step's input to neurons [lo, hi) of the target (group numbering). */
  @Override
  protected void apply(int lo, int hi, long step) {
    if (n == 0 || rateHz == 0) return;
    final int a = Math.max(lo, from), b = Math.min(hi, to);
    final float[] tgt = this.tgt, ref = target.refractory;
    final double[] tgtD = this.tgtD;
    final float hold = target.holdAbove();
    final boolean gated = this.gated;
    final double w = weight;
    for (int j = a; j < b; j++) {
      if (gated && ref[j] > hold) continue;
      double k = sample(Rng.atStep(keys[j - from], step));
      if (k != 0) {
        if (tgtD != null) tgtD[j] += w * k; else tgt[j] += (float) (w * k);
      }
    }
  }

  /** "target" (variable), "from", "to", "n" (sources per neuron), "rate_hz", "weight", "exact". */
  @Override
  public java.util.Map<String, Object> config() {
    java.util.Map<String, Object> m = super.config();
    m.put("n", n);
    m.put("rate_hz", rateHz);
    m.put("weight", weight);
    m.put("exact", !approximate);
    return m;
  }

  /** None: the draws are counter-based (seed, input, neuron, step), so the network's clock is the whole state. */
  @Override
  public java.util.Map<String, Object> arrays() { return new java.util.LinkedHashMap<>(); }

  @Override
  public void restore(java.util.Map<String, Object> saved) {
    State.sameNames(toString(), arrays(), saved);
  }

  @Override public String toString() { return "Poisson input '" + name() + "' to " + target.name() + "." + var; }
}
