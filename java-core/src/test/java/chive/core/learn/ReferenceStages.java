package chive.core.learn;

import chive.core.sim.Rng;

/**
 * A plain double-precision reference of the stages' forward math (Conv2d,
 * Pool2d, Flatten, Affine, Neuron (recurrent too), Delay, Dropout; BatchNorm over each
 * sample group, in training mode): one sample at a time (BatchNorm: a group at a time),
 * direct loops, the trainable parameters as double copies that the finite
 * differences perturb. The loss is SpikingNet's (cross-entropy of the spike
 * counts or of the maximum over time of a readout), summed over the batch.
 */
final class ReferenceStages {
  final Module[] ms;
  final SpikingNet.LossKind loss;
  final boolean smooth;
  /** Per stage, its trainable arrays as doubles (aligned with Module.params()). */
  final double[][][] p;

  ReferenceStages(SpikingNet net, boolean smooth) {
    this.ms = net.modules();
    this.loss = net.lossKind();
    this.smooth = smooth;
    p = new double[ms.length][][];
    for (int l = 0; l < ms.length; l++) {
      float[][] a = ms[l].params();
      p[l] = new double[a.length][];
      for (int q = 0; q < a.length; q++) p[l][q] = ReferenceBptt.toD(a[q]);
    }
  }

  /** Loss summed over samples; x rows b·T + t of n values; call is the training step (Dropout's masks). */
  double loss(float[] x, int batch, int T, int[] y, long call) {
    double total = 0;
    int n0 = ms[0].inSize();
    double[][][] all = new double[batch][T][n0];
    for (int b = 0; b < batch; b++) for (int t = 0; t < T; t++) for (int i = 0; i < n0; i++) all[b][t][i] = x[(b * T + t) * n0 + i];
    for (int l = 0; l < ms.length; l++) {
      if (ms[l] instanceof BatchNorm) batchNorm(l, all);
      else for (int b = 0; b < batch; b++) all[b] = stage(l, all[b], b, call);
    }
    for (int b = 0; b < batch; b++) {
      double[][] s = all[b];
      int c = s[0].length;
      double[] logit = new double[c];
      for (int j = 0; j < c; j++) {
        double v = loss == SpikingNet.LossKind.COUNT_CE ? 0 : Double.NEGATIVE_INFINITY;
        for (int t = 0; t < T; t++) v = loss == SpikingNet.LossKind.COUNT_CE ? v + s[t][j] : Math.max(v, s[t][j]);
        logit[j] = v;
      }
      double mx = Double.NEGATIVE_INFINITY, z = 0;
      for (double v : logit) mx = Math.max(mx, v);
      for (double v : logit) z += Math.exp(v - mx);
      total += mx + Math.log(z) - logit[y[b]];
    }
    return total;
  }

  double[][] stage(int l, double[][] in, int sample, long call) {
    Module m = ms[l];
    int T = in.length;
    int[] is = m.inShape(), os = m.outShape();
    double[][] out = new double[T][Module.size(os)];
    if (m instanceof Conv2d) {
      Conv2d c = (Conv2d) m;
      double[] w = p[l][0], bias = c.b != null ? p[l][1] : null;
      int h = is[1], wi = is[2], ho = os[1], wo = os[2], cing = c.cin / c.groups, cog = c.cout / c.groups;
      for (int t = 0; t < T; t++) for (int o = 0; o < c.cout; o++) for (int oy = 0; oy < ho; oy++) for (int ox = 0; ox < wo; ox++) {
        double s = bias == null ? 0 : bias[o];
        int g = o / cog;
        for (int cl = 0; cl < cing; cl++) for (int ky = 0; ky < c.kh; ky++) for (int kx = 0; kx < c.kw; kx++) {
          int iy = oy * c.sh - c.ph + ky * c.dh, ix = ox * c.sw - c.pw + kx * c.dw;
          if (iy >= 0 && iy < h && ix >= 0 && ix < wi) s += in[t][(g * cing + cl) * h * wi + iy * wi + ix] * w[((o * cing + cl) * c.kh + ky) * c.kw + kx];
        }
        out[t][(o * ho + oy) * wo + ox] = s;
      }
    } else if (m instanceof Pool2d) {
      Pool2d q = (Pool2d) m;
      int h = is[1], wi = is[2], ho = os[1], wo = os[2];
      for (int t = 0; t < T; t++) for (int ch = 0; ch < is[0]; ch++) for (int oy = 0; oy < ho; oy++) for (int ox = 0; ox < wo; ox++) {
        double s = 0, mx = Double.NEGATIVE_INFINITY;
        for (int ky = 0; ky < q.kh; ky++) for (int kx = 0; kx < q.kw; kx++) {
          int iy = oy * q.sh - q.ph + ky, ix = ox * q.sw - q.pw + kx;
          if (iy < 0 || iy >= h || ix < 0 || ix >= wi) continue;
          double v = in[t][ch * h * wi + iy * wi + ix];
          s += v;
          mx = Math.max(mx, v);
        }
        out[t][(ch * ho + oy) * wo + ox] = q.type == Pool2d.Kind.SUM ? s : q.type == Pool2d.Kind.AVG ? s / (q.kh * q.kw) : mx;
      }
    } else if (m instanceof Flatten) {
      for (int t = 0; t < T; t++) out[t] = in[t].clone();
    } else if (m instanceof Affine) {
      Affine a = (Affine) m;
      double[] w = p[l][0], bias = a.b != null ? p[l][1] : null;
      for (int t = 0; t < T; t++) for (int j = 0; j < a.n; j++) {
        double s = bias == null ? 0 : bias[j];
        for (int i = 0; i < a.nIn; i++) s += in[t][i] * w[i * a.n + j];
        out[t][j] = s;
      }
    } else if (m instanceof Delay) {
      int d = ((Delay) m).steps;
      for (int t = d; t < T; t++) out[t] = in[t - d].clone();
    } else if (m instanceof Dropout) {
      Dropout d = (Dropout) m;
      for (int t = 0; t < T; t++) for (int j = 0; j < in[t].length; j++) {
        boolean keep = Rng.uniform(d.seed, call, sample, j) >= d.p;
        out[t][j] = keep ? in[t][j] / (1 - d.p) : 0;
      }
    } else if (m instanceof Neuron) {
      neuron((Neuron) m, l, in, out);
    } else {
      throw new IllegalArgumentException("no reference for " + m.kind());
    }
    return out;
  }

  /**
   * Training-mode batch norm in place: per sample group (the batch cut into
   * SpikingNet.GROUPS as the engine cuts it), per channel, the mean and
   * biased variance over the group's samples, steps and positions.
   */
  private void batchNorm(int l, double[][][] all) {
    BatchNorm m = (BatchNorm) ms[l];
    int batch = all.length, T = all[0].length, n = all[0][0].length;
    int[] is = m.inShape();
    int C = is.length > 1 ? is[0] : n, S = n / C;
    double[] gamma = p[l][0], beta = p[l][1];
    int chunks = Math.min(SpikingNet.GROUPS, batch);
    for (int ci = 0; ci < chunks; ci++) {
      int s0 = (int) ((long) batch * ci / chunks), s1 = (int) ((long) batch * (ci + 1) / chunks);
      for (int c = 0; c < C; c++) {
        double sum = 0, sq = 0, cnt = 0;
        for (int b = s0; b < s1; b++) for (int t = 0; t < T; t++) for (int k = 0; k < S; k++) { sum += all[b][t][c * S + k]; cnt++; }
        double mu = sum / cnt;
        for (int b = s0; b < s1; b++) for (int t = 0; t < T; t++) for (int k = 0; k < S; k++) { double d = all[b][t][c * S + k] - mu; sq += d * d; }
        double sd = Math.sqrt(sq / cnt + m.eps);
        for (int b = s0; b < s1; b++) for (int t = 0; t < T; t++) for (int k = 0; k < S; k++) {
          all[b][t][c * S + k] = gamma[c] * (all[b][t][c * S + k] - mu) / sd + beta[c];
        }
      }
    }
  }

  private void neuron(Neuron m, int l, double[][] in, double[][] out) {
    int T = in.length, n = in[0].length;
    int k = 0;
    double[] beta = m.learnBeta ? p[l][k++] : ReferenceBptt.toD(m.beta());
    double[] alpha = m.learnAlpha ? p[l][k++] : ReferenceBptt.toD(m.alpha());
    double[] th = m.learnThreshold ? p[l][k++] : ReferenceBptt.toD(m.threshold());
    double[] v = m.recurrent ? p[l][k++] : null;
    int grp = n / beta.length;
    double[] u = new double[n], i = new double[n], s = new double[n], rec = new double[n];
    boolean sp = m.spiking();
    for (int t = 0; t < T; t++) {
      // recurrent input from the previous step's spikes (s before this step's update)
      java.util.Arrays.fill(rec, 0);
      if (v != null) for (int a = 0; a < n; a++) for (int j = 0; j < n; j++) rec[j] += s[a] * v[a * n + j];
      for (int j = 0; j < n; j++) {
        int q = j / grp;
        double b = Math.max(0, Math.min(1, beta[q]));
        double jt = in[t][j] + rec[j];
        if (m.currentBased) {
          i[j] = Math.max(0, Math.min(1, alpha[q])) * i[j] + jt;
          jt = i[j] + (m.drive() != null ? m.drive()[j] : 0);
        }
        double un;
        if (!sp) un = b * u[j] + jt;
        else switch (m.reset) {
          case SOFT: un = b * u[j] + jt - th[q] * s[j]; break;
          case HARD: un = (b * u[j] + jt) * (1 - s[j]); break;
          default: un = b * u[j] * (1 - s[j]) + jt;
        }
        u[j] = un;
        if (sp) s[j] = smooth ? m.surrogate.smooth(un - th[q]) : (un > th[q] ? 1 : 0);
        out[t][j] = sp ? s[j] : un;
      }
    }
  }
}
