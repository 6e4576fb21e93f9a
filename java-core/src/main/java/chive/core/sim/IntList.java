package chive.core.sim;

import java.util.Arrays;

/** A growable int array (no boxing). Not thread-safe: one writer. */
public final class IntList {
  private int[] a;
  private int size;

  public IntList(int capacity) { a = new int[Math.max(4, capacity)]; }
  public IntList() { this(16); }

  public void add(int v) {
    if (size == a.length) a = Arrays.copyOf(a, a.length + (a.length >> 1) + 1);
    a[size++] = v;
  }

  public void addAll(int[] src, int from, int count) {
    if (size + count > a.length) a = Arrays.copyOf(a, Math.max(size + count, a.length + (a.length >> 1) + 1));
    System.arraycopy(src, from, a, size, count);
    size += count;
  }

  public int get(int i) { return a[i]; }
  public int size() { return size; }
  public void clear() { size = 0; }
  /** The backing array; valid entries are [0, size()). */
  public int[] raw() { return a; }
  public int[] toArray() { return Arrays.copyOf(a, size); }
}
