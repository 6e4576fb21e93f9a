package chive.core.sim;

import java.util.Arrays;

/** A growable float array (no boxing). Not thread-safe: one writer. */
public final class FloatList {
  private float[] a;
  private int size;

  public FloatList(int capacity) { a = new float[Math.max(4, capacity)]; }

  public void add(float v) {
    if (size == a.length) a = Arrays.copyOf(a, a.length + (a.length >> 1) + 1);
    a[size++] = v;
  }

  public float get(int i) { return a[i]; }
  public int size() { return size; }
  public void clear() { size = 0; }
  public float[] toArray() { return Arrays.copyOf(a, size); }
}
