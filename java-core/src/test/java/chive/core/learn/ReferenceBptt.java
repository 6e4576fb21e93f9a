package chive.core.learn;

/**
 * A plain double-precision reference of SpikingNet's math: one sample at a
 * time, all layers per time step (the order of the seeds' scan loops), full
 * state history, naive loops, no kernels. Used to check the fast engine and,
 * with finite differences, the backward equations themselves.
 */
final class ReferenceBptt {
  final Layer[] L;
  final SpikingNet.LossKind loss;
  final boolean smooth;
  final double[][] w, v;

  ReferenceBptt(Layer[] layers, SpikingNet.LossKind loss, boolean smooth) {
    this.L = layers; this.loss = loss; this.smooth = smooth;
    w = new double[layers.length][]; v = new double[layers.length][];
    for (int l = 0; l < layers.length; l++) {
      w[l] = toD(layers[l].w);
      v[l] = layers[l].v == null ? null : toD(layers[l].v);
    }
  }

  static double[] toD(float[] a) { double[] d = new double[a.length]; for (int i = 0; i < a.length; i++) d[i] = a[i]; return d; }

  // state[l][t][j]
  double[][][] U, I, Ir, S;

  /** Loss of one sample x[t][i] with label y (cross-entropy, not scaled). */
  double forward(double[][] x, int y) {
    int T = x.length, nl = L.length;
    U = new double[nl][T][]; I = new double[nl][T][]; Ir = new double[nl][T][]; S = new double[nl][T][];
    for (int t = 0; t < T; t++) {
      double[] in = x[t];
      for (int l = 0; l < nl; l++) {
        Layer a = L[l];
        int n = a.n;
        double[] u = new double[n], i = new double[n], r = new double[n], s = new double[n];
        for (int j = 0; j < n; j++) {
          double z = 0;
          for (int k = 0; k < a.nIn; k++) z += in[k] * w[l][k * n + j];
          i[j] = (t > 0 ? a.syn * I[l][t - 1][j] : 0) + a.inGain * z;
          if (a.recurrent && t > 0) {
            double zr = 0;
            for (int k = 0; k < n; k++) zr += S[l][t - 1][k] * v[l][k * n + j];
            r[j] = a.rec * Ir[l][t - 1][j] + a.recGain * zr;
          }
          if (t > 0) {
            double up = U[l][t - 1][j], ip = a.memGain * (I[l][t - 1][j] + (a.recurrent ? Ir[l][t - 1][j] : 0));
            if (!a.spiking) u[j] = a.mem * up + ip;
            else {
              double sp = S[l][t - 1][j];
              switch (a.reset) {
                case HARD_LEAK: u[j] = a.mem * up * (1 - sp) + ip; break;
                case HARD: u[j] = (a.mem * up + ip) * (1 - sp); break;
                default: u[j] = a.mem * up - a.threshold * sp + ip;
              }
            }
          }
          if (a.spiking) s[j] = smooth ? a.surrogate.smooth(u[j] - a.threshold) : (u[j] > a.threshold ? 1 : 0);
        }
        U[l][t] = u; I[l][t] = i; Ir[l][t] = r; S[l][t] = s;
        in = a.spiking ? s : u;
      }
    }
    double[] logit = logits(T);
    double mx = Double.NEGATIVE_INFINITY;
    for (double z : logit) mx = Math.max(mx, z);
    double zs = 0;
    for (double z : logit) zs += Math.exp(z - mx);
    return mx + Math.log(zs) - logit[y];
  }

  double[] logits(int T) {
    int last = L.length - 1, n = L[last].n;
    double[] logit = new double[n];
    for (int j = 0; j < n; j++) {
      if (loss == SpikingNet.LossKind.COUNT_CE) { double c = 0; for (int t = 0; t < T; t++) c += S[last][t][j]; logit[j] = c; }
      else { double m = Double.NEGATIVE_INFINITY; for (int t = 0; t < T; t++) m = Math.max(m, U[last][t][j]); logit[j] = m; }
    }
    return logit;
  }

  /** Gradients (same layout as SpikingNet.params()) of one sample's unscaled loss, accumulated into g. */
  void backward(double[][] x, int y, double[][] g) {
    int T = x.length, nl = L.length, last = nl - 1, nOut = L[last].n;
    forward(x, y);
    double[] logit = logits(T);
    double mx = Double.NEGATIVE_INFINITY;
    for (double z : logit) mx = Math.max(mx, z);
    double zs = 0;
    for (double z : logit) zs += Math.exp(z - mx);
    double[] dlogit = new double[nOut];
    for (int j = 0; j < nOut; j++) dlogit[j] = Math.exp(logit[j] - mx) / zs - (j == y ? 1 : 0);
    // dOut[l][t][j]: dL/d(output of layer l at t), from the loss and the layer above.
    double[][][] dOut = new double[nl][T][];
    for (int l = 0; l < nl; l++) for (int t = 0; t < T; t++) dOut[l][t] = new double[L[l].n];
    for (int j = 0; j < nOut; j++) {
      if (loss == SpikingNet.LossKind.COUNT_CE) for (int t = 0; t < T; t++) dOut[last][t][j] = dlogit[j];
      else { int at = 0; for (int t = 1; t < T; t++) if (U[last][t][j] > U[last][at][j]) at = t; dOut[last][at][j] = dlogit[j]; }
    }
    int[] pIndex = new int[nl];
    for (int l = 0, p = 0; l < nl; l++) { pIndex[l] = p; p += L[l].recurrent ? 2 : 1; }
    for (int l = nl - 1; l >= 0; l--) {
      Layer a = L[l];
      int n = a.n;
      double[] luN = new double[n], liN = new double[n], lrN = new double[n];
      double[] dW = g[pIndex[l]], dV = a.recurrent ? g[pIndex[l] + 1] : null;
      for (int t = T - 1; t >= 0; t--) {
        double[] lu = new double[n], li = new double[n], lr = new double[n];
        for (int j = 0; j < n; j++) {
          double u = U[l][t][j];
          if (!a.spiking) { lu[j] = dOut[l][t][j] + a.mem * luN[j]; li[j] = a.syn * liN[j] + a.memGain * luN[j]; continue; }
          double s = S[l][t][j];
          double dUdU, dUdS, dUdIn;
          if (a.reset == Layer.Reset.HARD_LEAK) { dUdU = a.mem * (1 - s); dUdS = -a.mem * u; dUdIn = a.memGain; }
          else if (a.reset == Layer.Reset.HARD) {
            dUdU = a.mem * (1 - s); dUdS = -(a.mem * u + a.memGain * (I[l][t][j] + (a.recurrent ? Ir[l][t][j] : 0))); dUdIn = a.memGain * (1 - s);
          } else { dUdU = a.mem; dUdS = -a.threshold; dUdIn = a.memGain; }
          double ls = dOut[l][t][j];
          if (a.recurrent) for (int k = 0; k < n; k++) ls += a.recGain * v[l][j * n + k] * lrN[k];
          if (!a.detachReset) ls += dUdS * luN[j];
          lu[j] = ls * a.surrogate.grad(u - a.threshold) + dUdU * luN[j];
          li[j] = a.syn * liN[j] + dUdIn * luN[j];
          lr[j] = a.rec * lrN[j] + dUdIn * luN[j];
        }
        double[] in = l == 0 ? x[t] : S[l - 1][t];
        for (int k = 0; k < a.nIn; k++) for (int j = 0; j < n; j++) dW[k * n + j] += a.inGain * in[k] * li[j];
        if (l > 0) for (int k = 0; k < a.nIn; k++) { double acc = 0; for (int j = 0; j < n; j++) acc += w[l][k * n + j] * li[j]; dOut[l - 1][t][k] += a.inGain * acc; }
        if (a.recurrent && t > 0) for (int k = 0; k < n; k++) for (int j = 0; j < n; j++) dV[k * n + j] += a.recGain * S[l][t - 1][k] * lr[j];
        luN = lu; liN = li; lrN = lr;
      }
    }
  }

  void setParam(int p, int idx, double val) {
    for (int l = 0, q = 0; l < L.length; l++) {
      if (q == p) { w[l][idx] = val; return; }
      q++;
      if (L[l].recurrent) { if (q == p) { v[l][idx] = val; return; } q++; }
    }
  }

  double getParam(int p, int idx) {
    for (int l = 0, q = 0; l < L.length; l++) {
      if (q == p) return w[l][idx];
      q++;
      if (L[l].recurrent) { if (q == p) return v[l][idx]; q++; }
    }
    throw new IllegalArgumentException();
  }
}
