package chive.core.model;

import chive.core.sim.ChiveException;

/**
 * Exact integration of linear (affine) ODE systems dx/dt = A x + b over one
 * step: x(t + dt) = M x(t) + c, where [[M, c], [0, 1]] = exp(dt·[[A, b], [0, 0]]).
 * The matrix exponential is computed in double precision by scaling and
 * squaring with a Taylor series (n is small: a model's state variables).
 */
public final class Affine {
  private Affine() {}

  /** Returns {M, c} as an (n) x (n + 1) matrix: columns 0..n-1 are M, column n is c. */
  public static double[][] step(double[][] a, double[] b, double dt) {
    int n = b.length;
    if (n == 1 && a[0].length == 1) {
      // One variable: exp directly (Math.exp is correctly rounded to within an ulp).
      double m = Math.exp(a[0][0] * dt);
      double c = a[0][0] == 0 ? b[0] * dt : b[0] / a[0][0] * (m - 1);
      return new double[][] {{m, c}};
    }
    int m = n + 1;
    double[][] g = new double[m][m];
    double norm = 0;
    for (int i = 0; i < n; i++) {
      if (a[i].length != n) throw new ChiveException("affine system: row " + i + " of A has " + a[i].length + " entries, not " + n);
      double row = 0;
      for (int j = 0; j < n; j++) {
        g[i][j] = a[i][j] * dt;
        row += Math.abs(g[i][j]);
      }
      g[i][n] = b[i] * dt;
      row += Math.abs(g[i][n]);
      norm = Math.max(norm, row);
      for (double v : g[i]) {
        if (!Double.isFinite(v)) throw new ChiveException("affine system: coefficient " + v + " in row " + i);
      }
    }
    int squarings = Math.max(0, (int) Math.ceil(Math.log(Math.max(norm, 1e-300) / 0.25) / Math.log(2)));
    double scale = Math.pow(2, -squarings);
    for (double[] row : g) for (int j = 0; j < m; j++) row[j] *= scale;
    // exp(g) by Taylor to 20 terms (|g| <= 0.25: error far below double rounding).
    double[][] result = identity(m), term = identity(m);
    for (int k = 1; k <= 20; k++) {
      term = times(term, g);
      for (double[] row : term) for (int j = 0; j < m; j++) row[j] /= k;
      for (int i = 0; i < m; i++) for (int j = 0; j < m; j++) result[i][j] += term[i][j];
    }
    for (int s = 0; s < squarings; s++) result = times(result, result);
    double[][] out = new double[n][m];
    for (int i = 0; i < n; i++) System.arraycopy(result[i], 0, out[i], 0, m);
    return out;
  }

  private static double[][] identity(int m) {
    double[][] r = new double[m][m];
    for (int i = 0; i < m; i++) r[i][i] = 1;
    return r;
  }

  private static double[][] times(double[][] x, double[][] y) {
    int m = x.length;
    double[][] r = new double[m][m];
    for (int i = 0; i < m; i++) {
      for (int k = 0; k < m; k++) {
        double xik = x[i][k];
        if (xik == 0) continue;
        for (int j = 0; j < m; j++) r[i][j] += xik * y[k][j];
      }
    }
    return r;
  }
}
