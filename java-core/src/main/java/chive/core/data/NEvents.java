package chive.core.data;

import chive.core.learn.Dataset;
import chive.core.sim.ChiveException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Event-camera recordings in the binary format of N-MNIST and N-Caltech101
 * (Orchard et al. 2015): one file per sample, 5 bytes (40 bits) per event,
 * big-endian: bits 39-32 the x address, 31-24 the y address, bit 23 the
 * polarity (0 OFF, 1 ON), bits 22-0 the timestamp in microseconds.
 */
public final class NEvents {
  /** Pixel addresses, polarity (0 or 1) and timestamp (µs) of each event, in file order. */
  public final int[] x, y, p, t;

  public NEvents(int[] x, int[] y, int[] p, int[] t) {
    if (y.length != x.length || p.length != x.length || t.length != x.length) {
      throw new ChiveException("events: x, y, p and t must have one entry per event, got " + x.length + ", " + y.length + ", " + p.length + ", " + t.length);
    }
    for (int k = 0; k < x.length; k++) {
      if (x[k] < 0 || x[k] > 255 || y[k] < 0 || y[k] > 255) throw new ChiveException("event " + k + ": address (" + x[k] + ", " + y[k] + ") is outside 0..255");
      if (p[k] != 0 && p[k] != 1) throw new ChiveException("event " + k + ": polarity must be 0 or 1, got " + p[k]);
      if (t[k] < 0 || t[k] >= 1 << 23) throw new ChiveException("event " + k + ": timestamp " + t[k] + " us is outside 0.." + ((1 << 23) - 1) + " (23 bits)");
    }
    this.x = x; this.y = y; this.p = p; this.t = t;
  }

  public int size() { return x.length; }

  /** Reads one sample's file; a length that is not a whole number of 5-byte events is refused. */
  public static NEvents read(Path file) throws IOException {
    long len = Files.size(file);
    if (len % 5 != 0) throw new ChiveException(file + ": " + len + " bytes is not a whole number of 5-byte events (truncated or not an N-MNIST/N-Caltech101 file?)");
    if (len / 5 > Integer.MAX_VALUE - 8) throw new ChiveException(file + ": " + len / 5 + " events is too many for one sample");
    byte[] b = Files.readAllBytes(file);
    int n = b.length / 5;
    int[] x = new int[n], y = new int[n], p = new int[n], t = new int[n];
    for (int k = 0, o = 0; k < n; k++, o += 5) {
      x[k] = b[o] & 0xFF;
      y[k] = b[o + 1] & 0xFF;
      p[k] = (b[o + 2] & 0x80) >>> 7;
      t[k] = ((b[o + 2] & 0x7F) << 16) | ((b[o + 3] & 0xFF) << 8) | (b[o + 4] & 0xFF);
    }
    return new NEvents(x, y, p, t);
  }

  /**
   * Augmentation: every event moved by (dx, dy) pixels; events that leave the
   * width × height sensor are dropped (as a shifted camera would not see them).
   */
  public NEvents shifted(int dx, int dy, int width, int height) {
    int n = 0;
    int[] nx = new int[size()], ny = new int[size()], np = new int[size()], nt = new int[size()];
    for (int k = 0; k < size(); k++) {
      int a = x[k] + dx, b = y[k] + dy;
      if (a < 0 || b < 0 || a >= width || b >= height) continue;
      nx[n] = a; ny[n] = b; np[n] = p[k]; nt[n++] = t[k];
    }
    return new NEvents(java.util.Arrays.copyOf(nx, n), java.util.Arrays.copyOf(ny, n), java.util.Arrays.copyOf(np, n),
        java.util.Arrays.copyOf(nt, n));
  }

  /**
   * Augmentation: every timestamp moved by Gaussian noise of standard
   * deviation {@code sdUs} µs, rounded, and clamped to the format's range
   * [0, 2^23 - 1]; the events are then in time order again.
   */
  public NEvents jittered(double sdUs, java.util.SplittableRandom rng) {
    if (!(sdUs >= 0) || Double.isInfinite(sdUs)) throw new ChiveException("time jitter must be a finite standard deviation >= 0 us, got " + sdUs);
    long[] key = new long[size()];
    for (int k = 0; k < size(); k++) {
      double u1 = 1 - rng.nextDouble(), u2 = rng.nextDouble();
      double g = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      long tt = Math.max(0, Math.min((1 << 23) - 1, Math.round(t[k] + sdUs * g)));
      key[k] = (tt << 32) | k;
    }
    java.util.Arrays.sort(key);
    int[] nx = new int[size()], ny = new int[size()], np = new int[size()], nt = new int[size()];
    for (int q = 0; q < size(); q++) {
      int k = (int) key[q];
      nx[q] = x[k]; ny[q] = y[k]; np[q] = p[k]; nt[q] = (int) (key[q] >>> 32);
    }
    return new NEvents(nx, ny, np, nt);
  }

  /** Writes these events in the same format (the inverse of {@link #read}). */
  public void write(Path file) throws IOException {
    byte[] b = new byte[5 * x.length];
    for (int k = 0, o = 0; k < x.length; k++, o += 5) {
      b[o] = (byte) x[k];
      b[o + 1] = (byte) y[k];
      b[o + 2] = (byte) ((p[k] << 7) | (t[k] >>> 16));
      b[o + 3] = (byte) (t[k] >>> 8);
      b[o + 4] = (byte) t[k];
    }
    Files.write(file, b);
  }

  /**
   * Bins samples into a dataset of binary spikes: an event at pixel (x, y)
   * with polarity p at t µs is unit p·width·height + y·width + x (or
   * y·width + x when {@code polarity} is false: both polarities on one unit)
   * in step floor(t / (dtMs·1000)); several events of one unit in one step make
   * one spike; events in steps &gt;= {@code steps} are dropped. An address
   * outside width × height is an error naming the sample and the event.
   */
  public static Dataset bin(List<NEvents> samples, int[] labels, int classes, int width, int height, boolean polarity,
                            double dtMs, int steps, String description) {
    if (!(dtMs > 0) || Double.isInfinite(dtMs)) throw new ChiveException("event binning: dt must be a positive number of ms, got " + dtMs);
    if (width <= 0 || height <= 0 || steps <= 0) throw new ChiveException("event binning: width, height and steps must be > 0, got " + width + ", " + height + ", " + steps);
    if (samples.size() != labels.length) throw new ChiveException("event binning: " + samples.size() + " samples but " + labels.length + " labels");
    int units = (polarity ? 2 : 1) * width * height;
    double binUs = dtMs * 1000;
    int[][] unit = new int[samples.size()][], step = new int[samples.size()][];
    for (int s = 0; s < samples.size(); s++) {
      NEvents e = samples.get(s);
      unit[s] = new int[e.size()];
      step[s] = new int[e.size()];
      for (int k = 0; k < e.size(); k++) {
        if (e.x[k] >= width || e.y[k] >= height) {
          throw new ChiveException("sample " + s + ", event " + k + ": address (" + e.x[k] + ", " + e.y[k] + ") is outside the "
              + width + " x " + height + " sensor");
        }
        unit[s][k] = (polarity ? e.p[k] * width * height : 0) + e.y[k] * width + e.x[k];
        // at most steps (dropped by fromEvents), so that it fits an int whatever dt is
        step[s][k] = (int) Math.min(Math.floor(e.t[k] / binUs), steps);
      }
    }
    return Dataset.fromEvents(units, steps, unit, step, labels, classes, description, true);
  }
}
