package chive.core.sim;

import java.util.Arrays;

/** A growable double array (no boxing). Not thread-safe: one writer. */
public final class DoubleList {
  private double[] a;
  private int size;

  public DoubleList(int capacity) { a = new double[Math.max(4, capacity)]; }

  public void add(double v) {
    if (size == a.length) a = Arrays.copyOf(a, a.length + (a.length >> 1) + 1);
    a[size++] = v;
  }

  public double get(int i) { return a[i]; }
  public int size() { return size; }
  public void clear() { size = 0; }
  public double[] toArray() { return Arrays.copyOf(a, size); }
}
